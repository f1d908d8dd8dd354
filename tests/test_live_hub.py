"""The live hub's handling of a stream whose client reads slowly or not at all (server/live.py),
step by step on a clock of the test's: a real socket pair for the connection, and in place of
the gunicorn worker around the hub, lists of the calls it would run in its threads and on its
main thread, run when the test says. The timings in between (a step still running when its
timer comes up) are what a busy machine produces, and a test through a server cannot order."""

import socket
import time
import types

import pytest

import server.live as live
from todo.holding import Step

HEARTBEAT = 15.0
PIECE = 200_000  # bytes a step gives: more than a socket pair takes at once, as set up here


class Export:
    def __init__(self):
        self.steps = 0

    def step(self, beat: bool) -> Step:
        self.steps += 1
        return Step(b"x" * PIECE, more=True)

    def drained(self) -> None:
        return None


class Conn:
    """A held connection, as the hub keys it: by identity."""

    def __init__(self, sock: socket.socket):
        self.sock = sock


class Worker:
    """What the hub asks of its worker: calls for the threads and the main thread kept until
    run, connections closed."""

    def __init__(self):
        self.settings = types.SimpleNamespace(threads=2)
        self.threads, self.main = [], []
        self.closed = []
        self.poller = types.SimpleNamespace(
            register=lambda *_: None, modify=lambda *_: None, unregister=lambda *_: None
        )
        self.request_threads = types.SimpleNamespace(call=self.threads.append)
        self.method_queue = types.SimpleNamespace(defer=lambda *call: self.main.append(call))
        self.log = types.SimpleNamespace(exception=lambda *_: None)

    def close(self, conn):
        self.closed.append(conn)

    linger = close

    def run_threads(self):
        while self.threads:
            self.threads.pop(0)()

    def run_main(self):
        while self.main:
            function, *arguments = self.main.pop(0)
            function(*arguments)


@pytest.fixture
def clock(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(live, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    return now


@pytest.fixture
def export(clock):
    """An export held by a hub, its first step taken; the client's end of the connection."""
    worker = Worker()
    settings = types.SimpleNamespace(
        heartbeat=HEARTBEAT,
        fallback=2.0,
        per_user=20,
        per_worker=100,
        exports_per_user=2,
        exports_per_worker=2,
        redis_url=None,
    )
    hub = live.LiveHub(worker, settings)
    hub.channel.up = True  # as with Redis: re-checks every heartbeat
    server_end, client_end = socket.socketpair()
    server_end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    client_end.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    conn = Conn(server_end)
    gate = types.SimpleNamespace(streamed=((), Export()), chunked=True, slot=None)
    gate.slot = hub.admit("export:someone", None, export=True)
    hub.open(conn, gate)
    yield types.SimpleNamespace(hub=hub, worker=worker, conn=conn, gate=gate, client=client_end)
    server_end.close()
    client_end.close()


def advance(export, clock, to: float) -> None:
    clock[0] = to
    export.hub.run_due(to)
    export.hub.expire(to)


def test_a_client_that_stops_reading_while_its_step_runs_is_dropped_and_its_slot_freed(
    export, clock
):
    held = export.hub.held[export.conn]
    # The heartbeat comes up while the first step still waits for a thread
    advance(export, clock, 100 + HEARTBEAT)
    export.worker.run_threads()
    export.worker.run_main()  # its bytes do not all fit: they wait for a client that reads none
    assert held.out and export.conn not in export.worker.closed
    for later in (120, 200, 1000):
        advance(export, clock, later)
        export.worker.run_threads()  # the release of its slot
    assert export.conn in export.worker.closed and export.conn not in export.hub.held
    assert export.hub.export_admissions.count == 0


def test_the_next_piece_waits_for_the_last_to_be_sent_and_a_slow_reader_is_kept(export, clock):
    held = export.hub.held[export.conn]
    stream = export.gate.streamed[1]
    export.worker.run_threads()
    export.worker.run_main()
    assert stream.steps == 1 and held.out
    _, key, member = export.gate.slot
    for second in range(1, 40):  # two heartbeats and more, taking a little each second
        advance(export, clock, 100 + second)
        export.client.recv(4096)
        export.hub.flush(held)
        export.worker.run_threads()
        export.worker.run_main()
        assert stream.steps == 1  # no step while bytes wait
    assert export.conn not in export.worker.closed and export.conn in export.hub.held
    # its admission lasts meanwhile, as a stream's does: renewed for 3 heartbeats from now (it
    # was admitted for 4 at first; the counts lapse on the wall clock)
    lapses = export.hub.export_admissions.local[key][member]
    assert lapses == pytest.approx(time.time() + 3 * HEARTBEAT, abs=5)
    while held.out:  # the client reads the rest: the next piece is asked for
        export.client.recv(1 << 20)
        export.hub.flush(held)
    export.worker.run_threads()
    assert stream.steps == 2
