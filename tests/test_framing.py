"""server/framing.py and server/chunked.py on their own: where a request ends, what is refused
before any thread runs the app, and what finding it costs however the bytes arrive.
(tests/test_hostile_clients.py sends the same requests to a real gunicorn.)"""

import pytest

from server.answers import Refused
from server.framing import Complete, Incomplete, RequestFramer

LIMIT = 64 * 1024
CHUNKED_HEAD = b"POST /api/auth/signup HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"


def framer() -> RequestFramer:
    return RequestFramer(lambda head: LIMIT)


def frame_in_pieces(data: bytes, size: int, buffer=None):
    """What the framer says once `data` has arrived `size` bytes at a time, into `buffer`."""
    buffer = bytearray() if buffer is None else buffer
    framing = framer()
    framed = None
    for start in range(0, len(data), size):
        buffer += data[start : start + size]
        framed = framing.frame(buffer)
        if not isinstance(framed, Incomplete):
            break
    return framed


class CountingBuffer(bytearray):
    """A connection's buffer that counts the bytes looked at through it: each search up to
    where it stopped, each slice or index by its length."""

    examined = 0

    def find(self, sub, start=0, end=None):
        stop = len(self) if end is None else min(end, len(self))
        found = super().find(sub, start, stop)
        self.examined += (found + len(sub) if found >= 0 else stop) - start
        return found

    def __getitem__(self, index):
        got = super().__getitem__(index)
        self.examined += len(got) if isinstance(index, slice) else 1
        return got


def test_a_chunked_body_arriving_a_chunk_at_a_time_is_examined_a_bounded_number_of_times():
    """The framing resumes where the last read stopped: 10,000 one-byte chunks, each read
    alone, cost a few looks at each byte (walking the chunks again from the start on every
    read looked at each byte thousands of times)."""
    chunks = b"1\r\nx\r\n" * 10_000 + b"0\r\n\r\n"
    buffer = CountingBuffer()
    framed = frame_in_pieces(CHUNKED_HEAD + chunks, size=6, buffer=buffer)
    assert isinstance(framed, Complete)
    assert framed.body == b"x" * 10_000
    assert buffer.examined <= 4 * len(CHUNKED_HEAD + chunks)


def test_a_head_arriving_a_byte_at_a_time_is_examined_a_bounded_number_of_times():
    head = b"GET /healthz HTTP/1.1\r\nHost: test\r\n" + b"X-Padding: abcdefgh\r\n" * 1000 + b"\r\n"
    buffer = CountingBuffer()
    framed = frame_in_pieces(head, size=1, buffer=buffer)
    assert framed == Complete(len(head))
    assert buffer.examined <= 8 * len(head)


WELL_FORMED = {
    "plain": (b"3\r\nabc\r\n0\r\n\r\n", b"abc"),
    "hex-sizes": (b"A\r\n0123456789\r\nb\r\nabcdefghijk\r\n0\r\n\r\n", b"0123456789abcdefghijk"),
    "extensions": (b"3;a;b=c\r\nabc\r\n0;last\r\n\r\n", b"abc"),
    "whitespace-around-extensions": (b"3 ; a = b\r\nabc\r\n0\r\n\r\n", b"abc"),
    "quoted-extension": (b'3;a="x;\\"y\\" z"\r\nabc\r\n0\r\n\r\n', b"abc"),
    "trailers": (b"3\r\nabc\r\n0\r\nX-Checksum: 1f\r\nX-Empty:\r\n\r\n", b"abc"),
    "empty-body": (b"0\r\n\r\n", b""),
}


@pytest.mark.parametrize("case", WELL_FORMED)
@pytest.mark.parametrize("size", [1, 7, 4096])
def test_a_well_formed_chunked_body_is_decoded_however_it_arrives(case, size):
    chunks, decoded = WELL_FORMED[case]
    then = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"
    framed = frame_in_pieces(CHUNKED_HEAD + chunks + then, size)
    assert framed == Complete(len(CHUNKED_HEAD + chunks), False, len(CHUNKED_HEAD), decoded)


MALFORMED = {
    "extension-not-a-token": b"1;@@@\r\nx\r\n0\r\n\r\n",
    "extension-with-a-space": b"1;a b\r\nx\r\n0\r\n\r\n",
    "extension-without-a-value": b"1;a=\r\nx\r\n0\r\n\r\n",
    "unterminated-quoted-extension": b'1;a="b\r\nx\r\n0\r\n\r\n',
    "bare-cr-in-an-extension": b"1;a\rb\r\nx\r\n0\r\n\r\n",
    "space-after-the-size": b"1 \r\nx\r\n0\r\n\r\n",
    "no-size": b"\r\nx\r\n0\r\n\r\n",
    "a-sign": b"+1\r\nx\r\n0\r\n\r\n",
    "seventeen-hex-digits": b"00000000000000001\r\nx\r\n0\r\n\r\n",
    "bare-lf-after-the-size": b"1\nx\r\n0\r\n\r\n",
    "data-longer-than-its-size": b"1\r\nxy\r\n0\r\n\r\n",
    "data-without-crlf": b"1\r\nx\n0\r\n\r\n",
    "content-length-trailer": b"1\r\nx\r\n0\r\nContent-Length: 5\r\n\r\n",
    "host-trailer": b"1\r\nx\r\n0\r\nHost: elsewhere\r\n\r\n",
    "transfer-encoding-trailer": b"1\r\nx\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n",
    "bare-lf-in-the-trailers": b"1\r\nx\r\n0\r\nX-Sum: 1\n\r\n",
    "bare-lf-ending-the-trailers": b"1\r\nx\r\n0\r\nX-Sum: 1\r\n\n",
    "trailer-without-a-colon": b"1\r\nx\r\n0\r\nNo colon here\r\n\r\n",
    "space-before-a-trailer-colon": b"1\r\nx\r\n0\r\nX-Sum : 1\r\n\r\n",
    "folded-trailer": b"1\r\nx\r\n0\r\nX-Sum: 1\r\n  2\r\n\r\n",
    "control-byte-in-a-trailer": b"1\r\nx\r\n0\r\nX-Sum: 1\x002\r\n\r\n",
    "bare-cr-in-a-trailer": b"1\r\nx\r\n0\r\nX-Sum: 1\r2\r\n\r\n",
    "size-line-too-long": b"1;" + b"a" * 2000 + b"\r\nx\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("case", MALFORMED)
@pytest.mark.parametrize("size", [1, 4096])
def test_a_malformed_chunked_body_is_refused_400(case, size):
    framed = frame_in_pieces(CHUNKED_HEAD + MALFORMED[case], size)
    assert isinstance(framed, Refused)
    assert (framed.status, framed.reason) == (400, "bad_chunked_body")


def test_chunks_adding_up_to_more_than_the_limit_are_refused_413():
    chunks = b"%x\r\n%s\r\n" % (LIMIT, b"x" * LIMIT) + b"1\r\nx\r\n0\r\n\r\n"
    framed = frame_in_pieces(CHUNKED_HEAD + chunks, 4096)
    assert (framed.status, framed.reason) == (413, "body_too_large")


def test_a_body_mostly_made_of_chunk_framing_is_refused_413():
    """A chunk's extensions may be up to a line long: a body of them is bounded on the wire,
    not only by the bytes it decodes to."""
    chunks = (b"1;" + b"e" * 1000 + b"\r\nx\r\n") * 1000 + b"0\r\n\r\n"
    framed = frame_in_pieces(CHUNKED_HEAD + chunks, 65536)
    assert (framed.status, framed.reason) == (413, "body_too_large")


def test_an_http_1_1_head_without_host_is_refused_and_http_1_0_is_not():
    framed = frame_in_pieces(b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 4096)
    assert (framed.status, framed.reason) == (400, "no_host")
    assert frame_in_pieces(b"GET / HTTP/1.0\r\n\r\n", 4096) == Complete(18)


@pytest.mark.parametrize(
    ("fields", "closes"),
    [
        (b"Connection: close\r\n", True),
        (b"Connection: keep-alive, close\r\n", True),
        (b"Connection: keep-alive\r\nconnection: CLOSE\r\n", True),
        (b"Connection: keep-alive\r\n", False),
        (b"X-Note: close\r\n", False),
        (b"Connection: closed\r\n", False),
    ],
)
def test_close_among_any_connection_options_closes_after_the_answer(fields, closes):
    head = b"GET / HTTP/1.1\r\nHost: test\r\n" + fields + b"\r\n"
    assert frame_in_pieces(head, 4096) == Complete(len(head), closes)
