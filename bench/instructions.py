"""The driver of bench/instructions.sh: serves requests of one scenario to the app in this
process, straight through its WSGI callable (no server, no client), between two gate files,
so that callgrind counts the instructions of those requests alone.

    python bench/instructions.py <get|list20|list100> <requests> <gate>

Run from the checkout to measure (its `wsgi:app`), with the production settings the script
exports. Signs up and fills its user on first use (the database is the script's, fresh).
"""

import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, os.getcwd())

from wsgi import app  # the checkout's, from the working directory

WARM_UP = 30  # requests served before the gate: caches filled, statements compiled
TASKS = {"get": 20, "list20": 20, "list100": 100}


def user_with_tasks(scenario: str) -> tuple[str, str, str]:
    """The token, user id and last task id of the scenario's user, with its tasks."""
    client = app.test_client()
    credentials = {"email": f"{scenario}@example.com", "password": "password123"}
    client.post("/api/auth/signup", json=credentials)
    login = client.post("/api/auth/login", json=credentials).get_json()
    headers = {"Authorization": f"Bearer {login['token']}"}
    tasks_url = f"/api/{login['user_id']}/tasks"
    for number in range(TASKS[scenario]):
        body = {"title": f"Task {number}", "description": f"About task {number}"}
        last = client.post(tasks_url, json=body, headers=headers).get_json()["id"]
    return login["token"], login["user_id"], last


def main(scenario: str, requests: int, gate: Path) -> None:
    token, user_id, last_task = user_with_tasks(scenario)
    path = f"/api/{user_id}/tasks" + (f"/{last_task}" if scenario == "get" else "")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "4000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:4000",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    statuses = []

    def start_response(status, _headers, _exc_info=None):
        statuses.append(status)

    def serve_one() -> None:
        answer = app({**environ, "wsgi.input": io.BytesIO()}, start_response)
        b"".join(answer)
        answer.close()

    for _ in range(WARM_UP):
        serve_one()
    gate.with_suffix(".ready").touch()
    while not gate.with_suffix(".go").exists():
        time.sleep(0.05)
    for _ in range(requests):
        serve_one()
    gate.with_suffix(".done").touch()
    while not gate.with_suffix(".end").exists():
        time.sleep(0.05)
    if set(statuses) != {"200 OK"}:
        sys.exit(f"answers other than 200: {set(statuses)}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))
