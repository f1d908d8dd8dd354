"""Tasks blueprint: a user's own tasks, with ownership enforced in every query."""

import uuid

from flask import request, url_for
from flask_jwt_extended import current_user, verify_jwt_in_request
from flask_smorest import abort
from sqlalchemy import delete, not_, select, update

from .blueprint import Blueprint
from .extensions import db
from .models import Task, utcnow
from .schemas import TaskInputSchema, TaskSchema

blp = Blueprint(
    "tasks", __name__, url_prefix="/api/<uuid:user_id>/tasks", description="A user's own tasks"
)

TASK_NOT_FOUND = "Task not found."


@blp.before_request
def require_url_user():
    """Every task route: a valid token (401), whose user is the URL's user (403)."""
    if request.method == "OPTIONS":
        return
    verify_jwt_in_request()
    if current_user.id != request.view_args["user_id"]:
        abort(403, message="The token does not belong to this user.")


def owned(statement, task_id: uuid.UUID):
    """Narrow a statement to one task of the current user: another user's task is not found."""
    return statement.where(Task.user_id == current_user.id, Task.id == task_id)


def one_or_404(statement) -> Task:
    task = db.session.scalar(statement)
    if task is None:
        abort(404, message=TASK_NOT_FOUND)
    return task


@blp.route("", methods=["GET"])
@blp.response(200, TaskSchema(many=True))
@blp.problems(401, 403, 503)
def list_tasks(user_id):
    """List the user's tasks, oldest first."""
    return db.session.scalars(
        select(Task).where(Task.user_id == current_user.id).order_by(Task.created_at, Task.id)
    )


@blp.route("", methods=["POST"])
@blp.arguments(TaskInputSchema)
@blp.response(201, TaskSchema)
@blp.problems(400, 401, 403, 413, 415, 503)
def create_task(fields, user_id):
    """Create a task; its `created_at` and `updated_at` are the same instant."""
    now = utcnow()
    task = Task(user_id=current_user.id, created_at=now, updated_at=now, **fields)
    db.session.add(task)
    db.session.commit()
    location = url_for("tasks.read_task", user_id=user_id, task_id=task.id)
    return task, {"Location": location}


@blp.route("/<uuid:task_id>", methods=["GET"])
@blp.response(200, TaskSchema)
@blp.problems(401, 403, 404, 503)
def read_task(user_id, task_id):
    """Read one task."""
    return one_or_404(owned(select(Task), task_id))


@blp.route("/<uuid:task_id>", methods=["PUT"])
@blp.arguments(TaskInputSchema)
@blp.response(200, TaskSchema)
@blp.problems(400, 401, 403, 404, 413, 415, 503)
def replace_task(fields, user_id, task_id):
    """Replace a task's title and description (an omitted description becomes null).

    `completed` changes only when it is sent.
    """
    task = one_or_404(
        owned(update(Task), task_id).values(**fields, updated_at=utcnow()).returning(Task)
    )
    db.session.commit()
    return task


@blp.route("/<uuid:task_id>", methods=["DELETE"])
@blp.response(204)
@blp.problems(401, 403, 404, 503)
def delete_task(user_id, task_id):
    """Delete a task."""
    one_or_404(owned(delete(Task), task_id).returning(Task.id))
    db.session.commit()


@blp.route("/<uuid:task_id>/complete", methods=["PATCH"])
@blp.response(200, TaskSchema)
@blp.problems(401, 403, 404, 503)
def toggle_task(user_id, task_id):
    """Flip `completed`, in one atomic statement: N concurrent toggles flip it N times."""
    task = one_or_404(
        owned(update(Task), task_id)
        .values(completed=not_(Task.completed), updated_at=utcnow())
        .returning(Task)
    )
    db.session.commit()
    return task
