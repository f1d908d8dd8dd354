"""A cap on the connections one client address holds open in a worker.

A worker holds up to gunicorn's `worker_connections` (1,000); without a cap, one address that
opened 2,100 slow sockets took most of them, and others' requests waited seconds in the
listen queue (4,000: some never got an answer). With it, a connection over the cap is told so
(503) and closed at once, and the other addresses keep the rest.

Behind a proxy every connection comes from the proxy's address, so the cap is off by default
there (TRUSTED_PROXIES set): the proxy in front is where one client's connections are capped.
"""

from settings import value

from .answers import Refused

DEFAULT_CAP = 100


def connections_per_address() -> int:
    """CONNECTIONS_PER_ADDRESS, or its default: DEFAULT_CAP, and 0 (no cap) behind proxies."""
    cap = value("CONNECTIONS_PER_ADDRESS")
    if cap is None:
        return 0 if value("TRUSTED_PROXIES") else DEFAULT_CAP
    return cap


class ConnectionsPerAddress:
    """How many connections each client address holds in this worker; `cap` 0: no cap."""

    def __init__(self, cap: int):
        self.cap = cap
        self.held = {}

    def admit(self, client) -> bool:
        """Count a new connection from `client`; False (not counted) when its address holds
        the cap already."""
        if not self.cap:
            return True
        address = address_of(client)
        held = self.held.get(address, 0)
        if held >= self.cap:
            return False
        self.held[address] = held + 1
        return True

    def release(self, client) -> None:
        """An admitted connection from `client` is closed."""
        if not self.cap:
            return
        address = address_of(client)
        if self.held[address] == 1:
            del self.held[address]
        else:
            self.held[address] -= 1

    def refusal(self) -> Refused:
        return Refused(
            503,
            "too_many_connections",
            f"This address holds {self.cap} open connections to this server already; close "
            "one, or reuse it.",
            retry_after=1,
        )


def address_of(client) -> str:
    """The client's IP address (a Unix socket's peer has none: all count as one)."""
    return client[0] if isinstance(client, tuple) else ""
