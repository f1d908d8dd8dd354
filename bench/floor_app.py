"""The stack's floor: the task API's routes with nothing of this app's own, for bench/bench.sh.

What every request of the real app cannot do without, at its fastest, giving the same task
answers: Flask routing a request, one Core statement over the app's own tasks table on a
pooled connection of Flask-SQLAlchemy's engine (no ORM session), the row the app's reads
select (todo/tasks/models.py: ANSWER_ROW, timestamps printed by the database), statements
run as the app runs them (compiled once, on the DBAPI cursor: todo/compiled_statements.py),
the app's encoder (todo/serializer.py over its TaskSchema), JSON provider and JSON column
reading (orjson), under gunicorn gthread (2 workers x 2 threads, as the app). Nothing else:
the token is the user id in clear (no JWT, no revocation check), no ETags, logs, request ids, CORS,
throttling, input validation, change feed bookkeeping of its own (the database's triggers
run, as for the app) or paging. Never serve it: it only shows what the fixed stack costs by
itself on this machine.
    DATABASE_URL=postgresql+psycopg2://... gunicorn -k gthread -w 2 --threads 2 floor_app:app
"""

import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, abort, request
from flask_sqlalchemy import SQLAlchemy
from orjson import loads
from sqlalchemy import Uuid, bindparam, case, insert, not_, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the app's own modules

from todo.database import decode_names_in_c, run_alone
from todo.json_provider import OrjsonProvider
from todo.tasks.models import ANSWER_ROW, tasks
from todo.tasks.schemas import TaskSchema

app = Flask(__name__)
app.json = OrjsonProvider(app)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
# As the app's engine: autocommit, and JSON columns (reminders, labels) read by orjson.
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
    "isolation_level": "AUTOCOMMIT",
    "json_deserializer": loads,
}
db = SQLAlchemy(app)
decode_names_in_c()  # as the app: column names decoded by the C codec

SIGNUP = text(
    "INSERT INTO users (id, email, password_hash, created_at) "
    "VALUES (:id, :email, 'floor', now()) RETURNING id"
)
LOGIN = text("SELECT id FROM users WHERE email = :email")
# Named apart from the columns (an UPDATE reserves a column's name for its SET clause).
USER_ID, TASK_ID = bindparam("owner", type_=Uuid), bindparam("task_id", type_=Uuid)
MINE = (tasks.c.user_id == USER_ID, tasks.c.deleted_at.is_(None))
OWNED = (*MINE, tasks.c.id == TASK_ID)
NOW = bindparam("now")
CREATE = (
    insert(tasks)
    .values(
        id=TASK_ID,
        user_id=USER_ID,
        title=bindparam("title"),
        description=bindparam("description"),
        completed=False,
        created_at=NOW,
        updated_at=NOW,
    )
    .returning(*ANSWER_ROW)
)
LIST = select(*ANSWER_ROW).where(*MINE).order_by(tasks.c.created_at, tasks.c.id).limit(100)
GET = select(*ANSWER_ROW).where(*OWNED)
REPLACE = (
    update(tasks)
    .where(*OWNED)
    .values(
        title=bindparam("new_title"),
        description=bindparam("new_description"),
        updated_at=NOW,
        version=tasks.c.version + 1,
    )
    .returning(*ANSWER_ROW)
)
# completed_at goes with completed (the tasks table's check), the time bound (no volatile
# function inside CASE).
TOGGLE = (
    update(tasks)
    .where(*OWNED)
    .values(
        completed=not_(tasks.c.completed),
        completed_at=case((tasks.c.completed, None), else_=NOW),
        updated_at=NOW,
        version=tasks.c.version + 1,
    )
    .returning(*ANSWER_ROW)
)
DELETE = update(tasks).where(*OWNED).values(deleted_at=NOW, updated_at=NOW).returning(tasks.c.id)
TASK, TASKS = TaskSchema(), TaskSchema(many=True)


def run(statement, **parameters) -> list:
    """One statement's rows, as the app runs a statement of its own outside a transaction."""
    return run_alone(db.engine, statement, parameters)


def first(statement, **parameters):
    rows = run(statement, **parameters)
    return rows[0] if rows else None


def owner(user_id: uuid.UUID) -> dict:
    """401 without a token, 403 for another user's; the token is the user id itself."""
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if not token:
        abort(401)
    if token != str(user_id):
        abort(403)
    return {"owner": user_id}


def one_task(row):
    return TASK.dump(row) if row is not None else abort(404)


@app.post("/api/auth/signup")
def signup():
    body = request.get_json()
    user_id = first(SIGNUP, id=uuid.uuid4(), email=body["email"])[0]
    return {"user_id": str(user_id)}, 201


@app.post("/api/auth/login")
def login():
    found = first(LOGIN, email=request.get_json()["email"]) or abort(401)
    return {"user_id": str(found[0]), "token": str(found[0])}


@app.get("/api/<uuid:user_id>/tasks")
def list_tasks(user_id):
    return app.json.response(TASKS.dump(run(LIST, **owner(user_id))))


@app.post("/api/<uuid:user_id>/tasks")
def create_task(user_id):
    body = request.get_json()
    task = first(
        CREATE,
        **owner(user_id),
        task_id=uuid.uuid4(),
        title=body["title"],
        description=body.get("description"),
        now=datetime.now(UTC),
    )
    return TASK.dump(task), 201


@app.get("/api/<uuid:user_id>/tasks/<uuid:task_id>")
def get_task(user_id, task_id):
    return one_task(first(GET, **owner(user_id), task_id=task_id))


@app.put("/api/<uuid:user_id>/tasks/<uuid:task_id>")
def replace_task(user_id, task_id):
    body = request.get_json()
    fields_sent = {"new_title": body["title"], "new_description": body.get("description")}
    now = datetime.now(UTC)
    return one_task(first(REPLACE, **owner(user_id), task_id=task_id, now=now, **fields_sent))


@app.patch("/api/<uuid:user_id>/tasks/<uuid:task_id>/complete")
def toggle_task(user_id, task_id):
    now = datetime.now(UTC)
    return one_task(first(TOGGLE, **owner(user_id), task_id=task_id, now=now))


@app.delete("/api/<uuid:user_id>/tasks/<uuid:task_id>")
def delete_task(user_id, task_id):
    now = datetime.now(UTC)
    first(DELETE, **owner(user_id), task_id=task_id, now=now) or abort(404)
    return "", 204
