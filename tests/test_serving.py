"""Real gunicorn on PostgreSQL: graceful SIGTERM, a database outage, two hosts sharing state."""

import http.client
import json
import re
import secrets
import signal
import socket
import threading
import time
from email.utils import parsedate_to_datetime

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import normalise_database_url
from tests.servers import (
    answers_in,
    create_task,
    raw_exchange,
    request_in_flight,
    sign_in,
    wait_for,
)
from tests.tcp_proxy import TCPProxy


def refuses_connections(port: int) -> bool:
    """True once a connection to `port` is refused by the kernel (no socket listens)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=10).close()
    except ConnectionRefusedError:
        return True
    return False


def test_sigterm_finishes_the_request_in_flight_and_refuses_new_connections(database_url, servers):
    server = servers(database_url)
    user_id, headers = sign_in(server)
    task = create_task(server, user_id, headers)
    with request_in_flight(server, database_url, user_id, headers, task) as answers:
        server.process.send_signal(signal.SIGTERM)
        # Soon refused by the kernel, at once: never accepted, left waiting, then reset.
        wait_for(lambda: refuses_connections(server.port))
        assert server.process.poll() is None, "gunicorn quit with a request in flight"
    assert answers[0][0] == 200
    assert answers[0][2]["title"] == "Done"
    assert server.process.wait(10) == 0


def test_every_answer_is_dated_the_second_it_is_sent(database_url, servers):
    """Answers share the Date text formatted once a second (server/dates.py)."""
    server = servers(database_url)
    dates = set()

    def dated_anew() -> bool:
        before = time.time()
        headers = server.call("GET", "/healthz")[1]
        dated = parsedate_to_datetime(headers["Date"]).timestamp()
        assert int(before) <= dated <= time.time()
        dates.add(dated)
        return len(dates) >= 3

    wait_for(dated_anew)


def test_answers_with_and_without_a_body_follow_each_other_whole_on_one_connection(
    database_url, servers
):
    """Each answer's head goes out with its body (server/responses.py), and alone when it has
    none: pipelined on one connection, every answer arrives whole and in order."""
    server = servers(database_url)
    user_id, headers = sign_in(server)
    tasks = [create_task(server, user_id, headers, f"Task {n}") for n in range(30)]
    task_path = f"/api/{user_id}/tasks/{tasks[0]['id']}"
    etag = server.call("GET", task_path, headers=headers)[1]["ETag"]
    auth = f"Authorization: {headers['Authorization']}\r\n".encode()
    pipelined = (
        f"GET /api/{user_id}/tasks HTTP/1.1\r\nHost: test\r\n".encode()
        + auth
        + b"\r\n"
        + f"GET {task_path} HTTP/1.1\r\nHost: test\r\nIf-None-Match: {etag}\r\n".encode()
        + auth
        + b"\r\n"
        + f"DELETE {task_path} HTTP/1.1\r\nHost: test\r\n".encode()
        + auth
        + b"\r\n"
        + b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )
    received, ending = raw_exchange(server.port, pipelined)
    (listed, list_headers, body), (not_modified, *_), (deleted, *_), (healthy, *_) = answers_in(
        received
    )
    assert (listed, not_modified, deleted, healthy, ending) == (200, 304, 204, 200, "eof")
    assert [task["title"] for task in json.loads(body)] == [task["title"] for task in tasks]
    assert int(list_headers["content-length"]) == len(body)


def test_request_ids_never_repeat_across_workers(database_url, servers):
    """Each worker draws its request ids from its own seed (`random` reseeds after fork):
    answers from both workers, on new connections, carry ids that are all different."""
    server = servers(database_url)
    ids = [server.call("GET", "/healthz")[1]["X-Request-ID"] for _ in range(200)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch("[0-9a-f]{32}", request_id) for request_id in ids)


def test_database_outage_is_503_then_the_same_server_recovers(database_url, servers, capsys):
    target = make_url(normalise_database_url(database_url))
    proxy = TCPProxy(target.port or 5432, target.host)
    proxy.start()
    server = servers(target.set(host="127.0.0.1", port=proxy.port).render_as_string(False))
    workers_before = server.process.pid
    user_id, headers = sign_in(server)
    timeline = []

    def probe(phase, count=6):
        for n in range(count):
            started = time.monotonic()
            status, _, body = server.call(
                "POST", f"/api/{user_id}/tasks", {"title": f"{phase} {n}"}, headers
            )
            timeline.append((phase, status, round(time.monotonic() - started, 3)))
            assert status != 500, body

    probe("before")
    proxy.cut()
    probe("during")
    # Outages outlast DB_PING_IDLE_SECONDS (1 s): a worker that served none of the "during"
    # requests still holds pooled connections the cut killed, and they must be pinged and
    # replaced, not handed to a request. (Used within a second, a dead connection costs that
    # request a 503: tests/test_operations.py.)
    time.sleep(1.2)
    proxy.restore()
    probe("after")
    with capsys.disabled():
        print("\noutage timeline (phase, status, seconds):", timeline)

    statuses = {
        phase: [s for p, s, _ in timeline if p == phase] for phase in ("before", "during", "after")
    }
    assert statuses["before"] == [201] * 6
    assert statuses["during"] == [503] * 6
    assert statuses["after"] == [201] * 6
    assert max(seconds for phase, _, seconds in timeline if phase == "during") < 5
    assert server.process.pid == workers_before and server.process.poll() is None
    _, _, tasks = server.call("GET", f"/api/{user_id}/tasks", headers=headers)
    titles = [task["title"] for task in tasks]
    assert not any(title.startswith("during") for title in titles)
    assert len(titles) == 12
    proxy.cut()


def test_two_hosts_share_tasks_revocations_and_throttling(database_url, servers, redis_url):
    shared = {
        "RATELIMIT_ENABLED": "true",
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": f"test-{secrets.token_hex(4)}",  # no counts of earlier runs
        "RATELIMIT_LOGIN_PER_EMAIL": "3 per minute",
    }
    first, second = servers(database_url, **shared), servers(database_url, **shared)
    email = f"{secrets.token_hex(4)}@example.com"
    user_id, headers = sign_in(first, email)

    task = create_task(first, user_id, headers)
    assert second.call("GET", f"/api/{user_id}/tasks/{task['id']}", headers=headers)[2] == task

    assert first.call("POST", "/api/auth/logout", headers=headers)[0] == 204
    assert second.call("GET", "/api/auth/me", headers=headers)[0] == 401

    wrong = {"email": email, "password": "wrong-password"}
    statuses = [
        server.call("POST", "/api/auth/login", wrong)[0] for server in (first, second, first)
    ]
    assert statuses == [401, 401, 401]
    assert second.call("POST", "/api/auth/login", wrong)[0] == 429
    assert first.call("POST", "/api/auth/login", wrong)[0] == 429


def test_a_drained_stop_under_write_load_loses_no_request(database_url, servers):
    """The drain procedure: SIGTERM; /readyz turns 503 while requests are still served; the
    load balancer (here: the probing thread) takes the host out; then the server stops."""
    server = servers(database_url, DRAIN_SECONDS="3")
    user_id, headers = sign_in(server)
    out_of_rotation = threading.Event()
    outcomes = []

    def write_load():
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        for n in range(2000):
            if out_of_rotation.is_set():
                break
            try:
                connection.request(
                    "POST",
                    f"/api/{user_id}/tasks",
                    json.dumps({"title": f"load {n}"}),
                    {**headers, "Content-Type": "application/json"},
                )
                answer = connection.getresponse()
                answer.read()
                outcomes.append(answer.status)
            except OSError as error:
                outcomes.append(repr(error))
        connection.close()

    def load_balancer():
        while not out_of_rotation.is_set():
            try:
                status = server.call("GET", "/readyz", timeout=2)[0]
            except OSError:
                status = None
            if status != 200:
                out_of_rotation.set()
            time.sleep(0.1)

    threads = [threading.Thread(target=write_load) for _ in range(4)]
    threads.append(threading.Thread(target=load_balancer))
    for thread in threads:
        thread.start()
    wait_for(lambda: len(outcomes) > 20)
    server.process.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join(30)
    assert server.process.wait(35) == 0
    assert out_of_rotation.is_set()
    assert set(outcomes) == {201}, [outcome for outcome in outcomes if outcome != 201][:5]
    engine = create_engine(normalise_database_url(database_url))
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM tasks")) == len(outcomes)
    engine.dispose()


def reloaded(server, notes) -> tuple[float, float]:
    """SIGHUP, then wait until the reload's new workers have loaded the app: (when the reload
    began, when the first new worker was ready), as the notes of server/handover.py tell."""
    server.process.send_signal(signal.SIGHUP)
    replacing = notes / "replacing"
    wait_for(replacing.exists)
    newest_replaced = int(replacing.read_text().split()[0])

    def new_ready() -> list:
        ready = (note for note in notes.glob("ready-*") if int(note.name[6:]) > newest_replaced)
        return sorted(note.stat().st_mtime for note in ready)

    wait_for(lambda: len(new_ready()) == 2, seconds=60)
    return replacing.stat().st_mtime, new_ready()[0]


def test_a_reload_keeps_serving_while_the_new_workers_load_the_app(database_url, servers, tmp_path):
    """SIGHUP forks new workers and at once tells the old ones to stop. They stopped
    accepting before the new ones had loaded the app (seconds), and every connection made
    meanwhile waited; now they serve until the new ones are ready (server/handover.py)."""
    notes = tmp_path / "handover"
    notes.mkdir()
    server = servers(database_url, TODO_HANDOVER_DIR=str(notes))
    answered = []  # when each request sent during the reload was answered, and how
    reloading = threading.Event()

    def load():
        while not reloading.is_set():
            status = server.call("GET", "/healthz", timeout=60)[0]
            answered.append((time.time(), status))

    loader = threading.Thread(target=load)
    loader.start()
    try:
        began, first_ready = reloaded(server, notes)
    finally:
        reloading.set()
        loader.join(60)
    assert {status for _, status in answered} == {200}
    # The old workers get their SIGTERM within milliseconds of the reload's start: the later
    # half of the new workers' loading is well after it.
    loading = [at for at, _ in answered if (began + first_ready) / 2 < at < first_ready]
    assert loading, "no request was answered while the new workers loaded the app"
    wait_for(lambda: len(server.worker_pids()) == 2)  # the old workers have stopped
    assert server.call("GET", "/healthz")[0] == 200
