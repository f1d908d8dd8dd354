"""Exports through real gunicorn servers: written by the worker a piece at a time between
other requests (todo/portability/steps.py), so a client that does not read holds no thread;
whole and correct across many pieces, on SQLite, PostgreSQL and through PgBouncer; bounded
per user (over every host, with Redis) and per worker; let finish by a drain."""

import csv
import http.client
import io
import json
import socket
import uuid

import icalendar
import pytest

from tests.servers import answers_in, create_task, raw_exchange, sign_in, wait_for

TASKS = 900
# Near the most a description holds (10,000 characters): 9 MB of CSV, more than the kernel
# buffers between a server and a client that does not read (a few MB on loopback), so its
# export cannot just be handed over; and pieces (pages of tasks) of 2 MB each.
DESCRIPTION = "An export that takes a while to read. " * 260


@pytest.fixture(params=["sqlite", "postgresql", "pgbouncer"])
def any_database(request):
    """The URL a server is given: an SQLite file, PostgreSQL, or PostgreSQL through PgBouncer."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_file_url")
    url = request.getfixturevalue("database_url")
    if request.param == "pgbouncer":
        return request.getfixturevalue("pgbouncer").url_for(url)
    return url


def large_account(server) -> tuple[str, dict, set[str]]:
    """A user with TASKS tasks of long descriptions (imported from one CSV file)."""
    user_id, headers = sign_in(server)
    ids = {str(uuid.uuid4()) for _ in range(TASKS)}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["id", "title", "description"])
    writer.writerows([each, f"Task {number}", DESCRIPTION] for number, each in enumerate(ids))
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.request(
            "POST",
            f"/api/{user_id}/imports",
            out.getvalue().encode(),
            {**headers, "Content-Type": "text/csv"},
        )
        answer = connection.getresponse()
        assert answer.status == 200, answer.read()
        assert json.loads(answer.read())["counts"]["created"] == TASKS
    finally:
        connection.close()
    return user_id, headers, ids


class SlowReader:
    """An export asked for on a connection that then reads nothing (its receive buffer a few
    KB) until told to read the rest."""

    def __init__(self, server, path: str, headers: dict):
        self.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting
        sock.settimeout(60)
        sock.connect(("127.0.0.1", server.port))
        self.connection.sock = sock
        self.connection.request("GET", path, headers=headers)
        self.answer = self.connection.getresponse()  # the head and the first piece, no more

    def rest(self) -> bytes:
        """The whole body (http.client raises IncompleteRead for a cut chunked answer)."""
        try:
            return self.answer.read()
        finally:
            self.connection.close()


def csv_ids(body: bytes) -> list[str]:
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert all(row["description"] == DESCRIPTION for row in rows)
    return [row["id"] for row in rows]


def test_an_export_whose_client_does_not_read_holds_no_thread(any_database, servers):
    """One worker with one thread: while an 8 MB export waits for its client, other requests
    are answered; then the client reads the whole file, every task once."""
    server = servers(any_database, WEB_CONCURRENCY="1", GUNICORN_THREADS="1")
    user_id, headers, ids = large_account(server)
    reader = SlowReader(server, f"/api/{user_id}/export/csv", headers)
    assert reader.answer.status == 200
    assert reader.answer.getheader("Transfer-Encoding") == "chunked"
    status, answer_headers, page = server.call(
        "GET", f"/api/{user_id}/tasks?limit=1", headers=headers
    )
    assert status == 200 and len(page) == 1 and answer_headers["X-Total-Count"] == str(TASKS)
    assert server.call("GET", "/readyz")[0] == 200
    exported = csv_ids(reader.rest())
    assert len(exported) == TASKS and set(exported) == ids


def test_every_format_is_whole_across_pieces(database_url, servers):
    server = servers(database_url)
    user_id, headers, ids = large_account(server)
    status, _, document = server.call("GET", f"/api/{user_id}/export", headers=headers, timeout=60)
    assert status == 200
    assert document["format"] == "todo-export"
    assert {task["id"] for task in document["tasks"]} == ids and len(document["tasks"]) == TASKS
    reader = SlowReader(server, f"/api/{user_id}/export/calendar", headers)
    calendar = icalendar.Calendar.from_ical(reader.rest())
    todos = calendar.walk("VTODO")
    assert {str(todo["UID"]) for todo in todos} == ids and len(todos) == TASKS
    assert all(str(todo["DESCRIPTION"]) == DESCRIPTION for todo in todos)


def test_exports_beyond_a_users_limit_are_429_on_any_host_and_a_workers_503(
    database_url, servers, redis_url
):
    shared = {
        "RATELIMIT_STORAGE_URI": redis_url,
        "EXPORTS_PER_USER": "1",
        "IMPORT_INLINE_BYTES": str(10 * 1024 * 1024),  # the seed imported in its request
    }
    first = servers(database_url, **shared)
    second = servers(database_url, WEB_CONCURRENCY="1", EXPORTS_PER_WORKER="1", **shared)
    user_id, headers, ids = large_account(first)
    reader = SlowReader(second, f"/api/{user_id}/export/csv", headers)
    assert reader.answer.status == 200

    status, answer_headers, problem = first.call("GET", f"/api/{user_id}/export", headers=headers)
    assert status == 429 and int(answer_headers["Retry-After"]) >= 1
    assert problem["status"] == 429 and "1 exports in progress" in problem["detail"]
    other_id, other_headers = sign_in(second)
    status, answer_headers, problem = second.call(
        "GET", f"/api/{other_id}/export", headers=other_headers
    )
    assert status == 503 and int(answer_headers["Retry-After"]) >= 1
    assert problem["status"] == 503

    assert set(csv_ids(reader.rest())) == ids
    # Its slot given back once the export ended (the worker's thread releases it just after)
    wait_for(lambda: second.call("GET", f"/api/{other_id}/export", headers=other_headers)[0] == 200)
    status, _, document = first.call("GET", f"/api/{user_id}/export", headers=headers, timeout=60)
    assert status == 200 and len(document["tasks"]) == TASKS


def test_a_drain_lets_an_export_in_progress_finish(database_url, servers):
    server = servers(database_url, WEB_CONCURRENCY="1", DRAIN_SECONDS="0")
    user_id, headers, ids = large_account(server)
    reader = SlowReader(server, f"/api/{user_id}/export/csv", headers)
    assert reader.answer.status == 200
    server.process.send_signal(15)
    exported = csv_ids(reader.rest())
    assert len(exported) == TASKS and set(exported) == ids
    assert server.process.wait(40) == 0


def test_a_client_that_takes_nothing_for_a_heartbeat_is_dropped_and_its_slot_freed(
    database_url, servers
):
    server = servers(
        database_url, WEB_CONCURRENCY="1", EXPORTS_PER_WORKER="1", LIVE_HEARTBEAT_SECONDS="3"
    )
    user_id, headers, _ = large_account(server)
    stalled = SlowReader(server, f"/api/{user_id}/export/csv", headers)
    assert stalled.answer.status == 200
    assert server.call("GET", f"/api/{user_id}/export", headers=headers)[0] == 503
    # dropped after 3 seconds of taking nothing: the worker's one export slot is free again
    wait_for(lambda: server.call("GET", f"/api/{user_id}/export", headers=headers)[0] == 200)
    with pytest.raises(http.client.IncompleteRead):
        stalled.rest()


def test_a_head_of_an_export_or_of_the_event_stream_has_no_body_and_holds_nothing(
    database_url, servers
):
    """Pipelined on one connection: each HEAD answered with its head alone, and the request
    after it answered too (a held HEAD would have had the hub write a body after its head)."""
    server = servers(database_url, WEB_CONCURRENCY="1")
    user_id, headers = sign_in(server)
    create_task(server, user_id, headers)
    ticket = server.call("POST", f"/api/{user_id}/changes/tickets", headers=headers)[2]
    authorization = headers["Authorization"]
    sent = (
        f"HEAD /api/{user_id}/export/csv HTTP/1.1\r\nHost: t\r\n"
        f"Authorization: {authorization}\r\n\r\n"
        f"HEAD {ticket['stream']} HTTP/1.1\r\nHost: t\r\n\r\n"
        "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    received, ended = raw_exchange(server.port, sent.encode(), timeout=10)
    answers = answers_in(received)
    assert [status for status, _, _ in answers] == [200, 200, 200], received
    assert answers[0][1]["content-type"].startswith("text/csv")
    assert answers[1][1]["content-type"].startswith("text/event-stream")
    assert json.loads(answers[2][2])["status"] == "ok" and ended == "eof"
