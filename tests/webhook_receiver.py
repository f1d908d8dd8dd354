"""A webhook receiver for the tests, as a user would write one: every message checked with
the `standardwebhooks` package from PyPI (not the app's own code), each message applied once
(by its `webhook-id`), in the order of its `sequence`. It can be told to fail, to stall or to
redirect, or to do something once it applied a message, before it answers; it counts the
deliveries it is in at once, and keeps the paths it was sent to."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook


class Receiver:
    def __init__(self):
        self.secret: str | None = None
        self.messages: list[dict] = []  # applied, in order: each once
        self.received = 0  # every POST, duplicates and failures too
        self.duplicates = 0
        self.refused_signatures = 0
        self.out_of_order = 0
        self.fail_with: int | None = None  # answer this status instead of 2xx
        self.redirect_to: str | None = None
        self.stall = 0.0  # seconds to wait before answering
        self.after_message = None  # called with each message applied, before the 2xx
        self.paths: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.paths.append(self.path)
                status = receiver.take(body, dict(self.headers))
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", receiver.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    def take(self, body: bytes, headers: dict) -> int:
        with self.lock:
            self.received += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.stall:
                time.sleep(self.stall)
            if self.redirect_to:
                return 302
            if self.fail_with:
                return self.fail_with
            try:
                message = Webhook(self.secret).verify(body, headers)
            except Exception:
                with self.lock:
                    self.refused_signatures += 1
                return 400
            with self.lock:
                self.apply(headers["webhook-id"], message)
            if self.after_message is not None:
                self.after_message(message)
            return 204
        finally:
            with self.lock:
                self.in_flight -= 1

    def apply(self, message_id: str, message: dict) -> None:
        if message["type"] != "feed.page":
            self.messages.append(message)
            return
        sequence = message["data"]["sequence"]
        pages = [m for m in self.messages if m["type"] == "feed.page"]
        if any(m["id"] == message_id for m in pages):
            self.duplicates += 1
            return
        if sequence != len(pages) + 1:
            self.out_of_order += 1
        self.messages.append({**message, "id": message_id})

    def pages(self) -> list[dict]:
        return [m["data"] for m in self.messages if m["type"] == "feed.page"]

    def task_titles(self) -> list[str]:
        return [task["title"] for page in self.pages() for task in page["tasks"]]

    def wait_for(self, condition, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"not within {seconds} s: {json.dumps(self.pages())[:500]}")
            time.sleep(0.05)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
