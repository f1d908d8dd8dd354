"""PostgreSQL's CPU per statement for a task read and the 20-task list, as two checkouts
compile them, interleaved on one database (bench/statement_cpu.sh).

    statement_cpu.py statements CHECKOUT   prints that checkout's two statements, as JSON
    statement_cpu.py compare BEFORE NOW    a user with 20 tasks (made through this checkout's
                                           app), then rounds of 300 runs of each statement,
                                           summing the backend's CPU ticks from /proc

A change to what the app asks of PostgreSQL is measured here, where the app's own work does
not blur it: the server's share of a request is a fifth to a third of its CPU on one machine.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

ROUNDS, RUNS = 15, 300


def statements(checkout: str) -> dict:
    """The checkout's read of one task and its default list page, with their literal binds."""
    sys.path.insert(0, checkout)
    from todo import create_app
    from todo.extensions import db
    from todo.tasks.listing import page_shape

    try:  # where that commit keeps it
        from todo.tasks.reads import READ_TASK
    except ImportError:
        from todo.tasks.store import READ_TASK

    try:  # the owner's page, where a member's has a shape of its own
        page = page_shape("created_at", False, (), False, False)
    except TypeError:
        page = page_shape("created_at", False, (), False)
    with create_app().app_context():
        compiled = {
            "get": READ_TASK.compile(dialect=db.engine.dialect),
            "list": page.compile(dialect=db.engine.dialect),
        }
    # Each as that commit's app sends it: alone since the statement bound is the server's
    # (todo/postgresql.py), after a `SET LOCAL statement_timeout` in the same message before.
    alone = (Path(checkout) / "todo" / "postgresql.py").exists()
    prefix = "" if alone else "SET LOCAL statement_timeout = 30000; "
    return {
        kind: {
            "sql": f"{prefix}{statement.string}",
            "literals": {k: v for k, v in statement.params.items() if v is not None},
        }
        for kind, statement in compiled.items()
    }


def a_user_with_tasks() -> dict:
    """The parameters of a signed-in user's statements, with 20 tasks made through the app."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from flask_jwt_extended import decode_token

    from todo import create_app

    app = create_app()
    client = app.test_client()
    account = {"email": f"{uuid.uuid4().hex}@example.com", "password": "password123"}
    client.post("/api/auth/signup", json=account)
    login = client.post("/api/auth/login", json=account).get_json()
    auth = {"Authorization": f"Bearer {login['token']}"}
    for n in range(20):
        task = client.post(
            f"/api/{login['user_id']}/tasks", json={"title": f"Task {n}"}, headers=auth
        )
    with app.app_context():
        claims = decode_token(login["token"])
    return {
        "owner": login["user_id"],
        "generation": claims["gen"],
        "jti": claims["jti"],
        "task_id": task.get_json()["id"],
        "limit": 21,
    }


def compare(before: str, now: str) -> None:
    import psycopg2

    checkouts = {"before": before, "now": now}
    compiled = {
        side: json.loads(
            subprocess.check_output([sys.executable, __file__, "statements", checkout])
        )
        for side, checkout in checkouts.items()
    }
    parameters = a_user_with_tasks()
    connection = psycopg2.connect(os.environ["DATABASE_URL"])
    connection.autocommit = True
    cursor = connection.cursor()
    cursor.execute("SELECT pg_backend_pid()")
    stat = f"/proc/{cursor.fetchone()[0]}/stat"

    def ticks() -> int:
        with open(stat) as process:
            fields = process.read().split()
        return int(fields[13]) + int(fields[14])

    spent = {}
    for _ in range(ROUNDS):
        for kind in ("get", "list"):
            for side in checkouts:
                statement = compiled[side][kind]
                values = {**statement["literals"], **parameters}
                cursor.execute(statement["sql"], values)
                assert cursor.fetchall(), (side, kind)
                start = ticks()
                for _ in range(RUNS):
                    cursor.execute(statement["sql"], values)
                    cursor.fetchall()
                spent[kind, side] = spent.get((kind, side), 0) + ticks() - start
    tick_us = 1_000_000 / os.sysconf("SC_CLK_TCK")
    print("statement before_us now_us now/before")
    for kind in ("get", "list"):
        before_us, now_us = (spent[kind, side] * tick_us / (ROUNDS * RUNS) for side in checkouts)
        print(f"{kind} {before_us:.0f} {now_us:.0f} {now_us / before_us:.2f}")


if __name__ == "__main__":
    if sys.argv[1] == "statements":
        print(json.dumps(statements(sys.argv[2])))
    else:
        compare(sys.argv[2], sys.argv[3])
