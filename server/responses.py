"""The worker's HTTP/1.1 answers: gunicorn's, with the head sent together with the body."""

from gunicorn.http.wsgi import Response


class HeldHead:
    """Where gunicorn's `send_headers` writes an answer's head: kept, not sent."""

    __slots__ = ("data",)

    def sendall(self, data: bytes) -> None:
        self.data = data


class OneSendResponse(Response):
    """gunicorn's Response sends an answer's head, then its body: two sends, two TCP segments,
    and a client woken for each. Here the head is held until the body's first bytes and both
    go in one `sendmsg` (no copy of the body); an answer without a body (204, 304, HEAD) sends
    its head when it closes, a chunked one before its first chunk.

    The socket comes as the worker's main thread reads it, without blocking, and the one send
    is tried as it is: only what the socket cannot take at once (a large answer, a slow
    reader) is then sent waiting up to `write_timeout` for each send, as gunicorn's writes
    do. A timeout set for every request is three system calls more (set, a poll before the
    send, unset by the main thread), each of which lets another thread take the GIL."""

    held = None

    def __init__(self, req, sock, cfg, write_timeout: float):
        super().__init__(req, sock, cfg)
        self.write_timeout = write_timeout

    def send_headers(self):
        if self.headers_sent:
            return
        sock, self.sock = self.sock, HeldHead()
        try:
            super().send_headers()
            self.held = self.sock.data
        finally:
            self.sock = sock

    def _emit_body(self, data):
        head, self.held = self.held, None
        if head is not None and not self.chunked:
            self.send(head, data)
            return
        self.waiting_sends()
        if head is not None:
            self.sock.sendall(head)
        super()._emit_body(data)

    def close(self):
        self.send_headers()
        head, self.held = self.held, None
        if head is not None:
            self.send(head, b"")
        if self.chunked:
            self.waiting_sends()
        super().close()

    def send(self, head: bytes, body: bytes) -> None:
        """`head` then `body`: in one call, and what the socket did not take in one more,
        waiting (so the answer takes `write_timeout` at most)."""
        try:
            sent = self.sock.sendmsg((head, body))
        except BlockingIOError:
            sent = 0
        if sent < len(head) + len(body):
            self.waiting_sends()
            rest = head[sent:] + body if sent < len(head) else memoryview(body)[sent - len(head) :]
            self.sock.sendall(rest)

    def waiting_sends(self) -> None:
        """From now on, each send waits for the socket, up to `write_timeout`."""
        if self.sock.gettimeout() != self.write_timeout:
            self.sock.settimeout(self.write_timeout)
