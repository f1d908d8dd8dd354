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


def answer_within(seconds: float, call, *args, **kwargs):
    """`call(*args, **kwargs)` in a thread; fails the test if it has not returned in time (the
    thread is left to finish once whatever held it lets go)."""
    answers = []
    worker = threading.Thread(target=lambda: answers.append(call(*args, **kwargs)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert answers, f"no answer within {seconds} s"
    return answers[0]
