"""Webhooks: endpoints registered, read, changed, rotated and deleted through the API; every
change delivered, signed, in order and once (as a receiver checking each message with the
`standardwebhooks` package sees them), through failures, retries and the switch-off."""

import socket
import threading
import time
import uuid

import pytest
from sqlalchemy import event, update

from tests.conftest import assert_problem
from tests.nameserver import Nameserver
from tests.test_distributable import statement_rule_breaks
from tests.webhook_receiver import Receiver
from todo.extensions import db
from todo.webhooks import delivery, sender
from todo.webhooks.models import endpoints

FAST_RETRIES = (0.05, 0.05, 0.05)


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def hooks_app(make_app):
    """The app, allowed to send to this machine's receivers, retrying at once."""
    return make_app(WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8", WEBHOOK_RETRY_SCHEDULE=FAST_RETRIES)


@pytest.fixture
def hooks_client(hooks_app):
    return hooks_app.test_client()


@pytest.fixture
def hooks_user(hooks_client):
    return signed_up(hooks_client, "hooks@example.com")


def signed_up(client, email: str) -> dict:
    credentials = {"email": email, "password": "password123"}
    assert client.post("/api/auth/signup", json=credentials).status_code == 201
    login = client.post("/api/auth/login", json=credentials).get_json()
    return {**login, "headers": {"Authorization": f"Bearer {login['token']}"}}


def webhooks_url(user) -> str:
    return f"/api/{user['user_id']}/webhooks"


def register(client, user, receiver, url: str | None = None, **fields) -> dict:
    made = client.post(
        webhooks_url(user), json={"url": url or receiver.url, **fields}, headers=user["headers"]
    )
    assert made.status_code == 201, made.get_json()
    receiver.secret = made.get_json()["secret"]
    return made.get_json()


def create_tasks(client, user, titles) -> None:
    for title in titles:
        made = client.post(
            f"/api/{user['user_id']}/tasks", json={"title": title}, headers=user["headers"]
        )
        assert made.status_code == 201


def deliver_until(app, condition, rounds: int = 200) -> None:
    """Run delivery rounds in this process until `condition()` holds."""
    settings = delivery.Settings.of(app.config)
    for _ in range(rounds):
        with app.app_context():
            delivery.deliver_round(settings)
        if condition():
            return
        delivery_pause()
    raise AssertionError("not delivered")


def delivery_pause() -> None:
    time.sleep(0.06)


def attempts_of(client, user, endpoint_id) -> list[dict]:
    log = f"{webhooks_url(user)}/{endpoint_id}/attempts"
    return client.get(log, headers=user["headers"]).get_json()


def timed_round(app) -> float:
    """Seconds one delivery round took, in this process."""
    started = time.monotonic()
    with app.app_context():
        delivery.deliver_round(delivery.Settings.of(app.config))
    return time.monotonic() - started


def test_register_shows_the_secret_once(client, user):
    url = webhooks_url(user)
    made = client.post(url, json={"url": "https://hooks.example.com/a"}, headers=user["headers"])
    assert made.status_code == 201
    body = made.get_json()
    assert body["secret"].startswith("whsec_") and body["enabled"] is True
    assert made.headers["Location"].endswith(f"/webhooks/{body['id']}")
    read = client.get(f"{url}/{body['id']}", headers=user["headers"]).get_json()
    assert "secret" not in read and read["url"] == "https://hooks.example.com/a"
    assert [each["id"] for each in client.get(url, headers=user["headers"]).get_json()] == [
        body["id"]
    ]
    rotated = client.post(f"{url}/{body['id']}/rotate", headers=user["headers"]).get_json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != body["secret"]


def test_change_filter_switch_off_and_delete(client, user):
    url = webhooks_url(user)
    made = client.post(
        url,
        json={"url": "https://hooks.example.com/a", "events": ["task"]},
        headers=user["headers"],
    ).get_json()
    assert made["events"] == ["task"]
    one = f"{url}/{made['id']}"
    changed = client.patch(one, json={"events": None, "enabled": False}, headers=user["headers"])
    assert changed.get_json()["events"] is None
    assert changed.get_json()["disabled_reason"] == "Disabled by its user."
    on = client.patch(one, json={"enabled": True}, headers=user["headers"]).get_json()
    assert on["enabled"] and on["disabled_reason"] is None
    assert client.delete(one, headers=user["headers"]).status_code == 204
    assert_problem(client.get(one, headers=user["headers"]), 404)


def test_another_users_endpoint_is_not_found(client, user, other_user):
    made = client.post(
        webhooks_url(user), json={"url": "https://hooks.example.com/a"}, headers=user["headers"]
    ).get_json()
    theirs = f"{webhooks_url(other_user)}/{made['id']}"
    assert_problem(client.get(theirs, headers=other_user["headers"]), 404)
    assert_problem(client.delete(theirs, headers=other_user["headers"]), 404)


def test_an_eleventh_endpoint_is_refused(client, user):
    for n in range(10):
        body = {"url": f"https://hooks.example.com/{n}"}
        assert (
            client.post(webhooks_url(user), json=body, headers=user["headers"]).status_code == 201
        )
    answer = client.post(
        webhooks_url(user), json={"url": "https://hooks.example.com/x"}, headers=user["headers"]
    )
    assert answer.status_code == 422
    assert answer.get_json()["type"] == "/problems/too-many-webhooks"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hooks",
        "http://localhost:8080/hooks",
        "http://[::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://0.0.0.0/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/hooks",
        "http://192.168.0.1/hooks",
        "http://[fe80::1]/hooks",
        "http://224.0.0.1/hooks",
        "http://[2002:7f00:1::]/hooks",
        "ftp://hooks.example.com/hooks",
        "http://user:pass@hooks.example.com/hooks",
        "http://hooks..example.com/hooks",
        "http://[64:ff9b::7f00:1]/hooks",
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hooks",
        "http://[::7f00:1]/hooks",
        "http://2130706433/hooks",
        "http://127.1/hooks",
    ],
)
def test_a_private_or_odd_target_is_refused_at_registration(client, user, url):
    answer = client.post(webhooks_url(user), json={"url": url}, headers=user["headers"])
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["type"] == "/problems/url-refused"


def test_every_change_arrives_once_in_order_through_failures(
    hooks_app, hooks_client, hooks_user, receiver
):
    register(hooks_client, hooks_user, receiver)
    create_tasks(hooks_client, hooks_user, [f"t{n}" for n in range(5)])
    receiver.fail_with = 500
    settings = delivery.Settings.of(hooks_app.config)
    with hooks_app.app_context():
        delivery.deliver_round(settings)
    assert receiver.received == 1 and receiver.pages() == []
    create_tasks(hooks_client, hooks_user, [f"t{n}" for n in range(5, 8)])
    receiver.fail_with = None
    deliver_until(hooks_app, lambda: len(receiver.task_titles()) == 8)
    assert receiver.task_titles() == [f"t{n}" for n in range(8)]
    assert receiver.refused_signatures == receiver.out_of_order == 0
    pages = receiver.pages()
    assert [page["sequence"] for page in pages] == list(range(1, len(pages) + 1))
    # the cursor a page ends at is a good cursor of the feed, with nothing after it
    feed = hooks_client.get(
        f"/api/{hooks_user['user_id']}/changes",
        query_string={"since": pages[-1]["next"]},
        headers=hooks_user["headers"],
    ).get_json()
    assert feed["tasks"] == []
    log = hooks_client.get(
        f"{webhooks_url(hooks_user)}/{receiver_endpoint(hooks_client, hooks_user)}/attempts",
        headers=hooks_user["headers"],
    ).get_json()
    assert [attempt["status"] for attempt in log][-1] == 500
    assert log[0]["status"] == 204 and log[0]["error"] is None


def receiver_endpoint(client, user) -> str:
    return client.get(webhooks_url(user), headers=user["headers"]).get_json()[0]["id"]


def test_an_event_filter_sends_only_its_kind(hooks_app, hooks_client, hooks_user, receiver):
    register(hooks_client, hooks_user, receiver, events=["list"])
    create_tasks(hooks_client, hooks_user, ["not sent"])
    lists = f"/api/{hooks_user['user_id']}/lists"
    hooks_client.post(lists, json={"name": "Home"}, headers=hooks_user["headers"])
    deliver_until(hooks_app, lambda: len(receiver.pages()) == 1)
    [page] = receiver.pages()
    assert page["tasks"] == [] and [each["name"] for each in page["lists"]] == ["Home"]


def test_an_endpoint_failing_every_retry_is_switched_off_with_the_reason(
    hooks_app, hooks_client, hooks_user, receiver
):
    made = register(hooks_client, hooks_user, receiver)
    receiver.fail_with = 503
    create_tasks(hooks_client, hooks_user, ["never"])
    one = f"{webhooks_url(hooks_user)}/{made['id']}"

    def switched_off():
        return not hooks_client.get(one, headers=hooks_user["headers"]).get_json()["enabled"]

    deliver_until(hooks_app, switched_off)
    endpoint = hooks_client.get(one, headers=hooks_user["headers"]).get_json()
    assert endpoint["disabled_reason"] == (
        f"Switched off after {len(FAST_RETRIES) + 1} failed attempts; the last: Answered 503."
    )
    assert receiver.received == len(FAST_RETRIES) + 1
    receiver.fail_with = None
    hooks_client.patch(one, json={"enabled": True}, headers=hooks_user["headers"])
    deliver_until(hooks_app, lambda: receiver.task_titles() == ["never"])


def test_a_ping_is_asked_for_then_sent_by_delivery_and_logged(
    hooks_app, hooks_client, hooks_user, receiver
):
    """The request answers at once (202) without reaching the endpoint; a delivery round
    sends the ping, signed, and logs it under the id the request answered."""
    made = register(hooks_client, hooks_user, receiver)
    one = f"{webhooks_url(hooks_user)}/{made['id']}"
    asked = hooks_client.post(f"{one}/ping", headers=hooks_user["headers"])
    assert asked.status_code == 202
    assert asked.headers["Location"] == f"{one}/attempts"
    message_id = asked.get_json()["message_id"]
    assert receiver.received == 0
    assert hooks_client.get(one, headers=hooks_user["headers"]).get_json()["pending_ping"] == (
        message_id
    )
    again = hooks_client.post(f"{one}/ping", headers=hooks_user["headers"]).get_json()
    assert again["message_id"] == message_id  # one ping waits at most
    deliver_until(hooks_app, lambda: receiver.received == 1)
    assert [m["type"] for m in receiver.messages] == ["ping"] and receiver.refused_signatures == 0
    assert receiver.messages[0]["data"] == {"endpoint_id": made["id"]}
    [logged] = attempts_of(hooks_client, hooks_user, made["id"])
    assert (logged["message_id"], logged["status"], logged["error"]) == (message_id, 204, None)
    assert hooks_client.get(one, headers=hooks_user["headers"]).get_json()["pending_ping"] is None


def test_a_switched_off_endpoint_is_sent_its_ping_and_nothing_else(
    hooks_app, hooks_client, hooks_user, receiver
):
    made = register(hooks_client, hooks_user, receiver)
    one = f"{webhooks_url(hooks_user)}/{made['id']}"
    hooks_client.patch(one, json={"enabled": False}, headers=hooks_user["headers"])
    create_tasks(hooks_client, hooks_user, ["kept back"])
    hooks_client.post(f"{one}/ping", headers=hooks_user["headers"])
    deliver_until(hooks_app, lambda: receiver.received == 1)
    timed_round(hooks_app)
    assert [m["type"] for m in receiver.messages] == ["ping"] and receiver.received == 1
    assert [each["status"] for each in attempts_of(hooks_client, hooks_user, made["id"])] == [204]


def test_a_rotated_secret_signs_the_next_message(hooks_app, hooks_client, hooks_user, receiver):
    made = register(hooks_client, hooks_user, receiver)
    one = f"{webhooks_url(hooks_user)}/{made['id']}"
    receiver.secret = hooks_client.post(f"{one}/rotate", headers=hooks_user["headers"]).get_json()[
        "secret"
    ]
    create_tasks(hooks_client, hooks_user, ["signed anew"])
    deliver_until(hooks_app, lambda: receiver.task_titles() == ["signed anew"])
    assert receiver.refused_signatures == 0


def test_a_url_beyond_ascii_is_sent_as_its_ascii_form(
    hooks_app, hooks_client, hooks_user, receiver
):
    """A path or query beyond ASCII goes percent-encoded (UTF-8), as browsers send it
    (http.client raised on it, and the exception ended every delivery round there, for
    good)."""
    register(hooks_client, hooks_user, receiver, url=f"{receiver.url}/bücher?für=ü")
    create_tasks(hooks_client, hooks_user, ["read"])
    deliver_until(hooks_app, lambda: receiver.task_titles() == ["read"])
    assert receiver.paths == ["/hooks/b%C3%BCcher?f%C3%BCr=%C3%BC"]


def test_the_next_message_of_a_claim_goes_as_the_endpoint_stands_then(
    hooks_app, hooks_client, hooks_user, receiver
):
    """A secret rotated while a delivery process holds the endpoint signs its next message
    (not the one after the claim ends): the second message, sent in the same round, passes
    the receiver's check."""
    made = register(hooks_client, hooks_user, receiver)
    one = f"{webhooks_url(hooks_user)}/{made['id']}"
    create_tasks(hooks_client, hooks_user, ["first"])

    def rotate_once(message):
        receiver.after_message = None
        rotated = hooks_client.post(f"{one}/rotate", headers=hooks_user["headers"])
        receiver.secret = rotated.get_json()["secret"]
        create_tasks(hooks_client, hooks_user, ["second"])

    receiver.after_message = rotate_once
    timed_round(hooks_app)
    assert receiver.task_titles() == ["first", "second"]
    assert receiver.refused_signatures == 0


def test_an_endpoint_failing_unforeseen_is_passed_over_and_the_others_delivered(
    hooks_app, hooks_client, hooks_user, receiver
):
    """One endpoint whose delivery raises (here its secret spoilt in the database) is logged
    and passed over: the round goes on, and the other endpoint gets its messages (the
    exception ended every round, before or after the other, for good)."""
    other = Receiver()
    try:
        spoilt = register(hooks_client, hooks_user, other)
        register(hooks_client, hooks_user, receiver)
        with hooks_app.app_context():
            db.session.execute(
                update(endpoints)
                .where(
                    endpoints.c.user_id == uuid.UUID(hooks_user["user_id"]),
                    endpoints.c.id == uuid.UUID(spoilt["id"]),
                )
                .values(secret="whsec_")
            )
            db.session.commit()
        create_tasks(hooks_client, hooks_user, ["still sent"])
        deliver_until(hooks_app, lambda: receiver.task_titles() == ["still sent"])
    finally:
        other.close()
    assert other.received == 0


def test_a_redirect_is_not_followed(hooks_app, hooks_client, hooks_user, receiver):
    target = Receiver()
    try:
        made = register(hooks_client, hooks_user, receiver)
        receiver.redirect_to = target.url
        create_tasks(hooks_client, hooks_user, ["moved"])
        one = f"{webhooks_url(hooks_user)}/{made['id']}"
        deliver_until(hooks_app, lambda: receiver.received >= 1)
        assert target.received == 0
        [attempt] = hooks_client.get(f"{one}/attempts", headers=hooks_user["headers"]).get_json()
        assert attempt["status"] == 302
        assert attempt["error"] == "A redirect, which is not followed."
    finally:
        target.close()


def test_a_target_refused_later_is_refused_at_delivery(
    hooks_client, hooks_user, receiver, make_app
):
    """Registered while loopback was allowed (as a name that resolved to a public address
    then, and to loopback now, would be): the delivery checks the address again, and
    refuses it."""
    made = register(hooks_client, hooks_user, receiver)
    create_tasks(hooks_client, hooks_user, ["kept home"])
    strict = make_app(WEBHOOK_RETRY_SCHEDULE=FAST_RETRIES)
    with strict.app_context():
        delivery.deliver_round(delivery.Settings.of(strict.config))
    assert receiver.received == 0
    one = f"{webhooks_url(hooks_user)}/{made['id']}"
    [attempt] = hooks_client.get(f"{one}/attempts", headers=hooks_user["headers"]).get_json()
    assert attempt["status"] is None
    assert attempt["error"] == "127.0.0.1 is not a public address; webhooks go to public ones only."


def test_every_statement_of_a_delivery_routes_to_one_shard(
    hooks_app, hooks_client, hooks_user, receiver
):
    sent = []
    with hooks_app.app_context():
        engine = db.engine
    event.listen(
        engine, "before_cursor_execute", lambda _c, _k, statement, *_: sent.append(statement)
    )
    made = register(hooks_client, hooks_user, receiver, events=["task"])
    hooks_client.post(
        f"{webhooks_url(hooks_user)}/{made['id']}/ping", headers=hooks_user["headers"]
    )
    create_tasks(hooks_client, hooks_user, ["one"])
    receiver.fail_with = 500
    with hooks_app.app_context():
        delivery.deliver_round(delivery.Settings.of(hooks_app.config))
    receiver.fail_with = None
    deliver_until(hooks_app, lambda: receiver.task_titles() == ["one"])
    hooks_client.delete(f"{webhooks_url(hooks_user)}/{made['id']}", headers=hooks_user["headers"])
    assert len(sent) > 10
    assert {s: b for s in sent if (b := statement_rule_breaks(s))} == {}


class Trickler:
    """An endpoint that takes the connection (and the request), then sends `answer` a byte
    at a time, a byte every 0.2 s: each read gets a byte well within any per-read timeout."""

    def __init__(self, answer: bytes = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200):
        self.answer = answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"
        self.connected = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            connection, _ = self.listener.accept()
        except OSError:  # closed before anyone came
            return
        self.connected.set()
        with connection:
            for byte in self.answer:
                if self.done.wait(0.2):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:  # the sender hung up: what is expected
                    return

    def close(self):
        self.done.set()
        self.listener.close()


def test_a_ping_to_an_endpoint_that_trickles_its_answer_holds_no_request(make_app):
    """The request asking for the ping does not wait on the endpoint (it is not even
    reached); the delivery round that sends it is cut at WEBHOOK_TIMEOUT, which bounds the
    whole attempt, not each read (the trickle lasts 40 s)."""
    app = make_app(WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8", WEBHOOK_TIMEOUT=1.0)
    client = app.test_client()
    user = signed_up(client, "slow@example.com")
    trickler = Trickler()
    try:
        made = client.post(webhooks_url(user), json={"url": trickler.url}, headers=user["headers"])
        one = f"{webhooks_url(user)}/{made.get_json()['id']}"
        assert client.post(f"{one}/ping", headers=user["headers"]).status_code == 202
        assert not trickler.connected.is_set()
        took = timed_round(app)
    finally:
        trickler.close()
    [attempt] = attempts_of(client, user, made.get_json()["id"])
    assert attempt["status"] is None
    assert attempt["error"] == "TimeoutError: the exchange took longer than WEBHOOK_TIMEOUT"
    assert took < 20


def test_a_tls_handshake_trickled_is_cut_at_the_timeout():
    """A TLS record's header announcing 16 KiB of handshake, then a byte every 0.2 s: the
    handshake is part of the attempt, and WEBHOOK_TIMEOUT ends it too."""
    trickler = Trickler(b"\x16\x03\x03\x40\x00" + b"\x02" * 200)
    reach = sender.Reach(sender.networks("127.0.0.0/8"), 1.0)
    try:
        url = trickler.url.replace("http://", "https://")
        outcome = sender.post(url, b"{}", {}, reach)
    finally:
        trickler.close()
    assert trickler.connected.is_set()
    assert outcome.error == "TimeoutError: the exchange took longer than WEBHOOK_TIMEOUT"
    assert outcome.latency_ms < 20_000


def test_a_nameserver_that_never_answers_fails_the_attempt_at_the_timeout(make_app):
    """getaddrinfo, or a nameserver, can take minutes to answer, or never do: the lookup is
    part of the attempt, and WEBHOOK_TIMEOUT ends it (here the nameservers asked are one that
    never answers, as WEBHOOK_NAMESERVERS may point to). A registration waits for it a second
    at most, and takes the URL."""
    nameserver = Nameserver(silent=True)
    app = make_app(WEBHOOK_NAMESERVERS=nameserver.setting, WEBHOOK_TIMEOUT=1.0)
    client = app.test_client()
    user = signed_up(client, "unresolved@example.com")
    try:
        made = client.post(
            webhooks_url(user),
            json={"url": "https://hooks.example.test/todo"},
            headers=user["headers"],
        )
        assert made.status_code == 201
        one = f"{webhooks_url(user)}/{made.get_json()['id']}"
        assert client.post(f"{one}/ping", headers=user["headers"]).status_code == 202
        took = timed_round(app)
    finally:
        nameserver.close()
    [attempt] = attempts_of(client, user, made.get_json()["id"])
    assert attempt["error"] == (
        "TimeoutError: resolving hooks.example.test took longer than WEBHOOK_TIMEOUT"
    )
    assert nameserver.questions >= 2  # asked at the registration and at the attempt
    assert took < 20


def test_a_name_rebound_to_loopback_is_refused_at_delivery(make_app, receiver):
    """A name that resolves to a public address at registration and to loopback at the
    attempt (DNS rebinding) is refused then, and nothing is sent; where loopback is allowed,
    the message goes to the address resolved, under the name."""
    nameserver = Nameserver("93.184.215.14", "127.0.0.1")
    strict = make_app(WEBHOOK_NAMESERVERS=nameserver.setting, WEBHOOK_RETRY_SCHEDULE=FAST_RETRIES)
    client = strict.test_client()
    user = signed_up(client, "rebound@example.com")
    port = receiver.server.server_address[1]
    try:
        made = register(client, user, receiver, url=f"http://hooks.example.test:{port}/hooks")
        create_tasks(client, user, ["kept home"])
        timed_round(strict)
        assert receiver.received == 0
        [attempt] = attempts_of(client, user, made["id"])
        assert attempt["error"] == (
            "hooks.example.test (127.0.0.1) is not a public address; "
            "webhooks go to public ones only."
        )
        allowing = make_app(
            WEBHOOK_NAMESERVERS=nameserver.setting,
            WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
            WEBHOOK_RETRY_SCHEDULE=FAST_RETRIES,
        )
        deliver_until(allowing, lambda: receiver.task_titles() == ["kept home"])
    finally:
        nameserver.close()
