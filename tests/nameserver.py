"""A nameserver for the tests, on UDP on this machine, that WEBHOOK_NAMESERVERS points the app
at: it answers every A question with the next of the addresses it is given (the last one
again once they run out) and every other question with no records, or, made `silent`,
never answers at all (a resolver that hangs)."""

import contextlib
import socket
import struct
import threading

A, IN = 1, 1


class Nameserver:
    def __init__(self, *addresses: str, silent: bool = False):
        self.addresses = list(addresses)
        self.silent = silent
        self.questions = 0  # every question it was asked (and, unless silent, answered)
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    @property
    def setting(self) -> tuple[tuple[str, int], ...]:
        """WEBHOOK_NAMESERVERS, as the app reads it."""
        return (self.socket.getsockname(),)

    def serve(self) -> None:
        while True:
            try:
                query, client = self.socket.recvfrom(4096)
            except OSError:  # closed
                return
            if not query:  # shut down
                return
            self.questions += 1
            if not self.silent:
                self.socket.sendto(self.answer(query), client)

    def answer(self, query: bytes) -> bytes:
        end = 12
        while query[end]:  # the question's name, label by label
            end += query[end] + 1
        question = query[12 : end + 5]
        kind = struct.unpack("!H", query[end + 1 : end + 3])[0]
        records = b""
        if kind == A:
            address = self.addresses.pop(0) if len(self.addresses) > 1 else self.addresses[0]
            # the name as a pointer to the question's, A, IN, a TTL of 0, four bytes
            records = struct.pack("!HHHIH", 0xC00C, A, IN, 0, 4) + socket.inet_aton(address)
        # the question's id; an answer, recursion desired and available; one question
        header = struct.pack("!2sHHHHH", query[:2], 0x8180, 1, 1 if records else 0, 0, 0)
        return header + question + records

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)  # wakes the thread waiting for a question
        self.socket.close()
