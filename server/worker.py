"""A gunicorn worker that reads every request whole before a thread runs the app.

gunicorn's gthread worker gives a connection to a thread as soon as its first bytes arrive, and
the thread then reads the rest: a client that sends a byte a second holds a thread as long as
it likes, and a few of them stop the worker. Here the worker's main thread reads every
connection without blocking (one selector for all of them, as nginx and waitress do) and hands
a request to a thread only once it is complete (server/framing.py), so threads only ever run
the app and write answers. What the main thread enforces:

- a request must arrive whole within REQUEST_READ_TIMEOUT of its first byte (else 408), and an
  idle kept-alive connection closes after gunicorn's `keepalive`;
- a body over the limit is refused (413) from its headers, without reading it; every answer to
  a request whose body was not read whole says `Connection: close`, and the connection is
  closed gracefully (half-closed, then drained), so the client always reads the whole answer;
- a complete request that waited longer than REQUEST_QUEUE_TIMEOUT for a thread is answered 503
  instead of being run late;
- on SIGTERM the worker drains: it keeps accepting and serving for DRAIN_SECONDS with
  `environ["todo.draining"]` set (the app's /readyz answers 503 then) and every answer saying
  `Connection: close`; then it accepts what is already queued, closes its listening sockets
  (new connections are refused, never accepted and reset), and finishes what it holds. A
  SIGTERM from a reload (SIGHUP) waits first for the new workers to load the app
  (server/handover.py).

The threads' side is server/running.py, closing a connection server/closing.py, the requests
held without a thread (waiting polls, event streams) server/live.py. TLS and HTTP/2 are left to
the proxy or load balancer in front.
"""

import contextlib
import errno
import gc
import os
import selectors
import socket
import time

from gunicorn import util
from gunicorn.workers import base
from gunicorn.workers.gthread import PollableMethodQueue

from config import live_settings, server_timeouts

from . import answers, handover
from .addresses import ConnectionsPerAddress, connections_per_address
from .answers import Refused
from .closing import RECV_SIZE, Closing
from .connection import Connection
from .dates import DateOncePerSecond
from .framing import Complete, Incomplete
from .live import PARKED, STREAMING, LiveHub
from .refusals import Refusals
from .running import LIVENESS, RequestRunning
from .settled import SettledConfig
from .threads import RequestThreads

EXPIRY_CHECK_SECONDS = 0.25
ACCEPT_YIELD_SECONDS = 0.002


class BufferingWorker(RequestRunning, Closing, base.Worker):
    def init_process(self):
        timeouts = server_timeouts()
        self.read_timeout = timeouts.read
        self.queue_timeout = timeouts.queue
        self.drain_seconds = timeouts.drain
        self.poller = selectors.DefaultSelector()
        self.method_queue = PollableMethodQueue()
        self.method_queue.init()
        self.waiting = {}  # connections the main thread reads, with their deadlines
        self.lingering = {}  # closing connections drained until the client closes
        self.nr_conns = 0
        self.accepting = False
        self.listening = True
        self.yielded = False  # this worker let a sibling take the waiting connection first
        self.yield_accept_until = 0.0
        self.draining = False
        self.drain_until = 0.0
        self.replaced = None  # (newest worker replaced, workers to come): a reload's SIGTERM
        self.replaced_until = 0.0
        self.next_expiry = 0.0
        self.settings = SettledConfig(self.cfg)  # what the per-request code reads
        self.refusals = Refusals()
        self.addresses = ConnectionsPerAddress(connections_per_address())
        self.too_busy = Refused(
            503,
            "queue_timeout",
            f"The server is busy: the request waited over {self.queue_timeout:g} s for a "
            "thread; try again shortly.",
            retry_after=1,
        )
        self.request_threads = RequestThreads(self.cfg.threads, self.serve, self.served)
        self.live = LiveHub(self, live_settings())
        if not isinstance(util.http_date, DateOncePerSecond):
            util.http_date = DateOncePerSecond(util.http_date)  # gunicorn's responses call it
        super().init_process()

    # -- signals ---------------------------------------------------------------------------

    def handle_exit(self, sig, frame):
        """SIGTERM: drain (this module's docstring), once a reload's new workers are ready
        if a reload sent it; the main loop does the rest. A second one drains at once."""
        if self.draining:
            return
        if self.replaced is None and (replaced := handover.replacement(self.age)):
            self.replaced = replaced
            self.replaced_until = time.monotonic() + self.cfg.timeout
            self.log.info("Replaced by a reload: serving until its new workers are ready")
        else:
            self.drain()

    def drain(self):
        self.draining = True
        self.drain_until = time.monotonic() + self.drain_seconds
        self.method_queue.defer(self.live.drain)  # on the main thread, which it wakes

    def replacements_ready(self, now: float) -> bool:
        newest_replaced, workers = self.replaced
        if handover.ready_after(newest_replaced) >= workers:
            self.log.info("The reload's new workers are ready: stopping")
            return True
        if now >= self.replaced_until:
            self.log.warning(
                "The reload's new workers are not ready after %gs: stopping", self.cfg.timeout
            )
            return True
        return False

    def handle_quit(self, sig, frame):
        self.request_threads.stop()
        super().handle_quit(sig, frame)

    # -- the main loop ---------------------------------------------------------------------

    def run(self):
        self.poller.register(
            self.method_queue.fileno(), selectors.EVENT_READ, self.method_queue.run_callbacks
        )
        for listener in self.sockets:
            listener.setblocking(False)
        self.set_accepting(True)
        self.live.start()
        # What the app's import made lasts as long as the worker: full collections (which
        # thousands of streams' objects bring on) need not look at it again.
        gc.freeze()
        while self.alive and not (self.draining and time.monotonic() >= self.drain_until):
            self.tick()
            if self.ppid != os.getppid():
                self.log.info("Parent changed, shutting down: %s", self)
                break
        self.live.drain()  # held requests end now, whatever ended the loop (max_requests too)
        self.stop_listening()
        stop_by = time.monotonic() + self.cfg.graceful_timeout
        while self.nr_conns and time.monotonic() < stop_by:
            self.tick()
        self.live.close_all()
        self.request_threads.stop()
        for conn in [*self.waiting, *self.lingering]:
            conn.sock.close()

    def tick(self):
        """Wait for events (at most until the next deadline check, or what the live hub has
        due), then handle them."""
        now = time.monotonic()
        if self.listening:
            room = self.nr_conns < self.settings.worker_connections
            self.set_accepting(room and now >= self.yield_accept_until)
        wait = min(EXPIRY_CHECK_SECONDS, max(0.0, self.live.next_due() - now))
        if not self.accepting and self.listening and now < self.yield_accept_until:
            wait = min(wait, self.yield_accept_until - now)
        try:
            events = self.poller.select(wait)
        except InterruptedError:
            events = []
        for key, _ in events:
            key.data(key.fileobj)
        now = time.monotonic()
        if now >= self.live.next_due():
            self.live.run_due(now)
        if now >= self.next_expiry:
            self.next_expiry = now + EXPIRY_CHECK_SECONDS
            # The arbiter's liveness check (a file's time set: a system call that lets the
            # GIL go) at this pace, not once per event: it allows `timeout` seconds.
            self.notify()
            self.expire(now)
            self.live.expire(now)
            if self.replaced and not self.draining and self.replacements_ready(now):
                self.drain()

    def set_accepting(self, accepting: bool):
        if accepting == self.accepting:
            return
        for listener in self.sockets:
            if accepting:
                self.poller.register(listener, selectors.EVENT_READ, self.on_connection)
            else:
                self.poller.unregister(listener)
        self.accepting = accepting

    def stop_listening(self):
        """Take every connection the kernel already completed, then close the listening
        sockets: from now on a connection is refused, never accepted and then reset."""
        self.set_accepting(False)
        for listener in self.sockets:
            with_backlog = True
            while with_backlog:
                with_backlog = self.accept(listener)
            listener.close()
        self.listening = False

    def on_connection(self, listener):
        """A connection is waiting. Every worker sharing the socket is woken for it; one that
        already holds a connection per thread lets ACCEPT_YIELD_SECONDS pass first, so that a
        sibling with fewer takes it, and a burst of keep-alive connections (a client's pool,
        a load balancer's) is spread over the workers instead of landing on one."""
        if self.nr_conns >= self.settings.threads and not self.yielded:
            self.yielded = True
            self.yield_accept_until = time.monotonic() + ACCEPT_YIELD_SECONDS
            self.set_accepting(False)
            return
        self.yielded = False
        self.accept(listener)

    def accept(self, listener) -> bool:
        """Take one new connection; False when none is waiting."""
        try:
            sock, client = listener.accept()
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                return False
            raise
        if not self.addresses.admit(client):
            self.turn_away(sock)
            return True
        sock.setblocking(False)
        self.nr_conns += 1
        self.await_request(Connection(sock, client, listener.getsockname(), self.on_readable))
        return True

    def turn_away(self, sock: socket.socket):
        """A connection over its address's cap: told so and closed at once (a lingering
        close would let the address hold the worker's connections once more). What it sent
        already is read first: closing with it unread would reset the connection, and the
        client could lose the answer."""
        refused = self.addresses.refusal()
        with contextlib.suppress(OSError), sock:
            sock.setblocking(False)
            sock.send(self.refusals.answer(refused, b"", time.monotonic()))
            sock.recv(RECV_SIZE)

    # -- reading requests (main thread) ----------------------------------------------------

    def await_request(self, conn: Connection):
        """Read the connection's next request: idle until its first byte, then against the
        read deadline. Bytes a client sent ahead (pipelining) may already hold it."""
        conn.continued = False
        if conn.buffer:
            conn.began = time.monotonic()
            conn.deadline = conn.began + self.read_timeout
            if self.advance(conn):
                return
        else:
            conn.deadline = time.monotonic() + self.settings.keepalive
        self.watch(conn)

    def watch(self, conn: Connection):
        self.waiting[conn] = None
        self.poller.register(conn.sock, selectors.EVENT_READ, conn.on_readable)

    def on_readable(self, conn: Connection, _sock):
        was_idle, closed = not conn.buffer, False
        try:
            data = conn.sock.recv(RECV_SIZE)  # more waiting, if any, wakes the selector again
            closed = not data
            conn.buffer += data
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            closed = True
        if closed:
            self.forget(conn)
            self.close(conn)
        elif not conn.buffer:
            return
        elif was_idle:  # the request's first bytes: it has the read deadline from now
            self.forget(conn)
            self.await_request(conn)
        else:
            self.forget(conn)
            if not self.advance(conn):
                self.watch(conn)

    def advance(self, conn: Connection) -> bool:
        """Act on what the buffer holds; True once the connection left the main thread's
        reading (handed to a thread, or refused)."""
        framed = conn.framer.frame(conn.buffer)
        if isinstance(framed, Incomplete):
            if framed.continue_expected and not conn.continued:
                conn.continued = True
                self.send_now(conn, answers.CONTINUE)
            return False
        if isinstance(framed, Refused):
            self.refuse(conn, framed, conn.buffer)
            return True
        if framed.body is not None:  # chunked: the head as sent, the body decoded
            request = bytes(conn.buffer[: framed.head_end])
        elif framed.end == len(conn.buffer):
            request = bytes(conn.buffer)
        else:
            request = bytes(conn.buffer[: framed.end])
        if framed.end == len(conn.buffer):
            conn.buffer.clear()
        else:
            del conn.buffer[: framed.end]
        self.dispatch(conn, request, framed)
        return True

    def expire(self, now: float):
        for conn in [conn for conn in self.waiting if conn.deadline <= now]:
            self.forget(conn)
            if conn.buffer:  # a request begun and not finished in time
                detail = f"The request did not arrive whole within {self.read_timeout:g} s."
                self.refuse(conn, Refused(408, "read_timeout", detail), conn.buffer)
            else:
                self.close(conn)
        for conn in [conn for conn, until in self.lingering.items() if until <= now]:
            self.stop_lingering(conn)
        for conn, since in self.request_threads.oldest_waiting():
            if now - since <= self.queue_timeout:
                break
            if conn.request.startswith(LIVENESS):
                continue
            if self.request_threads.take_back(conn):  # no thread took it in time: 503 right away
                self.live.release(conn.live)
                conn.live = None
                self.refuse(conn, self.too_busy, conn.request)

    def forget(self, conn: Connection):
        if self.waiting.pop(conn, False) is None:
            self.poller.unregister(conn.sock)

    # -- running requests (threads) --------------------------------------------------------

    def dispatch(self, conn: Connection, request: bytes, framed: Complete):
        conn.ready_at = time.monotonic()
        conn.request, conn.framed = request, framed
        self.request_threads.hand_over(conn, request, framed, conn.ready_at)

    def finish(self, conn: Connection, keep_alive):
        """Back on the main thread: read the next request, or close, or let the live hub
        hold the connection (server/live.py)."""
        gate, conn.live = conn.live, None
        if gate is not None and gate.woken is not None:  # a write's answer is out: wake now
            self.live.wake_everywhere(gate.woken)
        if keep_alive is PARKED:
            self.live.park(conn, gate)
            return
        if keep_alive is STREAMING:
            self.live.open(conn, gate)
            return
        self.live.release(gate)
        if keep_alive:
            if conn.sock.gettimeout() != 0.0:  # the answer waited to be sent (responses.py)
                conn.sock.setblocking(False)
            self.await_request(conn)
        else:
            self.linger(conn)
