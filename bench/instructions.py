"""The driver of bench/instructions.sh: serves requests of one scenario to the app in this
process, straight through its WSGI callable (no server, no client), between two gate files,
so that callgrind counts the instructions of those requests alone.

    python bench/instructions.py <scenario> <requests> <gate>

Scenarios: `get` (a task read), `list20` and `list100` (the lists of 20 and 100 tasks), `put`
(a PUT of a task's title and description), `toggle` (PATCH .../complete) and `create` (a POST
of a new task, beside 20), and a list of
20 tasks shared with a member, read by its owner (`owner20`) and by the member (`member20`),
/api/<owner>/tasks?list_id=<the list>, and the feed poll of a member of 10 lists of 10
owners with nothing new (`feed10`: /api/<member>/changes?since=<where a sync ended>).
Run from the checkout to measure (its `wsgi:app`), with the production settings the script
exports. Signs up and fills its users on first use (the database is the script's, fresh).
Exits with CANNOT_RUN where the checkout has no sharing (or a feed that follows owners).
"""

import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, os.getcwd())

from wsgi import app  # the checkout's, from the working directory

WARM_UP = 30  # requests served before the gate: caches filled, statements compiled
TASKS = {"get": 20, "list20": 20, "list100": 100, "put": 20, "toggle": 20, "create": 20}
CANNOT_RUN = 3  # the exit status for a scenario this checkout has no routes for
PUT_BODY = b'{"title": "put", "description": "A task replaced"}'
CREATE_BODY = b'{"title": "create", "description": "A task created"}'
client = app.test_client()


def signed_in(name: str) -> tuple[str, str]:
    """The token and user id of a new user."""
    credentials = {"email": f"{name}@example.com", "password": "password123"}
    client.post("/api/auth/signup", json=credentials)
    login = client.post("/api/auth/login", json=credentials).get_json()
    return login["token"], login["user_id"]


def created(token: str, user_id: str, tasks: int, **fields) -> str:
    """The last id of `tasks` new tasks of the user."""
    headers = {"Authorization": f"Bearer {token}"}
    for number in range(tasks):
        body = {"title": f"Task {number}", "description": f"About task {number}", **fields}
        last = client.post(f"/api/{user_id}/tasks", json=body, headers=headers).get_json()["id"]
    return last


def shared(owner_token: str, owner_id: str, email: str, member_token: str, member_id: str) -> str:
    """The id of a new list of the owner's, shared with the member (invited and accepted)."""
    owner = {"Authorization": f"Bearer {owner_token}"}
    list_id = client.post(f"/api/{owner_id}/lists", json={"name": "Shared"}, headers=owner)
    list_id = list_id.get_json()["id"]
    invited = client.post(
        f"/api/{owner_id}/lists/{list_id}/invitations",
        json={"email": email, "role": "editor"},
        headers=owner,
    )
    if invited.status_code == 404:
        sys.exit(CANNOT_RUN)
    member = {"Authorization": f"Bearer {member_token}"}
    invitation = client.get(f"/api/{member_id}/invitations", headers=member).get_json()[-1]
    client.post(f"/api/{member_id}/invitations/{invitation['id']}/accept", headers=member)
    return list_id


def member_feed() -> tuple[str, str, str]:
    """The token, path and query string of a member's empty poll, a member of 10 owners'
    lists (a task in each) synced to now."""
    member_token, member_id = signed_in("feed-member")
    for number in range(10):
        token, user_id = signed_in(f"feed-owner{number}")
        list_id = shared(token, user_id, "feed-member@example.com", member_token, member_id)
        created(token, user_id, 1, list_id=list_id)
    member = {"Authorization": f"Bearer {member_token}"}
    page = client.get(f"/api/{member_id}/changes", headers=member).get_json()
    if len(page["lists"]) != 10:
        sys.exit(CANNOT_RUN)  # a feed that does not follow the owners
    return member_token, f"/api/{member_id}/changes", f"since={page['next']}"


def user_with_tasks(scenario: str) -> tuple[str, str, str]:
    """The token, path and query string of the scenario's requests, with its users and tasks."""
    if scenario == "feed10":
        return member_feed()
    token, user_id = signed_in(scenario)
    if scenario not in ("owner20", "member20"):
        last = created(token, user_id, TASKS[scenario])
        task = {"get": f"/{last}", "put": f"/{last}", "toggle": f"/{last}/complete"}
        return token, f"/api/{user_id}/tasks" + task.get(scenario, ""), ""
    member_token, member_id = signed_in("member")
    list_id = shared(token, user_id, "member@example.com", member_token, member_id)
    created(token, user_id, 20, list_id=list_id)
    reader = token if scenario == "owner20" else member_token
    return reader, f"/api/{user_id}/tasks", f"list_id={list_id}"


def main(scenario: str, requests: int, gate: Path) -> None:
    token, path, query = user_with_tasks(scenario)
    method = {"put": "PUT", "toggle": "PATCH", "create": "POST"}.get(scenario, "GET")
    body = {"PUT": PUT_BODY, "POST": CREATE_BODY}.get(method, b"")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
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
    if body:
        environ.update(CONTENT_TYPE="application/json", CONTENT_LENGTH=str(len(body)))
    statuses = []

    def start_response(status, _headers, _exc_info=None):
        statuses.append(status)

    def serve_one() -> None:
        answer = app({**environ, "wsgi.input": io.BytesIO(body)}, start_response)
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
    if set(statuses) != {"201 CREATED" if method == "POST" else "200 OK"}:
        sys.exit(f"answers other than expected: {set(statuses)}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))
