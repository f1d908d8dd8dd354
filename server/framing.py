"""Where one HTTP/1.1 request ends in a connection's bytes, found as they arrive, and whether
the server takes it at all.

The worker (server/worker.py) reads a connection's bytes as they come and hands a request to a
thread only once this module says it is complete; gunicorn's own parser then parses its head.
This module decides framing (RFC 9112 section 6): where the header block ends and how long
the body is (Content-Length, or the chunks up to the last one: server/chunked.py). It refuses
outright what must never reach the app: a head or body over its limit, a malformed chunked
body, an HTTP/1.1 request without Host. Any other head it does not understand is handed over
as it stands and marked `close_after`: gunicorn's parser refuses it before the app runs (a
head is parsed whole first), and the connection, whose next request could not be found
safely, is closed.

Each call resumes where the last one stopped, so a request that arrives a byte at a time
costs what one that arrives at once does.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from .answers import Refused, body_too_large
from .chunked import ChunkedBody

HEADER_END = b"\r\n\r\n"
CRLF = b"\r\n"
# A request line longer than this is answered 414 before its headers are waited for.
REQUEST_LINE_LIMIT = 8 * 1024
# The whole header block: gunicorn's own limits (100 fields of 8 KiB) would let one request
# make a worker hold 800 KiB; no client of this API sends more than a few hundred bytes.
HEADER_BLOCK_LIMIT = 32 * 1024
DIGITS = re.compile(rb"[0-9]{1,18}")
FRAMING_HEADERS = (b"\r\ncontent-length:", b"\r\ntransfer-encoding:", b"\r\nexpect:")


@dataclass(frozen=True, slots=True)
class Complete:
    """The request is bytes [0, end); `close_after`: close once it is answered (its framing
    is suspect, or the client asked to). `body`: its chunked body decoded, which the app is
    given in place of bytes [head_end, end)."""

    end: int
    close_after: bool = False
    head_end: int = 0
    body: bytes | None = None


@dataclass(frozen=True, slots=True)
class Incomplete:
    """More bytes are needed; `continue_expected`: the client waits for `100 Continue` before it
    sends the body."""

    continue_expected: bool = False


NEED_MORE = Incomplete()
CONTINUE_EXPECTED = Incomplete(continue_expected=True)
NO_HOST = Refused(400, "no_host", "An HTTP/1.1 request must carry a Host header.")


class RequestFramer:
    """The framing of the request at the start of one connection's buffer, kept from one read
    to the next; `frame` is called with the buffer each time it has grown."""

    __slots__ = (
        "body_limit",
        "chunked",
        "close_after",
        "head_end",
        "length_end",
        "line_ok",
        "scanned",
    )

    def __init__(self, body_limit: Callable[[bytes | bytearray], int]):
        self.body_limit = body_limit  # the largest body allowed, by the request's head
        self.reset()

    def reset(self) -> None:
        """Ready for the next request, which the buffer now starts with."""
        self.scanned = 0  # where the search for the end of the head resumes
        self.line_ok = False  # the request line is known to end within its limit
        self.head_end = 0  # where the body starts, once the head is whole
        self.length_end = 0  # where a Content-Length body ends
        self.chunked = None
        self.close_after = False

    def frame(self, buffer: bytearray) -> Complete | Incomplete | Refused:
        """How much of `buffer` (which starts at a request) the request takes."""
        if self.head_end:
            return self.body(buffer)
        header_end = buffer.find(HEADER_END, self.scanned)
        if header_end < 0:
            return self.waiting_for_head(buffer)
        body_start = header_end + len(HEADER_END)
        if body_start > HEADER_BLOCK_LIMIT:
            return header_too_large()
        block = bytes(buffer[:header_end]).lower()
        if b"\r\nhost:" not in block and needs_host(block):
            return NO_HOST
        close = b"close" in block and asks_to_close(block)
        if not any(name in block for name in FRAMING_HEADERS):
            return self.complete(body_start, close)  # the common case: a request without a body
        fields = header_fields(block)
        if fields is None:
            return self.complete(body_start, close_after=True)
        lengths, codings, expects = fields
        if codings:
            if lengths or codings[-1] != b"chunked":
                return self.complete(body_start, close_after=True)  # refused by the parser
            self.chunked = ChunkedBody(body_start, self.body_limit(buffer))
        elif not lengths:
            return self.complete(body_start, close)
        elif len(set(lengths)) != 1 or not DIGITS.fullmatch(lengths[0]):
            return self.complete(body_start, close_after=True)
        elif int(lengths[0]) > self.body_limit(buffer):
            return body_too_large(self.body_limit(buffer))
        else:
            self.length_end = body_start + int(lengths[0])
        self.head_end, self.close_after = body_start, close
        framed = self.body(buffer)
        if framed is NEED_MORE and len(buffer) == body_start and b"100-continue" in expects:
            return CONTINUE_EXPECTED
        return framed

    def waiting_for_head(self, buffer) -> Incomplete | Refused:
        self.scanned = max(0, len(buffer) - len(HEADER_END) + 1)
        if len(buffer) > REQUEST_LINE_LIMIT and not self.line_ok:
            if buffer.find(CRLF, 0, REQUEST_LINE_LIMIT + len(CRLF)) < 0:
                return Refused(
                    414,
                    "line_too_long",
                    f"The request line is longer than {REQUEST_LINE_LIMIT} bytes.",
                )
            self.line_ok = True
        if len(buffer) > HEADER_BLOCK_LIMIT:
            return header_too_large()
        return NEED_MORE

    def body(self, buffer) -> Complete | Incomplete | Refused:
        if self.chunked is None:
            if len(buffer) < self.length_end:
                return NEED_MORE
            return self.complete(self.length_end, self.close_after)
        end = self.chunked.advance(buffer)
        if end is None:
            return NEED_MORE
        if isinstance(end, Refused):
            return end
        return self.complete(end, self.close_after, self.head_end, self.chunked.decoded())

    def complete(self, end: int, close_after: bool, head_end: int = 0, body=None) -> Complete:
        if self.scanned or self.head_end:
            self.reset()
        return Complete(end, close_after, head_end, body)


def header_too_large() -> Refused:
    return Refused(
        431,
        "headers_too_large",
        f"The request's headers are larger than {HEADER_BLOCK_LIMIT} bytes.",
    )


def needs_host(block: bytes) -> bool:
    """An HTTP/1.1 request must name its host (RFC 9112 section 3.2); HTTP/1.0 predates the
    field. A line that is not a request line is left to gunicorn's parser to refuse."""
    version = block.partition(CRLF)[0][-9:]
    return version.startswith(b" http/1.") and version != b" http/1.0"


def asks_to_close(block: bytes) -> bool:
    """`close` among the options of any Connection field (RFC 9110 section 7.6.1): gunicorn
    looks only at the first field, and only when `close` is all it says."""
    for line in block.split(CRLF)[1:]:
        name, _, options = line.partition(b":")
        if name == b"connection" and b"close" in (
            part.strip(b" \t") for part in options.split(b",")
        ):
            return True
    return False


def header_fields(block: bytes):
    """(Content-Length values, transfer codings, Expect values) of a lower-cased header block,
    or None if a line is not `name: value` (folded, or with space before the colon)."""
    lengths, codings, expects = [], [], []
    for line in block.split(CRLF)[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            return None
        value = value.strip()
        if name == b"content-length":
            lengths.append(value)
        elif name == b"transfer-encoding":
            codings.extend(coding.strip() for coding in value.split(b","))
        elif name == b"expect":
            expects.append(value)
    return lengths, codings, expects
