"""Real gunicorn against clients that misbehave: slow senders, bodies the server refuses,
requests it cannot parse. None of them may cost other clients an answer."""

import contextlib
import json
import socket
import threading
import time

import httpx
import pytest

from tests.servers import answers_in, raw_exchange, sign_in

SLOW_HEADERS = b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: "
SLOW_BODY = (
    b"POST /api/auth/login HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
    b"Content-Length: 60000\r\n\r\n{"
)


class SlowClients:
    """`count` connections per opening, each sending one byte a second after it; a connection
    the server cuts is opened again until `stop()`. Records how long each lived and what the
    server said when it cut it."""

    def __init__(self, port: int, openings: list[bytes], count: int):
        self.port = port
        self.openings = openings
        self.count = count
        self.cuts = []  # (seconds the connection lived, bytes the server sent)
        self.running = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self):
        self.running.set()
        self.thread.start()

    def stop(self):
        self.running.clear()
        self.thread.join(10)

    def open(self, opening: bytes):
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.sendall(opening)
        sock.setblocking(False)
        return [sock, opening, time.monotonic(), b""]

    def run(self):
        held = [self.open(opening) for opening in self.openings for _ in range(self.count)]
        while self.running.is_set():
            for entry in held:
                sock, opening, opened, _ = entry
                try:
                    chunk = sock.recv(65536)
                except BlockingIOError:
                    chunk = None
                except OSError:
                    chunk = b""
                entry[3] += chunk or b""
                if chunk is None:
                    try:
                        sock.send(b"x")
                        continue
                    except OSError:
                        pass
                elif chunk:
                    continue  # the server's answer; its close comes next
                self.cuts.append((time.monotonic() - opened, entry[3]))
                sock.close()
                entry[:] = self.open(opening)
            time.sleep(1)
        for sock, *_ in held:
            sock.close()


def test_slow_clients_cannot_starve_normal_requests(database_url, servers):
    server = servers(database_url, REQUEST_READ_TIMEOUT="5")
    user_id, headers = sign_in(server)
    slow = SlowClients(server.port, [SLOW_HEADERS, SLOW_BODY], count=32)
    slow.start()
    normal = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                status = server.call("GET", f"/api/{user_id}/tasks", headers=headers, timeout=1)[0]
            except OSError as error:
                status = repr(error)
            normal.append((status, time.monotonic() - started))
            time.sleep(0.5)
    finally:
        slow.stop()
    assert len(normal) >= 50
    assert [status for status, _ in normal] == [200] * len(normal)
    assert max(seconds for _, seconds in normal) < 1
    # Each slow connection was cut at the read deadline (5 s from its first byte), told why.
    assert len(slow.cuts) >= 64 * 4
    for lived, said in slow.cuts:
        assert 4.5 < lived < 7.5
        [(status, answer_headers, _)] = answers_in(said)
        assert status == 408
        assert answer_headers["connection"] == "close"
        assert answer_headers["content-type"] == "application/problem+json"


@pytest.fixture
def server(database_url, servers):
    return servers(database_url)


OVERSIZED_BODIES = {
    "content-length": b"Content-Length: 70000\r\n\r\n" + b"x" * 70000,
    "chunked": b"Transfer-Encoding: chunked\r\n\r\n"
    + b"".join(b"%x\r\n%s\r\n" % (7000, b"x" * 7000) for _ in range(10))
    + b"0\r\n\r\n",
}


@pytest.mark.parametrize("framing", OVERSIZED_BODIES)
def test_an_oversized_body_gets_a_whole_413_and_a_clean_close(server, framing):
    request = (
        b"POST /api/auth/login HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        + OVERSIZED_BODIES[framing]
    )
    for _ in range(20):
        received, ending = raw_exchange(server.port, request)
        [(status, headers, body)] = answers_in(received)
        assert (status, ending) == (413, "eof")
        assert headers["connection"] == "close"
        assert headers["content-type"] == "application/problem+json"
        assert b"larger than 64 KiB" in body


def test_a_body_the_app_did_not_read_leaves_the_connection_usable(server):
    unread = (
        b"POST /api/00000000-0000-0000-0000-000000000000/tasks HTTP/1.1\r\nHost: test\r\n"
        b"Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n" + b"x" * 60000
    )
    then = b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    for _ in range(20):
        received, ending = raw_exchange(server.port, unread + then)
        assert [status for status, _, _ in answers_in(received)] == [401, 200]
        assert ending == "eof"


def test_a_keep_alive_client_never_sees_a_dropped_connection(server):
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=5) as client:
        for _ in range(50):
            refused = client.post("/api/auth/login", content=b"{" + b" " * 70000 + b"}")
            assert refused.status_code == 413
            assert client.get("/healthz").status_code == 200
            not_read = client.post(
                "/api/00000000-0000-0000-0000-000000000000/tasks", content=b"x" * 60000
            )
            assert not_read.status_code == 401
            assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: test\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: test\r\n" + b"X-Big: " + b"b" * 40000 + b"\r\n\r\n", 431),
        (b"NOT A REQUEST\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", 400),
    ],
    ids=["long-line", "big-headers", "garbage", "two-lengths"],
)
def test_requests_the_server_cannot_parse_get_problem_json(server, request_bytes, status):
    received, ending = raw_exchange(server.port, request_bytes)
    [(answered, headers, body)] = answers_in(received)
    assert (answered, ending) == (status, "eof")
    assert headers["content-type"] == "application/problem+json"
    assert b'"status":%d' % status in body


def reading_slowly(port: int, data: bytes, seconds: float) -> bytes:
    """Send `data`, then read 64 KiB at a time (about 10 MB/s: far slower than the server
    writes, so its socket's buffer fills), until the server closes or `seconds` pass."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.connect(("127.0.0.1", port))
        sock.sendall(data)
        sock.settimeout(seconds)
        received = b""
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while chunk := sock.recv(65536):
                received += chunk
                time.sleep(0.005)
        return received


DOCUMENT = b"GET /openapi.json HTTP/1.1\r\nHost: test\r\n\r\n"
ENDING = b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"


def test_an_answer_larger_than_the_socket_takes_reaches_a_slow_reader_whole(server):
    """Answers the socket cannot take at once are sent as the client reads them, each send
    waiting within the write timeout, on a connection kept alive for the next."""
    received = reading_slowly(server.port, DOCUMENT * 100 + ENDING, seconds=30)
    *documents, (last_status, _, last_body) = answers_in(received)
    assert len(documents) == 100
    whole = documents[0][2]
    assert json.loads(whole)["openapi"].startswith("3.")
    for status, headers, body in documents:
        assert (status, int(headers["content-length"]), body) == (200, len(whole), whole)
    assert (last_status, json.loads(last_body)) == (200, {"status": "ok"})


def test_clients_that_stop_reading_hold_threads_no_longer_than_the_read_timeout(
    database_url, servers
):
    """Every thread of both workers writing to a client that has stopped reading: each
    write gives up at REQUEST_READ_TIMEOUT and the server closes that connection, its
    answers cut short (the requests still queued after REQUEST_QUEUE_TIMEOUT get 503), and
    the next client is served."""
    server = servers(database_url, REQUEST_READ_TIMEOUT="2", REQUEST_QUEUE_TIMEOUT="1")
    stalled = []
    for _ in range(16):  # more than the workers' threads (2 x 2 by default)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(DOCUMENT * 100)  # 7.6 MB of answers: more than the socket's buffers
        stalled.append(sock)
    time.sleep(6)  # the last write started within 1 s has given up at 3 s
    assert server.call("GET", "/healthz", timeout=5)[0] == 200
    for sock in stalled:
        sock.settimeout(10)
        received = b""
        with contextlib.suppress(ConnectionResetError), sock:
            while chunk := sock.recv(65536):
                received += chunk
        assert received.count(b"HTTP/1.1 ") < 100
