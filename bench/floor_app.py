"""The stack's floor: the task API's routes with nothing of this app's own, for bench/bench.sh.

What every request of the real app cannot do without, at its fastest: Flask routing a
request, one Core statement on a pooled connection of Flask-SQLAlchemy's engine (no ORM
session), the timestamps printed by the database, the app's own encoder
(todo/serializer.py) and JSON provider (orjson), under gunicorn gthread (2 workers x 4
threads). Nothing else: the token is the user id in clear (no JWT, no revocation check), no
ETags, logs, request ids, CORS, throttling or input validation. Never serve it: it only shows
what the fixed stack costs by itself on this machine.
    DATABASE_URL=postgresql+psycopg2://... gunicorn -k gthread -w 2 --threads 4 floor_app:app
"""

import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, abort, request
from flask_sqlalchemy import SQLAlchemy
from marshmallow import fields
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the app's own modules

from todo.fields import UTCTimestamp
from todo.json_provider import OrjsonProvider
from todo.serializer import EncodedSchema

app = Flask(__name__)
app.json = OrjsonProvider(app)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"isolation_level": "AUTOCOMMIT"}
db = SQLAlchemy(app)

# Ids as text and timestamps as answer text, as the app reads them (todo/tasks/models.py:
# ANSWER_ROW): the floor takes every saving the app does.
STAMP = """to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
COLUMNS = (
    "id::text, user_id::text, title, description, completed, "
    f"{STAMP.format('created_at')} AS created_at, {STAMP.format('updated_at')} AS updated_at"
)
OWNED = "WHERE id = :task_id AND user_id = :user_id"
SIGNUP = text(
    "INSERT INTO users (id, email, password_hash, created_at) "
    "VALUES (:id, :email, 'floor', now()) RETURNING id"
)
LOGIN = text("SELECT id FROM users WHERE email = :email")
CREATE = text(
    "INSERT INTO tasks (id, user_id, title, description, completed, created_at, updated_at) "
    "VALUES (:task_id, :user_id, :title, :description, false, now(), now()) "
    f"RETURNING {COLUMNS}"
)
LIST = text(f"SELECT {COLUMNS} FROM tasks WHERE user_id = :user_id ORDER BY created_at, id")
GET = text(f"SELECT {COLUMNS} FROM tasks {OWNED}")
REPLACE = text(
    "UPDATE tasks SET title = :title, description = :description, updated_at = now(), "
    f"version = version + 1 {OWNED} RETURNING {COLUMNS}"
)
# completed_at goes with completed (the tasks table's check); the time comes bound, as the
# app binds it (no volatile function inside CASE).
TOGGLE = text(
    "UPDATE tasks SET completed = NOT completed, updated_at = :now, version = version + 1, "
    "completed_at = CASE WHEN completed THEN NULL ELSE CAST(:now AS timestamptz) END "
    f"{OWNED} RETURNING {COLUMNS}"
)
DELETE = text(f"DELETE FROM tasks {OWNED} RETURNING id")


class TaskSchema(EncodedSchema):
    id = fields.String()
    user_id = fields.String()
    title = fields.String()
    description = fields.String(allow_none=True)
    completed = fields.Boolean()
    created_at = UTCTimestamp()
    updated_at = UTCTimestamp()


TASK, TASKS = TaskSchema(), TaskSchema(many=True)


def run(statement, **parameters) -> list:
    """One statement on a pooled connection of the engine's (autocommit), all its rows."""
    with db.engine.connect() as connection:
        return connection.execute(statement, parameters).all()


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
    return {"user_id": user_id}


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
    )
    return TASK.dump(task), 201


@app.get("/api/<uuid:user_id>/tasks/<uuid:task_id>")
def get_task(user_id, task_id):
    return one_task(first(GET, **owner(user_id), task_id=task_id))


@app.put("/api/<uuid:user_id>/tasks/<uuid:task_id>")
def replace_task(user_id, task_id):
    body = request.get_json()
    fields_sent = {"title": body["title"], "description": body.get("description")}
    return one_task(first(REPLACE, **owner(user_id), task_id=task_id, **fields_sent))


@app.patch("/api/<uuid:user_id>/tasks/<uuid:task_id>/complete")
def toggle_task(user_id, task_id):
    now = datetime.now(UTC)
    return one_task(first(TOGGLE, **owner(user_id), task_id=task_id, now=now))


@app.delete("/api/<uuid:user_id>/tasks/<uuid:task_id>")
def delete_task(user_id, task_id):
    first(DELETE, **owner(user_id), task_id=task_id) or abort(404)
    return "", 204
