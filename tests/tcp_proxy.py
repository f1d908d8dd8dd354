"""A TCP proxy the tests can cut and restore, to take a database away from a running server."""

import contextlib
import socket
import threading


class TCPProxy:
    """Forwards 127.0.0.1:<port> to a target; `cut()` refuses and drops every connection;
    `stall()` keeps accepting and holding connections but forwards nothing until `resume()`,
    as a frozen server or a hung network path does."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.port = free_port()
        self.listener = None
        self.connections = []
        self.lock = threading.Lock()
        self.flowing = threading.Event()
        self.flowing.set()

    def start(self):
        self.listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        threading.Thread(target=self.accept, args=(self.listener,), daemon=True).start()

    def accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=pipe, args=(source, sink, self.flowing), daemon=True
                ).start()

    def cut(self):
        close(self.listener)  # shutdown wakes the thread blocked in accept(); close alone would not
        with self.lock:
            for connection in self.connections:
                close(connection)
            self.connections.clear()

    def restore(self):
        self.start()

    def stall(self):
        self.flowing.clear()

    def resume(self):
        self.flowing.set()


def pipe(source, sink, flowing):
    try:
        while data := source.recv(65536):
            flowing.wait()
            sink.sendall(data)
    except OSError:
        pass
    finally:
        close(source)
        close(sink)


def close(connection):
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    connection.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
