"""The OpenAPI document as its users use it: a Python client generated from it at test time
(openapi-python-client) walking the API against real gunicorn, and a TypeScript one
(openapi-typescript + openapi-fetch) whose walkthrough must compile under tsc --strict."""

import importlib
import importlib.util
import json
import os
import re
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
MYPY = Path(sys.executable).with_name("mypy")
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


WALKTHROUGH = CLIENTS / "python" / "walkthrough.py"


def test_a_python_walkthrough_type_checks_and_runs(generated, tmp_path):
    """tests/clients/python/walkthrough.py, as a client's own code: `mypy --strict` finds no
    error in it (the generated package's own are its generator's), and against the server
    it reads each due form, recurrence, reminders, labels, a batch of every op and the feed."""
    _, server = generated
    env = {**os.environ, "MYPYPATH": str(tmp_path)}
    mypy = [MYPY, "--strict", "--follow-imports=silent", "--cache-dir", str(tmp_path / ".mypy")]
    checked = subprocess.run(
        [*mypy, str(WALKTHROUGH)], env=env, capture_output=True, text=True, timeout=300
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    loaded = importlib.util.spec_from_file_location("walkthrough", WALKTHROUGH)
    walkthrough = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(walkthrough)
    assert walkthrough.walkthrough(f"http://127.0.0.1:{server.port}") == [
        *("all day 2026-12-24", "FREQ=WEEKLY;INTERVAL=2 from due, done 0x", "home", "in Home"),
        *("2026-12-24 18:30, wherever I am", "2026-12-24 17:00:00+00:00"),
        *(
            "2026-12-24 18:30 in Europe/Paris (2026-12-24T17:30:00+00:00)",
            "2026-12-24 17:00:00+00:00",
        ),
        *(
            "2026-12-24 18:30 in Europe/Paris (2026-12-24T17:30:00+00:00)",
            "2026-12-24 17:00:00+00:00",
        ),
        "200 then 304",
        "all day 2026-12-24",
        *(
            "FREQ=WEEKLY;INTERVAL=2 from completion, done 0x",
            "FREQ=WEEKLY;INTERVAL=2 from completion, done 1x",
        ),
        *("home x1", "house"),
        *("201 Batch", "200 Batch", "200 Replaced", "200 Replaced", "204 -", "200 Replaced"),
        "5 tasks, then 0 changed",
    ]


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


def test_the_typescript_walkthrough_narrows_without_casts():
    """What the document says is all the narrowing a client needs: no `as` cast, no `any`,
    no non-null `!` in the walkthrough's code (its comments aside)."""
    code = (CLIENTS / "typescript" / "walkthrough.ts").read_text()
    code = re.sub(r"//[^\n]*|/\*.*?\*/", "", code, flags=re.DOTALL)
    assert not re.search(r"\bas\b|\bany\b|[=(,:]\s*<\w", code), "a cast or an any"
    assert not re.search(r"[\w)\]]!(?!=)", code), "a non-null assertion"
