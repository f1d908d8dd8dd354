"""Health blueprint: liveness for the process, readiness for the database, for load balancers."""

from sqlalchemy import text

from .blueprint import Blueprint
from .database import transaction
from .extensions import db
from .schemas import StatusSchema

blp = Blueprint("health", __name__, description="Liveness and readiness probes")

READINESS_TIMEOUT_MS = 2000


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
    """Ready: the database answers a `SELECT 1` within a short timeout (else 503)."""
    with transaction():  # SET LOCAL holds only inside a transaction
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(f"SET LOCAL statement_timeout = {READINESS_TIMEOUT_MS}"))
        db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
