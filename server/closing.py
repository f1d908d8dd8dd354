"""How a worker's main thread ends a connection: so that its client reads the whole last
answer (server/worker.py)."""

import contextlib
import selectors
import socket
import time
from functools import partial

from .answers import Refused
from .connection import Connection

RECV_SIZE = 64 * 1024
LINGER_SECONDS = 2.0  # how long a closing connection is drained so the client reads the answer


class Closing:
    """BufferingWorker's closing of connections, kept apart (it uses the worker's selector,
    its lingering connections and counts)."""

    def refuse(self, conn: Connection, refused: Refused, asked: bytes | bytearray):
        """Answer the request that `asked` begins ourselves, and close."""
        self.send_now(conn, self.refusals.answer(refused, asked, conn.began))
        self.linger(conn)

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
