"""The OpenAPI document as its users use it: a Python client generated from it at test time
(openapi-python-client) walking the API against real gunicorn, and a TypeScript one
(openapi-typescript + openapi-fetch) whose walkthrough must compile under tsc --strict."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from config import TestingConfig
from tests.node import CLIENTS, installed, npm
from tests.servers import PASSWORD
from todo import create_app

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
NAME = "todo_client"


def operation(name: str):
    """The generated module of one operation, e.g. `tasks.list_tasks`."""
    return importlib.import_module(f"{NAME}.api.{name}")


@pytest.fixture
def generated(database_url, servers, tmp_path, monkeypatch):
    """(the generated package, the server): the client made from the server's own document."""
    server = servers(database_url)
    status, _, document = server.call("GET", "/openapi.json")
    assert status == 200
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    # The generator formats its output with ruff, found on PATH.
    env = {**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ['PATH']}"}
    made = subprocess.run(
        [GENERATOR, "generate", "--path", "openapi.json", "--meta", "none", "--output-path", NAME],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    assert "Warning" not in made.stdout, made.stdout
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [name for name in sys.modules if name.startswith(NAME)]:
        del sys.modules[name]
    return importlib.import_module(NAME), server


def test_a_generated_python_client_walks_the_api(generated):
    package, server = generated
    models = importlib.import_module(f"{NAME}.models")
    signup, login, read_me = (operation(f"auth.{name}") for name in ("signup", "login", "read_me"))
    task_operations = ("create", "list", "read", "update", "toggle", "delete")
    create, listing, read, update, toggle, delete = (
        operation(f"tasks.{name}_task" if name != "list" else "tasks.list_tasks")
        for name in task_operations
    )
    base = f"http://127.0.0.1:{server.port}"
    with package.Client(base_url=base) as anonymous:
        credentials = models.Credentials(email="generated@example.com", password=PASSWORD)
        assert signup.sync_detailed(client=anonymous, body=credentials).status_code == 201
        body = models.Login(email="generated@example.com", password=PASSWORD)
        token = login.sync(client=anonymous, body=body)
    user_id = token.user_id
    # The prefix as the login answer spells it: "bearer".
    with package.AuthenticatedClient(
        base_url=base, token=token.token, prefix=token.token_type
    ) as client:
        assert read_me.sync(client=client).email == "generated@example.com"

        created = [
            create.sync(user_id, client=client, body=models.TaskInput(title=f"Task {n}"))
            for n in range(3)
        ]
        assert [task.title for task in created] == ["Task 0", "Task 1", "Task 2"]
        assert created[0].description is None
        once = models.TaskInput(title="Once")
        keyed = [
            create.sync_detailed(user_id, client=client, body=once, idempotency_key="k-1")
            for _ in range(2)
        ]
        assert keyed[0].parsed.id == keyed[1].parsed.id
        assert keyed[1].headers["Idempotent-Replayed"] == "true"

        newest_first = models.ListTasksSort.CREATED_AT_DESC
        first = listing.sync_detailed(user_id, client=client, limit=2, sort=newest_first)
        assert first.status_code == 200
        assert first.headers["X-Total-Count"] == "4"
        next_url = first.headers["Link"].split(";")[0].strip("<>")
        cursor = parse_qs(urlsplit(next_url).query)["cursor"][0]
        rest = listing.sync(user_id, client=client, limit=2, sort=newest_first, cursor=cursor)
        titles = [task.title for task in [*first.parsed, *rest]]
        assert titles == ["Once", "Task 2", "Task 1", "Task 0"]

        task_id = created[0].id
        etag = read.sync_detailed(user_id, task_id, client=client).headers["ETag"]
        renamed = update.sync_detailed(
            user_id, task_id, client=client, body=models.TaskChanges(title="Once"), if_match=etag
        )
        assert renamed.status_code == 200
        stale = update.sync_detailed(
            user_id, task_id, client=client, body=models.TaskChanges(title="Two"), if_match=etag
        )
        assert stale.status_code == 412
        assert stale.parsed.detail == "The task has changed since the ETag in If-Match."

        assert toggle.sync(user_id, task_id, client=client).completed is True
        reopen = models.Completion(completed=False)
        assert toggle.sync(user_id, task_id, client=client, body=reopen).completed is False

        assert delete.sync_detailed(user_id, task_id, client=client).status_code == 204
        gone = read.sync_detailed(user_id, task_id, client=client)
        assert gone.status_code == 404
        assert gone.parsed.detail == "Task not found"


def test_a_typescript_client_generated_from_the_document_type_checks(tmp_path):
    """openapi-typescript makes the types, and a front end's walkthrough compiles against them
    under `tsc --strict` (tests/clients/typescript/walkthrough.ts): optional fields are
    optional, answers' fields are present, errors are problems."""
    typescript = installed(CLIENTS / "typescript")
    app = create_app(TestingConfig(f"sqlite:///{tmp_path / 'document.db'}"))
    (typescript / "openapi.json").write_text(app.test_client().get("/openapi.json").get_data(True))
    generated = npm(
        typescript, "exec", "--", "openapi-typescript", "openapi.json", "-o", "schema.d.ts"
    )
    assert generated.returncode == 0, generated.stderr
    checked = npm(typescript, "exec", "--", "tsc", "-p", "tsconfig.json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
