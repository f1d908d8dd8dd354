"""Imports too large for their request (a file over IMPORT_INLINE_BYTES, with Redis) run as
jobs of `flask todo work` processes: the POST answers 202 at once and writes nothing; the
job's URL tells how it stands and, once a worker ran it, exactly what the POST would have
answered (the report, or the problem: of a good file, a preview, every hostile file of
test_hostile_imports, a token revoked in the meantime). On SQLite, PostgreSQL and through
PgBouncer, and once through real gunicorn beside a long-running worker."""

import os
import subprocess
import sys
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
import redis

from config import TestingConfig
from tests.conftest import PASSWORD, assert_problem
from tests.servers import ROOT, sign_in, wait_for
from tests.tcp_proxy import free_port
from tests.test_due import listed
from tests.test_hostile_imports import HOSTILE, MISLEADING

CSV = "text/csv"
# 300 rows: about 2 KiB, over the 1 KiB these tests import inline.
ROWS = "title,priority\r\n" + "".join(f"Task {n},{n % 4}\r\n" for n in range(300))


@pytest.fixture
def queued(make_app, redis_url):
    """The app with an import queue on the test's Redis (a key prefix of this test's own),
    importing files over 1 KiB as jobs."""

    def make(**settings):
        return make_app(
            **{
                "RATELIMIT_STORAGE_URI": redis_url,
                "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex[:12]}:",
                "IMPORT_INLINE_BYTES": 1024,
                **settings,
            }
        )

    return make


def work(app, **settings) -> subprocess.CompletedProcess:
    """`flask todo work --burst` on the app's database and queue: every waiting import run."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "todo", "work", "--burst"],
        cwd=ROOT,
        env={**worker_env(app.config), **settings},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done


def worker_env(config) -> dict:
    return {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "JWT_SECRET_KEY": TestingConfig.secret(None),
        "RATELIMIT_STORAGE_URI": config["RATELIMIT_STORAGE_URI"],
        "RATELIMIT_KEY_PREFIX": config["RATELIMIT_KEY_PREFIX"],
    }


def sent(client, user, body, content_type=CSV, preview=False):
    path = "imports/preview" if preview else "imports"
    return client.post(
        f"/api/{user['user_id']}/{path}",
        data=body if isinstance(body, bytes) else body.encode(),
        content_type=content_type,
        headers=user["headers"],
    )


def accepted(client, user, body, content_type=CSV, preview=False) -> str:
    """The POST's 202: the job waits, nothing is written; its URL."""
    answer = sent(client, user, body, content_type, preview)
    assert answer.status_code == 202, answer.get_data(as_text=True)[:500]
    job = answer.get_json()
    assert answer.headers["Location"] == f"/api/{user['user_id']}/imports/{job['id']}"
    assert answer.headers["Retry-After"] == "1"
    assert job["state"] == "queued" and job["preview"] is preview
    assert job["started_at"] is None and "status" not in job
    return answer.headers["Location"]


def ended(client, user, location) -> dict:
    answer = client.get(location, headers=user["headers"])
    assert answer.status_code == 200, answer.get_json()
    job = answer.get_json()
    assert job["state"] == "finished", job
    assert "Retry-After" not in answer.headers
    started, finished = (
        datetime.fromisoformat(job[name]) for name in ("started_at", "finished_at")
    )
    assert started <= finished
    return job


def test_a_large_file_is_imported_by_a_job_as_its_request_would_have(
    queued, make_user, client, user
):
    app = queued()
    jobs = app.test_client()
    owner = {**user}
    location = accepted(jobs, owner, ROWS)
    waiting = jobs.get(location, headers=owner["headers"])
    assert waiting.get_json()["state"] == "queued" and waiting.headers["Retry-After"] == "1"
    assert listed(client, owner) == []

    work(app)
    job = ended(jobs, owner, location)
    assert job["status"] == 200 and job["report"]["counts"]["created"] == 300
    assert sorted(task["title"] for task in listed(client, owner)) == sorted(
        f"Task {n}" for n in range(300)
    )
    inline = sent(client, make_user("inline@example.com"), ROWS)  # the app without a queue
    assert inline.status_code == 200 and inline.get_json() == job["report"]


def test_a_large_preview_is_a_job_that_writes_nothing(queued, client, user):
    app = queued()
    location = accepted(app.test_client(), user, ROWS, preview=True)
    work(app)
    job = ended(app.test_client(), user, location)
    assert job["preview"] is True and job["status"] == 200
    assert job["report"]["applied"] is False and job["report"]["counts"]["created"] == 300
    assert listed(client, user) == []


def test_every_hostile_file_gets_from_its_job_what_its_request_answers(
    queued, make_user, client, user
):
    """Each file of test_hostile_imports sent as a job: its answer is the request's own
    problem, found within 2 s of the job's start, and nothing is written."""
    app = queued(IMPORT_INLINE_BYTES=0, IMPORT_JOBS_PER_USER=100)
    files = {name: HOSTILE[name] for name in HOSTILE} | {
        name: MISLEADING[name][:2] for name in MISLEADING
    }
    locations = {name: accepted(app.test_client(), user, *files[name]) for name in files}
    work(app)
    inline_user = make_user("inline@example.com")
    for name, (body, content_type) in files.items():
        job = ended(app.test_client(), user, locations[name])
        request_answer = sent(client, inline_user, body, content_type)
        assert job["status"] == request_answer.status_code == 422, name
        assert job["problem"] == request_answer.get_json(), name
        took = datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(
            job["started_at"]
        )
        assert took.total_seconds() < 2, (name, took)
    assert listed(client, user) == [] and listed(client, inline_user) == []


def test_an_import_whose_token_was_revoked_before_it_ran_answers_401(queued, client, user):
    app = queued()
    jobs = app.test_client()
    location = accepted(jobs, user, ROWS)
    assert client.post("/api/auth/logout", headers=user["headers"]).status_code == 204
    work(app)
    login = client.post("/api/auth/login", json={"email": "test@example.com", "password": PASSWORD})
    again = {**user, "headers": {"Authorization": f"Bearer {login.get_json()['token']}"}}
    job = ended(jobs, again, location)
    assert job["status"] == 401 and job["problem"]["status"] == 401
    assert listed(client, again) == []


def test_a_job_whose_worker_broke_says_so_and_wrote_nothing(queued, client, user, tmp_path):
    """A worker that cannot run the import (here: pointed at a database with no schema)
    leaves the job `failed`, a 500 problem that says to send the file again."""
    app = queued()
    jobs = app.test_client()
    location = accepted(jobs, user, ROWS)
    (tmp_path / "empty.db").touch()
    work(app, DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")
    answer = jobs.get(location, headers=user["headers"])
    job = answer.get_json()
    assert job["state"] == "failed" and job["status"] == 500, job
    assert job["problem"]["type"] == "/problems/import-stopped"
    assert "Send the file again" in job["problem"]["detail"]
    assert "Retry-After" not in answer.headers
    assert listed(client, user) == []
    assert kept_files(app) == []  # deleted when its job ended, failed or not


def kept_files(app) -> list[bytes]:
    connection = redis.Redis.from_url(app.config["RATELIMIT_STORAGE_URI"])
    return connection.keys(app.config["RATELIMIT_KEY_PREFIX"] + "import-file:*")


def test_a_job_is_its_users_alone(queued, user, other_user):
    jobs = queued().test_client()
    location = accepted(jobs, user, ROWS)
    assert_problem(jobs.get(location, headers=other_user["headers"]), 403)
    theirs = location.replace(user["user_id"], other_user["user_id"])
    assert_problem(jobs.get(theirs, headers=other_user["headers"]), 404)
    unknown = f"/api/{user['user_id']}/imports/{uuid.uuid4()}"
    assert_problem(jobs.get(unknown, headers=user["headers"]), 404)


def test_a_user_has_at_most_three_imports_waiting(queued, user):
    app = queued()
    jobs = app.test_client()
    for _ in range(3):
        accepted(jobs, user, ROWS)
    refused = sent(jobs, user, ROWS)
    problem = assert_problem(refused, 429)
    assert refused.headers["Retry-After"] == "5" and "At most 3 imports" in problem["detail"]
    work(app)
    accepted(jobs, user, ROWS)


def test_imports_sent_at_once_still_wait_three_at_most(queued, user):
    """Eight POSTs at the same moment: the count and the place are taken together, so
    exactly three wait."""
    jobs = queued().test_client()
    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(lambda _: sent(jobs, user, ROWS).status_code, range(8)))
    assert statuses == [202] * 3 + [429] * 5


def test_a_queue_that_does_not_answer_is_a_503_to_retry(make_app, user):
    app = make_app(
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0", IMPORT_INLINE_BYTES=1024
    )
    jobs = app.test_client()
    posted = sent(jobs, user, ROWS)
    asked = jobs.get(f"/api/{user['user_id']}/imports/{uuid.uuid4()}", headers=user["headers"])
    for answer in (posted, asked):
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
        assert answer.content_type == "application/problem+json"
        assert answer.get_json()["type"] == "/problems/queue-unavailable"


def test_a_small_file_is_still_imported_in_its_request(queued, client, user):
    small = "title\r\nOne\r\n"
    answer = sent(queued().test_client(), user, small)
    assert answer.status_code == 200 and answer.get_json()["counts"]["created"] == 1


def test_a_list_that_is_not_the_users_is_a_404_before_anything_waits(queued, user):
    jobs = queued().test_client()
    answer = jobs.post(
        f"/api/{user['user_id']}/imports?list_id={uuid.uuid4()}",
        data=ROWS,
        content_type=CSV,
        headers=user["headers"],
    )
    assert_problem(answer, 404)


def test_the_worker_refuses_to_start_without_redis(app):
    env = {**worker_env({**app.config, "RATELIMIT_STORAGE_URI": "memory://"})}
    done = subprocess.run(
        [sys.executable, "-m", "flask", "todo", "work", "--burst"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "RATELIMIT_STORAGE_URI is memory://" in done.stderr


def test_through_gunicorn_a_running_worker_imports_the_file(
    database_url, servers, redis_url, tmp_path
):
    """As in production: gunicorn answers 202, a `flask todo work` process beside it (not
    in burst mode) imports the file, and the job's URL says so."""
    server = servers(
        database_url,
        RATELIMIT_STORAGE_URI=redis_url,
        RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex[:12]}:",
        IMPORT_INLINE_BYTES="1024",
    )
    with (tmp_path / "work.log").open("w") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "todo", "work"],
            cwd=ROOT,
            env=server.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            user_id, headers = sign_in(server)
            request = urllib.request.Request(
                f"http://127.0.0.1:{server.port}/api/{user_id}/imports",
                data=ROWS.encode(),
                method="POST",
                headers={**headers, "Content-Type": CSV},
            )
            with urllib.request.urlopen(request, timeout=10) as answer:
                assert answer.status == 202
                location = answer.headers["Location"]

            def finished() -> bool:
                return server.call("GET", location, headers=headers)[2]["state"] == "finished"

            wait_for(finished, seconds=120)
            job = server.call("GET", location, headers=headers)[2]
            assert job["status"] == 200 and job["report"]["counts"]["created"] == 300
        finally:
            worker.terminate()
            assert worker.wait(30) == 0
