"""`flask todo deliver` as it runs in production: processes of their own on one PostgreSQL
database. One killed (SIGKILL) in the middle of a delivery loses nothing: another takes the
endpoint over when the lease ends and sends the same message again; two at once never send
one endpoint two messages at the same time, nor one message twice."""

import os
import signal
import subprocess
import sys
import time

import pytest

from config import TestingConfig
from tests.servers import ROOT
from tests.webhook_receiver import Receiver
from todo import create_app
from todo.extensions import db

SETTINGS = {
    "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
    "WEBHOOK_RETRY_SCHEDULE": "0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2",
    "WEBHOOK_POLL_SECONDS": "0.05",
    "WEBHOOK_TIMEOUT": "3",
    "WEBHOOK_LEASE_SECONDS": "4",
}


@pytest.fixture
def api(database_url):
    """The app in this process, on the test's own database, to make changes through."""
    config = TestingConfig(database_url)
    config.WEBHOOK_ALLOWED_NETWORKS = SETTINGS["WEBHOOK_ALLOWED_NETWORKS"]
    app = create_app(config)
    yield app.test_client()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def deliverers(database_url, tmp_path):
    """Start `flask todo deliver` processes; each is killed after the test."""
    started, logs = [], []

    def start() -> subprocess.Popen:
        env = {
            **os.environ,
            "APP_ENV": "production",
            "DATABASE_URL": database_url,
            "JWT_SECRET_KEY": TestingConfig.secret(None),
            **SETTINGS,
        }
        log = (tmp_path / f"deliver-{len(started)}.log").open("w")
        logs.append(log)
        started.append(
            subprocess.Popen(
                [sys.executable, "-m", "flask", "todo", "deliver"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        return started[-1]

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()
    for log in logs:
        log.close()


@pytest.fixture
def receivers():
    made = []

    def make() -> Receiver:
        made.append(Receiver())
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def signed_in(api) -> tuple[str, dict]:
    credentials = {"email": "deliver@example.com", "password": "password123"}
    assert api.post("/api/auth/signup", json=credentials).status_code == 201
    login = api.post("/api/auth/login", json=credentials).get_json()
    return login["user_id"], {"Authorization": f"Bearer {login['token']}"}


def register(api, user_id, headers, receiver) -> None:
    made = api.post(f"/api/{user_id}/webhooks", json={"url": receiver.url}, headers=headers)
    assert made.status_code == 201
    receiver.secret = made.get_json()["secret"]


def create(api, user_id, headers, titles) -> None:
    for title in titles:
        answer = api.post(f"/api/{user_id}/tasks", json={"title": title}, headers=headers)
        assert answer.status_code == 201


def test_a_delivery_process_killed_mid_delivery_loses_nothing(api, deliverers, receivers):
    user_id, headers = signed_in(api)
    receiver = receivers()
    register(api, user_id, headers, receiver)
    receiver.stall = 2  # the first message is in flight when its sender is killed
    create(api, user_id, headers, ["first"])
    first = deliverers()
    receiver.wait_for(lambda: receiver.in_flight == 1)
    first.send_signal(signal.SIGKILL)
    first.wait()
    receiver.wait_for(lambda: receiver.in_flight == 0)
    receiver.stall = 0
    create(api, user_id, headers, [f"t{n}" for n in range(10)])
    deliverers()
    titles = ["first", *(f"t{n}" for n in range(10))]
    receiver.wait_for(lambda: receiver.task_titles() == titles, seconds=60)
    assert receiver.duplicates == 1  # the message in flight when its sender died, sent again
    assert receiver.out_of_order == receiver.refused_signatures == 0


def test_a_receiver_failing_for_a_while_gets_every_change_in_order(api, deliverers, receivers):
    user_id, headers = signed_in(api)
    receiver = receivers()
    register(api, user_id, headers, receiver)
    receiver.fail_with = 500
    deliverers()
    create(api, user_id, headers, ["a", "b"])
    receiver.wait_for(lambda: receiver.received >= 3)
    create(api, user_id, headers, ["c"])
    receiver.fail_with = None
    receiver.wait_for(lambda: receiver.task_titles() == ["a", "b", "c"], seconds=60)
    assert receiver.out_of_order == receiver.duplicates == 0


def test_two_delivery_processes_never_deliver_one_attempt_twice_at_once(api, deliverers, receivers):
    user_id, headers = signed_in(api)
    hooks = [receivers() for _ in range(3)]
    for receiver in hooks:
        register(api, user_id, headers, receiver)
        receiver.stall = 0.05
    deliverers(), deliverers()
    titles = []
    for round_ in range(8):
        batch = [f"r{round_}-{n}" for n in range(3)]
        create(api, user_id, headers, batch)
        titles += batch
        time.sleep(0.1)
    for receiver in hooks:
        receiver.wait_for(lambda receiver=receiver: receiver.task_titles() == titles, seconds=60)
        assert receiver.most_in_flight == 1
        assert receiver.duplicates == receiver.out_of_order == 0


def test_a_ping_is_sent_by_a_delivery_process_and_logged(api, deliverers, receivers):
    """The request that asks for the ping answers before anything reaches the endpoint (one
    that would stall 30 s); a `flask todo deliver` process sends it, and the log shows it."""
    user_id, headers = signed_in(api)
    receiver = receivers()
    register(api, user_id, headers, receiver)
    [endpoint] = api.get(f"/api/{user_id}/webhooks", headers=headers).get_json()
    one = f"/api/{user_id}/webhooks/{endpoint['id']}"
    receiver.stall = 30
    asked = api.post(f"{one}/ping", headers=headers)
    assert asked.status_code == 202 and receiver.received == 0
    message_id = asked.get_json()["message_id"]
    receiver.stall = 0
    deliverers()

    def logged() -> list[dict]:
        return api.get(f"{one}/attempts", headers=headers).get_json()

    receiver.wait_for(lambda: logged() != [], seconds=60)
    [attempt] = logged()
    assert (attempt["message_id"], attempt["status"], attempt["error"]) == (message_id, 204, None)
    assert [m["type"] for m in receiver.messages] == ["ping"] and receiver.received == 1
