"""A chunked request body (RFC 9112 section 7.1), checked and decoded as its bytes arrive.

The worker's main thread decides whether a chunked body is well formed before any thread runs
the app: otherwise a route that never reads its body answers first and gunicorn's parser finds
the fault only afterwards, as it drains the body (a second, unasked-for answer on the
connection), and a route that reads it ends in a 500. So whatever the grammar forbids is
refused here, 400 and close, and the app is given the decoded body instead of the chunks:
gunicorn's chunk parser, given a whole request, copies what is left of it for every chunk
(~25 CPU-s for 64 KiB of 1-byte chunks), and is never run.

The walk resumes where the last read stopped: each byte is searched once and copied at most
twice, however the body is split over reads.
"""

import re

from .answers import Refused, body_too_large

CR, LF, CRLF = 13, b"\n", b"\r\n"
# A chunk-size line (the size and its extensions) or a trailer line longer than this is
# refused; real clients send a few bytes of size and no extensions.
LINE_LIMIT = 1024
# What a chunked body may take on the wire, in multiples of the largest decoded body: 1-byte
# chunks take 6 (`1\r\nx\r\n`). It bounds what a connection's buffer holds.
WIRE_FACTOR = 8
# RFC 9112 section 7.1.1, with token and quoted-string from RFC 9110 section 5.6:
#   chunk-size [ chunk-ext ] CRLF, chunk-size = 1*HEXDIG,
#   chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
QUOTED_STRING = rb'"(?:[\t !#-\[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*"'
EXTENSION = (
    rb"[ \t]*;[ \t]*" + TOKEN + rb"(?:[ \t]*=[ \t]*(?:" + TOKEN + b"|" + QUOTED_STRING + b"))?"
)
CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]{1,16})(?:" + EXTENSION + rb")*")
# RFC 9112 section 5 and RFC 9110 section 5.5: field-name ":" OWS field-value OWS, the value
# visible characters (obs-text included) with spaces or tabs between them; no folding.
FIELD_VALUE = rb"(?:[!-~\x80-\xff](?:[ \t]*[!-~\x80-\xff])*)?"
FIELD_LINE = re.compile(rb"(" + TOKEN + rb"):[ \t]*" + FIELD_VALUE + rb"[ \t]*")
# RFC 9110 section 6.5.1: fields that frame, route, authenticate or control the message, or
# say how to read its content, mean nothing after it; a trailer naming one is refused.
FORBIDDEN_TRAILERS = frozenset(
    {
        b"authorization",
        b"connection",
        b"content-encoding",
        b"content-length",
        b"content-type",
        b"expect",
        b"host",
        b"te",
        b"trailer",
        b"transfer-encoding",
    }
)
CONTINUE = object()  # a step's result: go on with the next step


def malformed(detail: str) -> Refused:
    return Refused(400, "bad_chunked_body", f"The chunked body is malformed: {detail}.")


class ChunkedBody:
    """The chunked body starting at `start` of a connection's buffer, read as far as the
    buffer goes; `advance` is called again, with the same buffer grown, as more arrives."""

    __slots__ = ("limit", "pieces", "position", "remaining", "scanned", "start", "step", "total")

    def __init__(self, start: int, limit: int):
        self.limit = limit  # the largest decoded body allowed
        self.start = start
        self.position = start  # where the element being read starts
        self.scanned = start  # where the search for that element's end resumes
        self.remaining = 0  # the bytes of the current chunk
        self.total = 0
        self.pieces = []
        self.step = self.size_line

    def advance(self, buffer) -> int | Refused | None:
        """Where the body and its trailer section end in `buffer` once it holds them; a
        Refused when the body is malformed or too large; None while more bytes are needed."""
        result = CONTINUE
        while result is CONTINUE:
            result = self.step(buffer)
        return result

    def decoded(self) -> bytes:
        return b"".join(self.pieces)

    def size_line(self, buffer):
        line = self.line(buffer)
        if not isinstance(line, bytes):
            return line
        matched = CHUNK_LINE.fullmatch(line)
        if matched is None:
            return malformed("a chunk-size line is not a hexadecimal size and extensions")
        self.remaining = int(matched[1], 16)
        self.total += self.remaining
        if self.total > self.limit:
            return body_too_large(self.limit)
        self.step = self.chunk_data if self.remaining else self.trailer_line
        return CONTINUE

    def chunk_data(self, buffer):
        end = self.position + self.remaining
        if len(buffer) < end + len(CRLF):
            return None
        if buffer[end : end + len(CRLF)] != CRLF:
            return malformed("a chunk's data is not followed by CRLF")
        self.pieces.append(bytes(buffer[self.position : end]))
        self.position = self.scanned = end + len(CRLF)
        self.step = self.size_line
        return CONTINUE

    def trailer_line(self, buffer):
        line = self.line(buffer)
        if not isinstance(line, bytes):
            return line
        if not line:
            return self.position  # the empty line that ends the trailer section
        matched = FIELD_LINE.fullmatch(line)
        if matched is None:
            return malformed("a trailer line is not `name: value`")
        if matched[1].lower() in FORBIDDEN_TRAILERS:
            return malformed(f"{matched[1].decode()} cannot be sent as a trailer")
        return CONTINUE

    def line(self, buffer) -> bytes | Refused | None:
        """The next line without its CRLF, the position moved past it; None while it is
        incomplete; a Refused for a bare LF, a line over LINE_LIMIT or too much framing."""
        end = buffer.find(LF, self.scanned, self.position + LINE_LIMIT + len(CRLF))
        if end < 0:
            if len(buffer) - self.position > LINE_LIMIT + 1:
                return malformed(f"a line is longer than {LINE_LIMIT} bytes")
            self.scanned = len(buffer)
            return None
        if end == self.position or buffer[end - 1] != CR:
            return malformed("a line ends in a bare LF")
        line = bytes(buffer[self.position : end - 1])
        self.position = self.scanned = end + 1
        if self.position - self.start > WIRE_FACTOR * self.limit:
            return Refused(
                413,
                "body_too_large",
                f"The chunked body takes over {WIRE_FACTOR} times {self.limit // 1024} KiB "
                "to send.",
            )
        return line
