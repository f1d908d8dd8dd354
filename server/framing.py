"""Where one HTTP/1.1 request ends in the bytes read so far, without parsing it for the app.

The worker (server/worker.py) reads a connection's bytes as they come and hands a request to a
thread only once this module says it is complete; gunicorn's own parser then parses exactly
those bytes. So this module decides framing only (RFC 9112 section 6): where the header block
ends, and how long the body is (Content-Length, or the chunks up to the last one). It never has
to be right about a malformed request: anything it does not understand is handed over as it
stands and marked `close_after`, so gunicorn's parser refuses it and the connection, whose next
request could not be found safely, is closed.
"""

import re
from dataclasses import dataclass

HEADER_END = b"\r\n\r\n"
CRLF = b"\r\n"
# A request line longer than this is answered 414 before its headers are waited for.
REQUEST_LINE_LIMIT = 8 * 1024
# The whole header block: gunicorn's own limits (100 fields of 8 KiB) would let one request
# make a worker hold 800 KiB; no client of this API sends more than a few hundred bytes.
HEADER_BLOCK_LIMIT = 32 * 1024
# A chunk-size line (size and extensions) longer than this is not a chunk-size line.
CHUNK_LINE_LIMIT = 1024
HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
DIGITS = re.compile(rb"[0-9]{1,18}")
FRAMING_HEADERS = (b"\r\ncontent-length:", b"\r\ntransfer-encoding:", b"\r\nexpect:")


@dataclass(frozen=True, slots=True)
class Complete:
    """The request is bytes [0, end); `close_after`: its framing is suspect, serve it (the parser
    will most likely refuse it) and close."""

    end: int
    close_after: bool = False


@dataclass(frozen=True, slots=True)
class Incomplete:
    """More bytes are needed; `continue_expected`: the client waits for `100 Continue` before it
    sends the body."""

    continue_expected: bool = False


@dataclass(frozen=True, slots=True)
class Refused:
    """The request cannot be taken whole: answer `status` and close without reading on."""

    status: int
    detail: str


NEED_MORE = Incomplete()


def frame(buffer: bytes | bytearray, body_limit: int) -> Complete | Incomplete | Refused:
    """How much of `buffer` (which starts at a request) the first request takes."""
    header_end = buffer.find(HEADER_END)
    if header_end < 0:
        return waiting_for_headers(buffer)
    body_start = header_end + len(HEADER_END)
    if body_start > HEADER_BLOCK_LIMIT:
        return header_too_large()
    block = bytes(buffer[:header_end]).lower()
    if not any(name in block for name in FRAMING_HEADERS):
        return Complete(body_start)  # the common case: a request without a body
    fields = header_fields(block)
    if fields is None:
        return Complete(body_start, close_after=True)
    lengths, codings, expects = fields
    if codings:
        if lengths or codings[-1] != b"chunked":
            return Complete(body_start, close_after=True)  # refused by the parser (400, 501)
        framed = chunked_end(buffer, body_start, body_limit)
    elif not lengths:
        return Complete(body_start)
    elif len(set(lengths)) != 1 or not DIGITS.fullmatch(lengths[0]):
        return Complete(body_start, close_after=True)
    elif int(lengths[0]) > body_limit:
        return body_too_large(body_limit)
    elif len(buffer) >= body_start + int(lengths[0]):
        return Complete(body_start + int(lengths[0]))
    else:
        framed = NEED_MORE
    if framed is NEED_MORE and len(buffer) == body_start and b"100-continue" in expects:
        return Incomplete(continue_expected=True)
    return framed


def waiting_for_headers(buffer) -> Incomplete | Refused:
    line_end = buffer.find(CRLF)
    if (line_end < 0 and len(buffer) > REQUEST_LINE_LIMIT) or line_end > REQUEST_LINE_LIMIT:
        return Refused(414, f"The request line is longer than {REQUEST_LINE_LIMIT} bytes.")
    if len(buffer) > HEADER_BLOCK_LIMIT:
        return header_too_large()
    return NEED_MORE


def header_too_large() -> Refused:
    return Refused(431, f"The request's headers are larger than {HEADER_BLOCK_LIMIT} bytes.")


def body_too_large(body_limit: int) -> Refused:
    return Refused(413, f"The request body is larger than {body_limit // 1024} KiB.")


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


def chunked_end(buffer, position: int, body_limit: int) -> Complete | Incomplete | Refused:
    """Walk the chunks from `position`: complete after the last chunk and its trailer section."""
    total = 0
    while True:
        line_end = buffer.find(CRLF, position)
        if line_end < 0:
            return NEED_MORE if len(buffer) - position <= CHUNK_LINE_LIMIT else suspect(position)
        size_text = bytes(buffer[position:line_end]).partition(b";")[0]
        if line_end - position > CHUNK_LINE_LIMIT or not HEX.fullmatch(size_text):
            return suspect(position)
        size = int(size_text, 16)
        total += size
        if total > body_limit:
            return body_too_large(body_limit)
        position = line_end + len(CRLF)
        if size == 0:
            return trailer_end(buffer, position)
        if len(buffer) < position + size + len(CRLF):
            return NEED_MORE
        if buffer[position + size : position + size + len(CRLF)] != CRLF:
            return suspect(position)
        position += size + len(CRLF)


def trailer_end(buffer, position: int) -> Complete | Incomplete | Refused:
    if len(buffer) < position + len(CRLF):
        return NEED_MORE
    if buffer[position : position + len(CRLF)] == CRLF:
        return Complete(position + len(CRLF))
    end = buffer.find(HEADER_END, position)
    if end < 0:
        return NEED_MORE if len(buffer) - position <= HEADER_BLOCK_LIMIT else header_too_large()
    return Complete(end + len(HEADER_END))


def suspect(position: int) -> Complete:
    """A chunked body this module cannot walk: hand over what is known; the parser refuses it."""
    return Complete(position, close_after=True)
