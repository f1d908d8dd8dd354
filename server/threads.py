"""The worker's threads, which run the whole requests its main thread hands them."""

import queue
import threading


class RequestThreads:
    """`count` threads that run `serve(conn, request, framed)` for each request handed
    over by `hand_over`, oldest first, then call `done(conn, keep_alive)` with what it gave
    (False if it raised).

    concurrent.futures' pool does the same with a Future per request, its locks, done
    callbacks and state checks (~3% of a task read's CPU, py-spy); here a request is one
    queue entry and one entry of `waiting`. A request not started yet can be taken back by
    the main thread (`take_back`), which then answers it itself: whichever of the two removes
    it from `waiting` first has it, so it is never both run and answered."""

    def __init__(self, count: int, serve, done):
        self.serve, self.done = serve, done
        self.requests = queue.SimpleQueue()
        self.waiting = {}  # connections whose request no thread has started, oldest first
        # Daemons: a worker that fails to load its app, or is past its graceful timeout, exits
        # at once instead of waiting for them (server/worker.py waits for its connections).
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(count)]
        for thread in self.threads:
            thread.start()

    def hand_over(self, conn, request: bytes, framed, since: float) -> None:
        self.waiting[conn] = since
        self.requests.put((conn, request, framed))

    def call(self, task) -> None:
        """Run `task()` in a thread, after the requests handed over before it (a held
        request's step: server/live.py); it must not raise."""
        self.requests.put((None, task, None))

    def oldest_waiting(self) -> list:
        """(connection, handed over since) of the requests not started yet, oldest first."""
        return list(self.waiting.items())

    def take_back(self, conn) -> bool:
        """True if `conn`'s request had not started: no thread will run it now."""
        return self.waiting.pop(conn, None) is not None

    def stop(self) -> None:
        """Let each thread end once the requests handed over before are done."""
        for _ in self.threads:
            self.requests.put(None)

    def run(self) -> None:
        while (handed := self.requests.get()) is not None:
            conn, request, framed = handed
            if conn is None:
                request()
                continue
            if not self.take_back(conn):
                continue  # the main thread took it back and answered it
            try:
                keep_alive = self.serve(conn, request, framed)
            except BaseException:  # serve answers what it can; the connection then closes
                keep_alive = False
            self.done(conn, keep_alive)
