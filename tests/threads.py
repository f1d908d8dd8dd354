"""Requests released at the same moment from real threads, each with its own client."""

import threading
from concurrent.futures import ThreadPoolExecutor


def at_once(app, count, request):
    """Run `request(client)` in `count` threads released together; return the answers."""
    barrier = threading.Barrier(count)

    def run(_):
        client = app.test_client()
        barrier.wait()
        return request(client)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))
