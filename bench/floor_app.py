"""The stack's floor: the task API's routes with nothing of this app's own, for bench/bench.sh.

What every request of the real app cannot do without: Flask routing a request, a
Flask-SQLAlchemy session running one statement, marshmallow dumping the rows, jsonify, under
gunicorn gthread (2 workers x 4 threads). Nothing else: the token is the user id in clear (no
JWT, no revocation check), no ETags, logs, request ids, CORS, throttling or input validation.
Never serve it: it only shows what the fixed stack costs by itself on this machine.
    DATABASE_URL=postgresql+psycopg2://... gunicorn -k gthread -w 2 --threads 4 floor_app:app
"""

import os
import uuid

from flask import Flask, abort, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from marshmallow import Schema, fields
from sqlalchemy import text

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"isolation_level": "AUTOCOMMIT"}
db = SQLAlchemy(app)

# Ids as text, as the app reads them (todo/tasks/models.py: TASK_ROW): the floor takes every
# saving the app does.
COLUMNS = "id::text, user_id::text, title, description, completed, created_at, updated_at"
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
TOGGLE = text(
    "UPDATE tasks SET completed = NOT completed, updated_at = now(), version = version + 1 "
    f"{OWNED} RETURNING {COLUMNS}"
)
DELETE = text(f"DELETE FROM tasks {OWNED} RETURNING id")


class TaskSchema(Schema):
    id = fields.String()
    user_id = fields.String()
    title = fields.String()
    description = fields.String(allow_none=True)
    completed = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


TASK, TASKS = TaskSchema(), TaskSchema(many=True)


def run(statement, **parameters):
    return db.session.execute(statement, parameters)


def owner(user_id: uuid.UUID) -> dict:
    """401 without a token, 403 for another user's; the token is the user id itself."""
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if not token:
        abort(401)
    if token != str(user_id):
        abort(403)
    return {"user_id": user_id}


def one_task(row):
    return jsonify(TASK.dump(row)) if row is not None else abort(404)


@app.post("/api/auth/signup")
def signup():
    body = request.get_json()
    user_id = run(SIGNUP, id=uuid.uuid4(), email=body["email"]).scalar()
    return jsonify(user_id=str(user_id)), 201


@app.post("/api/auth/login")
def login():
    user_id = str(run(LOGIN, email=request.get_json()["email"]).scalar() or abort(401))
    return jsonify(user_id=user_id, token=user_id)


@app.get("/api/<uuid:user_id>/tasks")
def list_tasks(user_id):
    return jsonify(TASKS.dump(run(LIST, **owner(user_id)).all()))


@app.post("/api/<uuid:user_id>/tasks")
def create_task(user_id):
    body = request.get_json()
    task = run(
        CREATE,
        **owner(user_id),
        task_id=uuid.uuid4(),
        title=body["title"],
        description=body.get("description"),
    ).first()
    return jsonify(TASK.dump(task)), 201


@app.get("/api/<uuid:user_id>/tasks/<uuid:task_id>")
def get_task(user_id, task_id):
    return one_task(run(GET, **owner(user_id), task_id=task_id).first())


@app.put("/api/<uuid:user_id>/tasks/<uuid:task_id>")
def replace_task(user_id, task_id):
    body = request.get_json()
    fields_sent = {"title": body["title"], "description": body.get("description")}
    return one_task(run(REPLACE, **owner(user_id), task_id=task_id, **fields_sent).first())


@app.patch("/api/<uuid:user_id>/tasks/<uuid:task_id>/complete")
def toggle_task(user_id, task_id):
    return one_task(run(TOGGLE, **owner(user_id), task_id=task_id).first())


@app.delete("/api/<uuid:user_id>/tasks/<uuid:task_id>")
def delete_task(user_id, task_id):
    run(DELETE, **owner(user_id), task_id=task_id).first() or abort(404)
    return "", 204
