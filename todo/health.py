"""Health blueprint: liveness for the process, readiness for the database, for load balancers."""

from flask import current_app, request
from marshmallow import Schema, fields

from . import schema
from .blueprint import Blueprint
from .errors import PROBLEM_MIMETYPE, ProblemSchema, problem, problem_example
from .openapi import RETRY_AFTER as RETRY_AFTER_HEADER


class StatusSchema(Schema):
    status = fields.String(dump_only=True, required=True, metadata={"example": "ok"})


# The newest migration, for the examples (tests/test_docs.py checks it is migrations/' head).
REVISION_EXAMPLE = "0023"


class ReadinessSchema(StatusSchema):
    revision = fields.String(
        dump_only=True,
        required=True,
        metadata={"example": REVISION_EXAMPLE, "description": "The database's migration revision"},
    )


class NotReadySchema(ProblemSchema):
    """Why this server is not ready: a problem, with the database's revision when its schema
    is not the one the code needs."""

    revision = fields.String(
        allow_none=True,
        metadata={
            "description": "The database's migration revision (null: never migrated), when "
            "its schema is not the one this code needs"
        },
    )


NOT_READY_EXAMPLES = {
    "behind": problem_example(
        503,
        f"The database schema is at revision 0014; this code needs {REVISION_EXAMPLE}: run "
        "`flask db upgrade`.",
        "The database's schema is behind the code",
        revision="0014",
    ),
    "unmigrated": problem_example(
        503,
        f"The database has no schema; this code needs revision {REVISION_EXAMPLE}: run "
        "`flask db upgrade`.",
        "The database has no schema",
        revision=None,
    ),
    "draining": problem_example(503, "The server is shutting down."),
    "unavailable": problem_example(503, "The database is unavailable; try again shortly."),
}


blp = Blueprint("health", __name__, description="Liveness and readiness probes")

# Set by the serving worker (server/worker.py) while it drains before a stop.
DRAINING = "todo.draining"
RETRY_AFTER = {"Retry-After": "5"}


@blp.route("/healthz", methods=["GET"])
@blp.public
@blp.response(200, StatusSchema, description="The process is alive; no database is asked.")
def liveness():
    """Liveness: the process serves requests.

    Answers as long as the process serves requests; no database is asked.
    """
    return {"status": "ok"}


@blp.route("/readyz", methods=["GET"])
@blp.public
@blp.response(200, ReadinessSchema, description="The database answered, at the code's schema.")
@blp.alt_response(
    503,
    schema=NotReadySchema,
    content_type=PROBLEM_MIMETYPE,
    description="Not ready: the database does not answer, or not at the code's schema, or "
    "the server drains",
    examples=NOT_READY_EXAMPLES,
    headers={"Retry-After": RETRY_AFTER_HEADER},
)
def readiness():
    """Readiness: the database answers, at the schema this code needs.

    The database must answer within 2 s and its schema be at the migration this code needs
    (else 503, saying which revision it has); 503 too while this server drains before it
    stops, so the load balancer takes it out of rotation.
    """
    if request.environ.get(DRAINING):
        return problem(503, "The server is shutting down.", RETRY_AFTER)
    wrong = schema.mismatch()
    if wrong is not None:
        detail, revision = wrong
        return problem(503, detail, RETRY_AFTER, revision=revision)
    return {"status": "ok", "revision": current_app.extensions["schema_head"]}
