"""Health blueprint: liveness for the process, readiness for the database, for load balancers."""

from flask import current_app, request
from marshmallow import Schema, fields

from . import schema
from .blueprint import Blueprint
from .errors import problem


class StatusSchema(Schema):
    status = fields.String(dump_only=True, required=True, metadata={"example": "ok"})


class ReadinessSchema(StatusSchema):
    revision = fields.String(
        dump_only=True,
        required=True,
        metadata={"example": "0005", "description": "The database's migration revision"},
    )


blp = Blueprint("health", __name__, description="Liveness and readiness probes")

# Set by the serving worker (server/worker.py) while it drains before a stop.
DRAINING = "todo.draining"
RETRY_AFTER = {"Retry-After": "5"}


@blp.route("/healthz", methods=["GET"])
@blp.public
@blp.response(200, StatusSchema, description="The process is alive; no database is asked.")
def liveness():
    """Alive: answers as long as the process serves requests."""
    return {"status": "ok"}


@blp.route("/readyz", methods=["GET"])
@blp.public
@blp.response(200, ReadinessSchema, description="The database answered, at the code's schema.")
@blp.problems(503)
def readiness():
    """Ready: the database answers within 2 s and its schema is at the migration this code
    needs (else 503, saying which); 503 too while this server drains before it stops, so
    the load balancer takes it out of rotation."""
    if request.environ.get(DRAINING):
        return problem(503, "The server is shutting down.", RETRY_AFTER)
    wrong = schema.mismatch()
    if wrong is not None:
        detail, revision = wrong
        return problem(503, detail, RETRY_AFTER, revision=revision)
    return {"status": "ok", "revision": current_app.extensions["schema_head"]}
