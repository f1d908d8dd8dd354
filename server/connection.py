"""A client connection as a worker holds it (server/worker.py)."""

import socket
from functools import partial

from config import body_limit

from .framing import RequestFramer


class Connection:
    """A client connection and the bytes it has sent that no thread has taken yet."""

    __slots__ = (
        "began",
        "buffer",
        "client",
        "continued",
        "deadline",
        "framed",
        "framer",
        "live",
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
        self.request = b""  # the request handed to a thread (a chunked one's head)
        self.framed = None  # how server/framing.py framed it (a held request runs again)
        self.live = None  # the Gate of its last run (server/gate.py), while the hub has it
        self.on_readable = partial(on_readable, self)
