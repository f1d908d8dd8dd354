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
  (new connections are refused, never accepted and reset), and finishes what it holds.

TLS and HTTP/2 are left to the proxy or load balancer in front.
"""

import contextlib
import errno
import os
import selectors
import socket
import time
from datetime import datetime
from functools import partial

from gunicorn import util
from gunicorn.http import RequestParser, wsgi
from gunicorn.http.body import Body, LengthReader
from gunicorn.http.unreader import IterUnreader
from gunicorn.workers import base
from gunicorn.workers.gthread import PollableMethodQueue

from config import body_limit, server_timeouts

from . import answers
from .addresses import ConnectionsPerAddress, connections_per_address
from .answers import Refused
from .dates import DateOncePerSecond
from .framing import Complete, Incomplete, RequestFramer
from .refusals import Refusals
from .responses import OneSendResponse
from .settled import SettledConfig
from .threads import RequestThreads

DRAINING = "todo.draining"  # the WSGI environ key the app's readiness probe reads
RECV_SIZE = 64 * 1024
LINGER_SECONDS = 2.0  # how long a closing connection is drained so the client reads the answer
EXPIRY_CHECK_SECONDS = 0.25
ACCEPT_YIELD_SECONDS = 0.002
# The liveness probe waits for a thread however long it takes, and is never refused for
# waiting (REQUEST_QUEUE_TIMEOUT): busy threads are no reason to restart a host.
LIVENESS = b"GET /healthz "


class Connection:
    """A client connection and the bytes it has sent that no thread has taken yet."""

    __slots__ = (
        "began",
        "buffer",
        "client",
        "continued",
        "deadline",
        "framer",
        "on_readable",
        "ready_at",
        "request",
        "server",
        "sock",
    )

    def __init__(self, sock: socket.socket, client, server, on_readable):
        self.sock = sock
        self.client = client
        self.server = server
        self.buffer = bytearray()
        self.framer = RequestFramer(body_limit)
        self.began = 0.0  # when the request being read or run sent its first byte
        self.deadline = 0.0
        self.continued = False  # `100 Continue` already sent for the request being read
        self.ready_at = 0.0
        self.request = b""  # the head of the request handed to a thread
        self.on_readable = partial(on_readable, self)


class BufferingWorker(base.Worker):
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
        if not isinstance(util.http_date, DateOncePerSecond):
            util.http_date = DateOncePerSecond(util.http_date)  # gunicorn's responses call it
        super().init_process()

    # -- signals ---------------------------------------------------------------------------

    def handle_exit(self, sig, frame):
        """SIGTERM: start draining (server/worker.py's docstring); the main loop does the rest."""
        if not self.draining:
            self.draining = True
            self.drain_until = time.monotonic() + self.drain_seconds
            self.method_queue.defer(lambda: None)  # wake the selector

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
        while self.alive and not (self.draining and time.monotonic() >= self.drain_until):
            self.tick()
            if self.ppid != os.getppid():
                self.log.info("Parent changed, shutting down: %s", self)
                break
        self.stop_listening()
        stop_by = time.monotonic() + self.cfg.graceful_timeout
        while self.nr_conns and time.monotonic() < stop_by:
            self.tick()
        self.request_threads.stop()
        for conn in [*self.waiting, *self.lingering]:
            conn.sock.close()

    def tick(self):
        """Wait for events (at most until the next deadline check), then handle them."""
        now = time.monotonic()
        if self.listening:
            room = self.nr_conns < self.settings.worker_connections
            self.set_accepting(room and now >= self.yield_accept_until)
        wait = EXPIRY_CHECK_SECONDS
        if not self.accepting and self.listening and now < self.yield_accept_until:
            wait = self.yield_accept_until - now
        try:
            events = self.poller.select(wait)
        except InterruptedError:
            events = []
        for key, _ in events:
            key.data(key.fileobj)
        now = time.monotonic()
        if now >= self.next_expiry:
            self.next_expiry = now + EXPIRY_CHECK_SECONDS
            # The arbiter's liveness check (a file's time set: a system call that lets the
            # GIL go) at this pace, not once per event: it allows `timeout` seconds.
            self.notify()
            self.expire(now)

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

    def refuse(self, conn: Connection, refused: Refused, asked: bytes | bytearray):
        """Answer the request that `asked` begins ourselves, and close."""
        self.send_now(conn, self.refusals.answer(refused, asked, conn.began))
        self.linger(conn)

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
                self.refuse(conn, self.too_busy, conn.request)

    def forget(self, conn: Connection):
        if self.waiting.pop(conn, False) is None:
            self.poller.unregister(conn.sock)

    # -- running requests (threads) --------------------------------------------------------

    def dispatch(self, conn: Connection, request: bytes, framed: Complete):
        conn.ready_at = time.monotonic()
        conn.request = request
        self.request_threads.hand_over(conn, request, framed, conn.ready_at)

    def serve(self, conn: Connection, request: bytes, framed: Complete) -> bool:
        """Parse and run one whole request; True if the connection stays open for another."""
        try:
            waited = time.monotonic() - conn.ready_at
            if waited > self.queue_timeout and not request.startswith(LIVENESS):
                self.answer_now(conn, self.too_busy, request)
                return False
            parser = RequestParser(self.settings, [request], conn.client)
            req = next(parser)
            if framed.body is not None:  # decoded by server/chunked.py; gunicorn's reader unused
                req.body = Body(LengthReader(IterUnreader([framed.body]), len(framed.body)))
            keep_alive = self.handle_request(req, conn, framed.close_after or self.draining)
            # Whatever gunicorn's parser left of these bytes means it framed them otherwise
            # than server/framing.py did: the next request's start is unknown.
            return keep_alive and parser.finish_body() and not parser.unreader.buf.getbuffer()
        except Exception as error:
            self.answer_error(conn, request, error)
            return False

    def handle_request(self, req, conn: Connection, close: bool) -> bool:
        """Run the app for `req`, as gunicorn's gthread does, with the drain flag in environ."""
        settings = self.settings
        settings.pre_request(self, req)
        started = datetime.now()
        req._expected_100_continue = False  # sent by the main thread, or the body came anyway
        resp, environ = wsgi.create(
            req,
            conn.sock,
            conn.client,
            conn.server,
            settings,
            response_class=OneSendResponse,
            response_args=(self.read_timeout,),  # bounds writing the answer
        )
        environ["wsgi.multithread"] = True
        environ[DRAINING] = self.draining
        self.nr += 1
        if self.nr >= self.max_requests:
            self.log.info("Autorestarting worker after current request.")
            self.alive = False
        if close or not self.alive or not settings.keepalive:
            resp.force_close()
        respiter = None
        try:
            respiter = self.wsgi(environ, resp.start_response)
            for item in respiter:
                resp.write(item)
            resp.close()
        except Exception:
            if resp.headers_sent:  # a second answer on this socket would corrupt the first
                self.log.exception("Error handling request")
                return False
            raise
        finally:
            self.log.access(resp, req, environ, datetime.now() - started)
            if hasattr(respiter, "close"):
                respiter.close()
            try:
                settings.post_request(self, req, environ, resp)
            except Exception:
                self.log.exception("Exception in post_request hook")
        return not resp.should_close()

    def answer_error(self, conn: Connection, request: bytes, error: Exception):
        """Answer what went wrong as problem+json (gunicorn's own answers are HTML)."""
        if isinstance(error, answers.CLIENT_ERRORS):
            refused = answers.parse_error(error)
        elif isinstance(error, OSError):
            self.log.debug("Socket error while serving: %s", error)
            return
        else:
            self.log.exception("Error handling request")
            detail = "An unexpected error occurred; it has been logged."
            refused = Refused(500, "server_error", detail)
        try:
            self.answer_now(conn, refused, request)
        except OSError:
            self.log.debug("Could not send the error answer.")

    def answer_now(self, conn: Connection, refused: Refused, request: bytes):
        """A thread's own answer, written within the write timeout; the connection closes."""
        conn.sock.settimeout(self.read_timeout)
        conn.sock.sendall(self.refusals.answer(refused, request, conn.began))

    def served(self, conn: Connection, keep_alive: bool):
        """A thread is done with the connection's request (server/threads.py calls this)."""
        self.method_queue.defer(self.finish, conn, keep_alive)

    def finish(self, conn: Connection, keep_alive: bool):
        """Back on the main thread: read the next request, or close."""
        if keep_alive:
            if conn.sock.gettimeout() != 0.0:  # the answer waited to be sent (responses.py)
                conn.sock.setblocking(False)
            self.await_request(conn)
        else:
            self.linger(conn)

    # -- closing ---------------------------------------------------------------------------

    def send_now(self, conn: Connection, data: bytes):
        """A short answer from the main thread; it fits the socket's buffer, or is dropped."""
        with contextlib.suppress(OSError):
            conn.sock.send(data)

    def linger(self, conn: Connection):
        """Close after the client has read our answer: send FIN, then read and drop what it
        still sends until it closes (or LINGER_SECONDS), so no reset destroys the answer."""
        try:
            conn.sock.setblocking(False)
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.close(conn)
            return
        conn.buffer.clear()
        self.lingering[conn] = time.monotonic() + LINGER_SECONDS
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.drain_lingering, conn))

    def drain_lingering(self, conn: Connection, _sock):
        try:
            while conn.sock.recv(RECV_SIZE):
                pass
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self.stop_lingering(conn)

    def stop_lingering(self, conn: Connection):
        del self.lingering[conn]
        self.poller.unregister(conn.sock)
        self.close(conn)

    def close(self, conn: Connection):
        conn.sock.close()
        self.nr_conns -= 1
        self.addresses.release(conn.client)
