"""The clients of bench/live.sh: `hold` opens N event streams on one server and keeps reading
them until killed; `wake` measures how long a write on one server takes to reach a stream on
another (the time from the write's answer to the event's arrival), as p50/p99."""

import http.client
import json
import selectors
import signal
import socket
import statistics
import sys
import time


def ticket(host: str, port: int, user: str, token: str, connection=None) -> str:
    connection = connection or http.client.HTTPConnection(host, port, timeout=10)
    connection.request(
        "POST", f"/api/{user}/changes/tickets", headers={"Authorization": f"Bearer {token}"}
    )
    return json.loads(connection.getresponse().read())["stream"]


def open_stream(host: str, port: int, path: str) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=10)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    sock.setblocking(False)
    return sock


def hold(host: str, port: int, user: str, token: str, count: int) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=10)
    selector = selectors.DefaultSelector()
    started = time.monotonic()
    for _ in range(count):
        sock = open_stream(host, port, ticket(host, port, user, token, connection))
        selector.register(sock, selectors.EVENT_READ)
    print(f"open {count} in {time.monotonic() - started:.1f} s", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        for key, _ in selector.select(1):
            if not key.fileobj.recv(65536):
                selector.unregister(key.fileobj)
                print("a stream closed", flush=True)


def wake(host: str, writer_port: int, stream_port: int, user: str, token: str, count: int):
    sock = open_stream(host, stream_port, ticket(host, stream_port, user, token))
    sock.setblocking(True)
    sock.settimeout(30)
    sock.recv(65536)  # the first sync
    writer = http.client.HTTPConnection(host, writer_port, timeout=10)
    latencies = []
    for number in range(count):
        body = json.dumps({"title": f"wake {number}"})
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        writer.request("POST", f"/api/{user}/tasks", body, headers)
        writer.getresponse().read()
        answered = time.perf_counter()
        received = b""
        while f'"wake {number}"'.encode() not in received:
            received += sock.recv(65536)
        latencies.append((time.perf_counter() - answered) * 1000)
        time.sleep(0.02)
    latencies.sort()
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    print(f"wake-ups {count}: p50 {statistics.median(latencies):.2f} ms, p99 {p99:.2f} ms")


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    if mode == "hold":
        port, user, token, count = args
        hold("127.0.0.1", int(port), user, token, int(count))
    else:
        writer_port, stream_port, user, token, count = args
        wake("127.0.0.1", int(writer_port), int(stream_port), user, token, int(count))
