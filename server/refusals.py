"""The answers the worker gives itself (server/answers.py), recorded as the app records its own:
a line in the access log, in todo/access_log.py's shape with a `reason`, and a count in
/metrics' `todo_http_requests_total`, with route "server" and that reason.

Refusals are rare, so what was asked (method, path, the client's X-Request-ID) is found in
the raw bytes each time, at no cost to the requests that are served.
"""

import os
import re
import time
from random import getrandbits

from prometheus_client import Counter

from logs import write_request_line

from .answers import Refused, problem

# A label of /metrics takes only these values; any other method counts as "other".
METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"})
REQUEST_LINE = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]{1,20}) ([^ ?\r\n]{1,256})")
# A request id the client sent, taken as the app takes it (todo/requests.py).
SENT_REQUEST_ID = re.compile(
    rb"\r\nx-request-id:[ \t]*([A-Za-z0-9._:-]{1,128})[ \t]*\r\n", re.IGNORECASE
)
HEAD_SEARCHED = 32 * 1024  # the request id is looked for this far into what was asked


class Refusals:
    """What one worker process refuses: each refusal's answer, logged and counted."""

    def __init__(self):
        self.counter = requests_counter()

    def answer(self, refused: Refused, asked: bytes | bytearray, began: float) -> bytes:
        """The bytes of `refused`'s answer to the request starting `asked` (empty when nothing
        was read), once logged and counted; `began`: when its first byte came (monotonic)."""
        line = REQUEST_LINE.match(asked)
        method, path = (
            (line[1].decode("latin-1"), line[2].decode("latin-1")) if line else (None, None)
        )
        sent = SENT_REQUEST_ID.search(asked, 0, HEAD_SEARCHED)
        request_id = sent[1].decode() if sent else f"{getrandbits(128):032x}"
        status = refused.status
        write_request_line(
            f"{method or '-'} {path or '-'} {status}",
            {
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round((time.monotonic() - began) * 1000, 2),
                "request_id": request_id,
                "user_id": None,
                "reason": refused.reason,
            },
        )
        if self.counter is not None:
            label = method if method in METHODS else "other"
            self.counter.labels(label, "server", str(status), refused.reason).inc()
        return problem(refused, request_id)


def requests_counter():
    """The app's counter of answers (todo/metrics.py), which a scrape adds these to, with a
    `reason` label; None unless the process counts into prometheus_client's multiprocess
    files (gunicorn with METRICS_TOKEN set: gunicorn.conf.py)."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return None
    labels = ["method", "route", "status", "reason"]
    return Counter("todo_http_requests", "Requests answered", labels, registry=None)
