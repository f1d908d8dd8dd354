"""A proxy in front of PostgreSQL that records the SQL text of every query message it forwards:
what the server received, whoever sent it (the app, or a pooler in between)."""

import socket
import struct
import threading

from tests.tcp_proxy import close, free_port, pipe

SSL_REQUEST, GSSENC_REQUEST = 80877103, 80877104
QUERY, PARSE = b"Q", b"P"


class WireLog:
    """Forwards 127.0.0.1:<port> to PostgreSQL on `target_port`; `texts` holds the SQL of each
    simple query ('Q') and each prepared statement ('P') message, in arrival order. It answers
    a request for TLS itself with "no", so that what follows can be read."""

    def __init__(self, target_port: int = 5432):
        self.target = ("127.0.0.1", target_port)
        self.port = free_port()
        self.texts: list[str] = []
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # stopped
            threading.Thread(target=self.relay, args=(client,), daemon=True).start()

    def relay(self, client: socket.socket):
        try:
            upstream = socket.create_connection(self.target)
        except OSError:
            close(client)
            return
        threading.Thread(target=pipe, args=(upstream, client, ALWAYS), daemon=True).start()
        try:
            self.read_startup(client, upstream)
            while True:
                kind = read_exactly(client, 1)
                length = read_exactly(client, 4)
                body = read_exactly(client, struct.unpack("!i", length)[0] - 4)
                if kind in (QUERY, PARSE):
                    self.record(kind, body)
                upstream.sendall(kind + length + body)
        except (OSError, EOFError):
            pass
        finally:
            close(client)
            close(upstream)

    def read_startup(self, client: socket.socket, upstream: socket.socket):
        """The first message has no type byte; a TLS or GSS request is refused here."""
        while True:
            length = read_exactly(client, 4)
            body = read_exactly(client, struct.unpack("!i", length)[0] - 4)
            if struct.unpack("!i", body[:4])[0] in (SSL_REQUEST, GSSENC_REQUEST):
                client.sendall(b"N")
                continue
            upstream.sendall(length + body)
            return

    def record(self, kind: bytes, body: bytes):
        if kind == PARSE:
            body = body.split(b"\0", 1)[1]  # after the statement's name
        with self.lock:
            self.texts.append(body.split(b"\0", 1)[0].decode())

    def stop(self):
        close(self.listener)


class Always:
    """The flowing switch of tests.tcp_proxy.pipe, always on."""

    def wait(self):
        return True


ALWAYS = Always()


def read_exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data
