"""Health blueprint: liveness for the process, readiness for the database, for load balancers."""

from flask import request
from flask_smorest import abort
from sqlalchemy import text

from .blueprint import Blueprint
from .extensions import db
from .schemas import StatusSchema

blp = Blueprint("health", __name__, description="Liveness and readiness probes")

READINESS_TIMEOUT_MS = 2000
# Set by the serving worker (server/worker.py) while it drains before a stop.
DRAINING = "todo.draining"


@blp.route("/healthz", methods=["GET"])
@blp.doc(security=[])
@blp.response(200, StatusSchema, description="The process is alive; no database is asked.")
def liveness():
    """Alive: answers as long as the process serves requests."""
    return {"status": "ok"}


@blp.route("/readyz", methods=["GET"])
@blp.doc(security=[])
@blp.response(200, StatusSchema, description="The database answered.")
@blp.problems(503)
def readiness():
    """Ready: the database answers a `SELECT 1` within a short timeout (else 503); 503 too
    while this server drains before it stops, so the load balancer takes it out of rotation."""
    if request.environ.get(DRAINING):
        abort(503, message="The server is shutting down.", headers={"Retry-After": "5"})
    db.session.execute(
        text("SELECT 1"), execution_options={"statement_timeout_ms": READINESS_TIMEOUT_MS}
    )
    return {"status": "ok"}
