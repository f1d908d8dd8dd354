"""Answers the serving worker gives itself, before or instead of the app (server/refusals.py):
each leaves the access-log line and the /metrics count an answer of the app's does, with the
reason, against a real gunicorn."""

import http.client
import json
import socket
import threading

import pytest

from tests.servers import answers_in, raw_exchange, thread_held, wait_for
from tests.test_metrics import TOKEN, sample, scrape

# (what is sent, the status, the reason logged and counted)
REFUSED = {
    "long-line": (
        b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n{id}\r\n",
        414,
        "line_too_long",
    ),
    "big-headers": (
        b"GET /healthz HTTP/1.1\r\nHost: t\r\n{id}X-Big: " + b"b" * 40000 + b"\r\n\r\n",
        431,
        "headers_too_large",
    ),
    "big-body": (
        b"POST /api/auth/login HTTP/1.1\r\nHost: t\r\n{id}Content-Length: 70000\r\n\r\n",
        413,
        "body_too_large",
    ),
    "bad-chunks": (
        b"POST /api/auth/login HTTP/1.1\r\nHost: t\r\n{id}Transfer-Encoding: chunked\r\n\r\n"
        b"1;@@@\r\nx\r\n0\r\n\r\n",
        400,
        "bad_chunked_body",
    ),
    "no-host": (b"GET /healthz HTTP/1.1\r\n{id}\r\n", 400, "no_host"),
    "unparsable": (
        b"GET /healthz HTTP/1.1\r\nHost: t\r\n{id}Bad Name: x\r\n\r\n",
        400,
        "bad_request",
    ),
    "unmet-expectation": (
        b"GET /healthz HTTP/1.1\r\nHost: t\r\n{id}Expect: something\r\n\r\n",
        417,
        "expectation_failed",
    ),
    "unknown-coding": (
        b"POST /api/auth/login HTTP/1.1\r\nHost: t\r\n{id}Transfer-Encoding: foo\r\n\r\n",
        501,
        "unsupported_coding",
    ),
}


@pytest.fixture
def metered(database_url, servers, tmp_path):
    """A server of one worker with one thread, short timeouts and metrics; `metered(...)`
    starts it with other settings."""

    def start(**settings):
        defaults = {
            "METRICS_TOKEN": TOKEN,
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
            "WEB_CONCURRENCY": "1",
            "GUNICORN_THREADS": "1",
            "REQUEST_READ_TIMEOUT": "1",
            "REQUEST_QUEUE_TIMEOUT": "1",
        }
        return servers(database_url, **{**defaults, **settings})

    return start


def access_lines(server) -> list[dict]:
    return [
        line
        for line in map(json.loads, server.log_text().splitlines())
        if line["logger"] == "todo.access"
    ]


def logged_once(server, request_id: str) -> dict:
    """The access-log line of the request `request_id` names, once the worker has written it
    (its lines go out within a second)."""
    wait_for(lambda: any(line["request_id"] == request_id for line in access_lines(server)))
    [line] = [line for line in access_lines(server) if line["request_id"] == request_id]
    return line


def server_count(server, method: str, status: int, reason: str) -> float:
    labels = {"method": method, "reason": reason, "route": "server", "status": str(status)}
    return sample(scrape(server), "todo_http_requests_total", **labels)


def test_every_answer_the_worker_gives_itself_is_logged_and_counted(metered):
    metered = metered()
    for case, (sent, status, reason) in REFUSED.items():
        request_id = f"refused-{case}"
        sent = sent.replace(b"{id}", f"X-Request-ID: {request_id}\r\n".encode())
        received, _ = raw_exchange(metered.port, sent)
        [(answered, headers, _)] = answers_in(received)
        assert (answered, headers["x-request-id"]) == (status, request_id), case
        line = logged_once(metered, request_id)
        assert (line["status"], line["reason"], line["user_id"]) == (status, reason, None), case
        assert line["level"] == "info" and line["duration_ms"] >= 0, case
        method = sent.split(b" ")[0].decode()
        assert server_count(metered, method, status, reason) == 1, case
    # One metric: the app's answers beside the worker's, which a sum over routes adds up.
    page = scrape(metered)
    assert page.count("# TYPE todo_http_requests_total counter") == 1
    assert sample(page, "todo_http_requests_total", method="GET", route="/metrics", status="200")


def test_a_request_that_did_not_arrive_in_time_is_logged_and_counted(metered):
    metered = metered()
    with socket.create_connection(("127.0.0.1", metered.port), timeout=30) as sock:
        sock.sendall(b"POST /api/auth/login HTTP/1.1\r\nHost: t\r\nX-Request-ID: slow-1\r\n")
        received = b""
        while chunk := sock.recv(65536):  # the worker closes it at REQUEST_READ_TIMEOUT
            received += chunk
    [(status, headers, _)] = answers_in(received)
    assert (status, headers["x-request-id"]) == (408, "slow-1")
    line = logged_once(metered, "slow-1")
    assert (line["method"], line["path"], line["reason"]) == (
        "POST",
        "/api/auth/login",
        "read_timeout",
    )
    assert server_count(metered, "POST", 408, "read_timeout") == 1


def test_requests_that_waited_too_long_for_the_thread_are_logged_and_counted(database_url, metered):
    """The issue's case: 16 requests while the only thread is held (here, by a PUT waiting on
    a row lock): the others waited past REQUEST_QUEUE_TIMEOUT and got 503s, which left no
    access-log line and no count."""
    metered = metered()
    outcomes = []

    def ask(n):
        connection = http.client.HTTPConnection("127.0.0.1", metered.port, timeout=30)
        connection.request("GET", "/openapi.json", headers={"X-Request-ID": f"queued-{n}"})
        answer = connection.getresponse()
        outcomes.append((answer.status, answer.getheader("X-Request-ID")))
        answer.read()
        connection.close()

    with thread_held(metered, database_url):
        askers = [threading.Thread(target=ask, args=(n,)) for n in range(15)]
        for asker in askers:
            asker.start()
        for asker in askers:
            asker.join(30)
    assert sorted(outcomes) == sorted((503, f"queued-{n}") for n in range(15))
    for n in range(15):
        line = logged_once(metered, f"queued-{n}")
        assert (line["status"], line["path"], line["reason"]) == (
            503,
            "/openapi.json",
            "queue_timeout",
        )
    assert server_count(metered, "GET", 503, "queue_timeout") == 15


def test_the_liveness_probe_waits_for_the_thread_instead_of_being_refused(database_url, metered):
    """/healthz is never answered 503 for waiting (REQUEST_QUEUE_TIMEOUT): busy threads are
    no reason for a liveness probe to restart the host."""
    metered = metered()
    probed = []
    with thread_held(metered, database_url):
        probe = threading.Thread(
            target=lambda: probed.append(metered.call("GET", "/healthz", timeout=60))
        )
        probe.start()
        other = metered.call("GET", "/openapi.json", timeout=60)  # queued after the probe
        assert other[0] == 503  # refused for waiting past the queue timeout; the probe waits on
        assert not probed
    probe.join(60)
    assert probed[0][0] == 200


def test_an_address_over_its_connection_cap_is_told_so_and_closed(metered):
    """CONNECTIONS_PER_ADDRESS (3 here): a fourth connection from one address is answered
    503 and closed at once, while the three it holds are served."""
    metered = metered(CONNECTIONS_PER_ADDRESS="3", REQUEST_READ_TIMEOUT="60")
    held = [socket.create_connection(("127.0.0.1", metered.port), timeout=30) for _ in range(3)]
    try:
        for sock in held:  # each is the worker's: its request is being read
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
        received, ending = raw_exchange(
            metered.port, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", 30
        )
        [(status, headers, body)] = answers_in(received)
        assert (status, headers["retry-after"]) == (503, "1")
        assert ending in ("eof", "reset")  # closed at once, what it sent perhaps unread
        assert b"3 open connections" in body
        line = logged_once(metered, headers["x-request-id"])
        assert line["reason"] == "too_many_connections"
        for sock in held:
            sock.sendall(b"\r\n")
            [(served, _, _)] = answers_in(sock.recv(65536))
            assert served == 200
    finally:
        for sock in held:
            sock.close()
    wait_for(lambda: metered.call("GET", "/healthz")[0] == 200)
