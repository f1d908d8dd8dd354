"""One HTTP POST to a webhook endpoint, refusing what would reach the server's own networks.

The target's name is resolved at every attempt, and every address it resolves to is checked
(loopback, private, link-local, multicast, reserved, unspecified, and IPv4 addresses written
as IPv6: `::ffff:127.0.0.1`), unless it lies in a network WEBHOOK_ALLOWED_NETWORKS allows;
then the connection goes to the address checked, not to the name resolved again (a name
that answers a public address, then a private one, cannot slip between the two). No
redirect is followed (a 3xx is a failed attempt); the whole exchange is bounded by a
deadline, and at most ANSWER_READ bytes of the answer are read. Knows no database."""

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

ANSWER_READ = 64 * 1024
NOT_HTTP = "The URL must be http:// or https:// with a host."
NOT_PUBLIC = "{} is not a public address; webhooks go to public ones only."
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Refused(Exception):
    """A target this server will not send to; the message says why."""


@dataclass(frozen=True)
class Outcome:
    """How an attempt went: the answer's status (None: no answer), the time it took, and
    what went wrong (None: a 2xx)."""

    status: int | None
    latency_ms: int
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.error is None


def networks(text: str) -> tuple[Network, ...]:
    """WEBHOOK_ALLOWED_NETWORKS: comma-separated CIDR networks (ValueError if one is not)."""
    return tuple(ipaddress.ip_network(part.strip()) for part in text.split(",") if part.strip())


def refused(address: str, allowed: tuple[Network, ...]) -> bool:
    """Whether an address is not one to send to."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):  # an IPv4 address carried in IPv6
        ip = ip.ipv4_mapped or ip.sixtofour or ip
    if any(ip.version == network.version and ip in network for network in allowed):
        return False
    return not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified


def target(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an endpoint URL; Refused if it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(NOT_HTTP)
    if parts.username is not None or parts.password is not None:
        raise Refused("The URL must not carry a user name or password.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused("The URL's port is not a port.") from None
    path = parts.path or "/"
    return parts.scheme, parts.hostname, port, path + (f"?{parts.query}" if parts.query else "")


def resolved(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the resolver's order; Refused if none."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise Refused(f"{host} does not resolve ({error}).") from None
    return list(dict.fromkeys(info[4][0] for info in found))


def checked(host: str, addresses: list[str], allowed: tuple[Network, ...]) -> str:
    """The first of the addresses, once every one of them passed."""
    for address in addresses:
        if refused(address, allowed):
            named = host if host == address else f"{host} ({address})"
            raise Refused(NOT_PUBLIC.format(named))
    return addresses[0]


def check_url(url: str, allowed: tuple[Network, ...]) -> None:
    """Refused if the URL is not one to register: not http(s), or a host that is (or now
    resolves to) an address refused. A name that does not resolve yet is taken: its
    attempts fail, in the log, until it does."""
    _scheme, host, port, _path = target(url)
    try:
        addresses = resolved(host, port)
    except Refused:
        return
    checked(host, addresses, allowed)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address, with the certificate checked against the URL's host."""

    def __init__(self, address: str, port: int, host: str, timeout: float):
        super().__init__(address, port, timeout=timeout, context=ssl.create_default_context())
        self.server_name = host

    def connect(self):
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.server_name)


def post(url: str, body: bytes, headers: dict, allowed: tuple[Network, ...], timeout: float):
    """POST `body` to `url`; the Outcome (never raises for the endpoint's faults)."""
    started = time.monotonic()
    try:
        status = exchange(url, body, headers, allowed, timeout, started + timeout)
    except Refused as error:
        return Outcome(None, elapsed_ms(started), str(error))
    except (OSError, http.client.HTTPException, TimeoutError) as error:
        return Outcome(None, elapsed_ms(started), f"{type(error).__name__}: {error}"[:500])
    if 300 <= status < 400:
        return Outcome(status, elapsed_ms(started), "A redirect, which is not followed.")
    if not 200 <= status < 300:
        return Outcome(status, elapsed_ms(started), f"Answered {status}.")
    return Outcome(status, elapsed_ms(started), None)


def exchange(url, body, headers, allowed, timeout: float, deadline: float) -> int:
    scheme, host, port, path = target(url)
    address = checked(host, resolved(host, port), allowed)
    if scheme == "https":
        connection = PinnedHTTPSConnection(address, port, host, timeout)
    else:
        connection = http.client.HTTPConnection(address, port, timeout=timeout)
    # The deadline holds for the whole exchange: a socket timeout bounds each read only, and
    # an endpoint sending a byte a second would hold the attempt (and its lease) for hours.
    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), cut, (connection,))
    watchdog.daemon = True
    watchdog.start()
    try:
        default_port = 443 if scheme == "https" else 80
        shown_host = host if port == default_port else f"{host}:{port}"
        if ":" in host:
            shown_host = f"[{host}]" if port == default_port else f"[{host}]:{port}"
        sent = {"Host": shown_host, "Content-Type": "application/json", **headers}
        connection.request("POST", path, body=body, headers=sent)
        connection.sock.settimeout(max(0.001, deadline - time.monotonic()))
        answer = connection.getresponse()
        left = ANSWER_READ
        while left > 0 and (chunk := answer.read(min(left, 16384))):
            left -= len(chunk)
            if time.monotonic() > deadline:
                raise TimeoutError("the answer took longer than WEBHOOK_TIMEOUT")
            connection.sock.settimeout(max(0.001, deadline - time.monotonic()))
        return answer.status
    except (OSError, http.client.HTTPException) as error:
        if time.monotonic() >= deadline:
            raise TimeoutError("the exchange took longer than WEBHOOK_TIMEOUT") from error
        raise
    finally:
        watchdog.cancel()
        connection.close()


def cut(connection: http.client.HTTPConnection) -> None:
    """At the deadline, the exchange ends, whatever the endpoint is still sending."""
    if connection.sock is not None:
        with contextlib.suppress(OSError):  # already closed
            connection.sock.shutdown(socket.SHUT_RDWR)


def elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
