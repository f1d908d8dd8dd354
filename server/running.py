"""What a worker's threads do with a whole request the main thread hands them (server/worker.py):
parse its head with gunicorn's parser, run the app and write its answer, or answer it
themselves, when it waited too long for a thread or cannot be parsed."""

import time
from datetime import datetime

from gunicorn.http import RequestParser, wsgi
from gunicorn.http.body import Body, LengthReader
from gunicorn.http.unreader import IterUnreader

from . import answers
from .answers import Refused
from .connection import Connection
from .framing import Complete
from .gate import ENVIRON_KEY, Gate
from .live import PARKED, STREAMING
from .responses import OneSendResponse

DRAINING = "todo.draining"  # the WSGI environ key the app's readiness probe reads
# The liveness probe waits for a thread however long it takes, and is never refused for
# waiting (REQUEST_QUEUE_TIMEOUT): busy threads are no reason to restart a host.
LIVENESS = b"GET /healthz "


class RequestRunning:
    """BufferingWorker's thread side, kept apart (it reads the worker's settings, app, log
    and refusals)."""

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
            if keep_alive is PARKED or keep_alive is STREAMING:
                return keep_alive
            # Whatever gunicorn's parser left of these bytes means it framed them otherwise
            # than server/framing.py did: the next request's start is unknown.
            return keep_alive and parser.finish_body() and not parser.unreader.buf.getbuffer()
        except Exception as error:
            self.answer_error(conn, request, error)
            return False

    def handle_request(self, req, conn: Connection, close: bool):
        """Run the app for `req`, as gunicorn's gthread does, with the drain flag and the way
        to the live hub (server/gate.py) in environ. True if the connection stays open for
        another request; PARKED or STREAMING when the hub is to hold it."""
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
        prior = conn.live  # the run before, when the hub held this request
        gate = environ[ENVIRON_KEY] = conn.live = Gate(self.live)
        if prior is not None:
            gate.deadline, gate.over, gate.slot = prior.held[1], prior.over, prior.slot
        self.nr += 1
        if self.nr >= self.max_requests:
            self.log.info("Autorestarting worker after current request.")
            self.alive = False
        if close or not self.alive or not settings.keepalive:
            resp.force_close()
        respiter = None
        try:
            respiter = self.wsgi(environ, resp.start_response)
            if gate.held is not None:
                return PARKED  # nothing sent: the request runs again later
            for item in respiter:
                resp.write(item)
            if gate.streamed is not None:  # its head and first bytes sent: the hub goes on
                gate.chunked = resp.chunked
                return STREAMING
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
