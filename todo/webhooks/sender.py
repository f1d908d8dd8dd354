"""One HTTP POST to a webhook endpoint, refusing what would reach the server's own networks.

The target's name is resolved at every attempt, and every address it resolves to is checked
(loopback, private, link-local, multicast, reserved, unspecified, and IPv4 addresses written
as IPv6: `::ffff:127.0.0.1`), unless it lies in a network WEBHOOK_ALLOWED_NETWORKS allows;
then the connection goes to an address checked, not to the name resolved again (a name
that answers a public address, then a private one, cannot slip between the two). No
redirect is followed (a 3xx is a failed attempt); the whole attempt, from the name's lookup
to the answer's last byte, is bounded by WEBHOOK_TIMEOUT, and at most ANSWER_READ bytes of
the answer are read. Knows no database."""

import contextlib
import http.client
import ipaddress
import queue
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import dns.exception
import dns.resolver
from dns.nameserver import Do53Nameserver

ANSWER_READ = 64 * 1024
LOOKUPS_AT_ONCE = 8  # a process's name lookups in flight; past them, one waits its turn
LOOKUPS = threading.BoundedSemaphore(LOOKUPS_AT_ONCE)
REGISTRATION_LOOKUP = 1.0  # seconds a registration waits for the URL's name to resolve
NOT_HTTP = "The URL must be http:// or https:// with a host."
NOT_PUBLIC = "{} is not a public address; webhooks go to public ones only."
TOO_LONG = "{} took longer than WEBHOOK_TIMEOUT"
URL_SAFE = "/?:@!$&'()*+,;=%~"  # what a path or query keeps as it is (RFC 3986's delimiters)
TLS = ssl.create_default_context()
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Reach:
    """Where an attempt may go and for how long: the networks allowed besides public
    addresses (WEBHOOK_ALLOWED_NETWORKS), the seconds the whole attempt may take
    (WEBHOOK_TIMEOUT), and the nameservers names are resolved with (WEBHOOK_NAMESERVERS,
    (address, port) pairs; none: the system's resolver)."""

    allowed: tuple[Network, ...]
    timeout: float
    nameservers: tuple[tuple[str, int], ...] = ()


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
    """(scheme, host, port, path) of an endpoint URL, as they go on the wire: the host in
    IDNA (ASCII), the path and query with anything not ASCII percent-encoded (UTF-8);
    Refused if it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(NOT_HTTP)
    if parts.username is not None or parts.password is not None:
        raise Refused("The URL must not carry a user name or password.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused("The URL's port is not a port.") from None
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise Refused("The URL's host is not a name or an address.") from None
    path = quote(parts.path or "/", safe=URL_SAFE)
    return (
        parts.scheme,
        host,
        port,
        path + (f"?{quote(parts.query, safe=URL_SAFE)}" if parts.query else ""),
    )


def resolved(host: str, port: int, reach: Reach, deadline: float) -> list[str]:
    """Every address `host` resolves to, in the resolver's order; Refused if none, TimeoutError
    if the resolver has not answered by the deadline.

    The lookup runs in a thread of its own, which this one waits for until the deadline only:
    the system's resolver takes no timeout (getaddrinfo waits as long as resolv.conf's
    timeouts and attempts add up to, minutes on a nameserver that does not answer), and a
    deliverer must not be held past its attempt's deadline (nor its lease). A lookup given up
    on ends when the resolver does; at most LOOKUPS_AT_ONCE run at once in a process, so a
    resolver that hangs holds that many threads, not one more per attempt."""
    with contextlib.suppress(ValueError):
        return [str(ipaddress.ip_address(host))]  # an address already: nothing to look up
    if not LOOKUPS.acquire(timeout=max(0.0, deadline - time.monotonic())):
        raise TimeoutError(TOO_LONG.format(f"resolving {host}"))
    answers: queue.SimpleQueue = queue.SimpleQueue()

    def look_up() -> None:
        try:
            answers.put(addresses_of(host, port, reach))
        except BaseException as error:  # handed to the attempt, which raises it
            answers.put(error)
        finally:
            LOOKUPS.release()

    threading.Thread(target=look_up, name=f"resolve {host}", daemon=True).start()
    try:
        found = answers.get(timeout=max(0.0, deadline - time.monotonic()))
    except queue.Empty:
        raise TimeoutError(TOO_LONG.format(f"resolving {host}")) from None
    if isinstance(found, BaseException):
        raise found
    return found


def addresses_of(host: str, port: int, reach: Reach) -> list[str]:
    """The lookup itself: the system's resolver, or WEBHOOK_NAMESERVERS asked directly (for
    A and AAAA records), each within WEBHOOK_TIMEOUT."""
    if not reach.nameservers:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise Refused(f"{host} does not resolve ({error}).") from None
        return list(dict.fromkeys(info[4][0] for info in found))
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [Do53Nameserver(address, at) for address, at in reach.nameservers]
    try:
        answer = resolver.resolve_name(host, lifetime=reach.timeout, search=False)
    except dns.exception.Timeout:
        raise TimeoutError(TOO_LONG.format(f"resolving {host}")) from None
    except dns.exception.DNSException as error:
        raise Refused(f"{host} does not resolve ({error}).") from None
    return list(dict.fromkeys(answer.addresses()))


def checked(host: str, addresses: list[str], allowed: tuple[Network, ...]) -> list[str]:
    """The addresses, once every one of them passed."""
    for address in addresses:
        if refused(address, allowed):
            named = host if host == address else f"{host} ({address})"
            raise Refused(NOT_PUBLIC.format(named))
    return addresses


def check_url(url: str, reach: Reach) -> None:
    """Refused if the URL is not one to register: not http(s), or a host that is (or now
    resolves to) an address refused. A name that does not resolve yet, or not within
    REGISTRATION_LOOKUP seconds (the request waits for no more), is taken: its attempts fail,
    in the log, until it does."""
    _scheme, host, port, _path = target(url)
    deadline = time.monotonic() + min(reach.timeout, REGISTRATION_LOOKUP)
    try:
        addresses = resolved(host, port, reach, deadline)
    except (Refused, TimeoutError):
        return
    checked(host, addresses, reach.allowed)


def post(url: str, body: bytes, headers: dict, reach: Reach) -> Outcome:
    """POST `body` to `url`; the Outcome (never raises for the endpoint's faults)."""
    started = time.monotonic()
    try:
        status = exchange(url, body, headers, reach, started + reach.timeout)
    except Refused as error:
        return Outcome(None, elapsed_ms(started), str(error))
    except (OSError, http.client.HTTPException, ValueError) as error:
        # ValueError: what http.client raises for what it cannot send (a header's value…)
        return Outcome(None, elapsed_ms(started), f"{type(error).__name__}: {error}"[:500])
    if 300 <= status < 400:
        return Outcome(status, elapsed_ms(started), "A redirect, which is not followed.")
    if not 200 <= status < 300:
        return Outcome(status, elapsed_ms(started), f"Answered {status}.")
    return Outcome(status, elapsed_ms(started), None)


def exchange(url: str, body: bytes, headers: dict, reach: Reach, deadline: float) -> int:
    """Resolve, check, connect, send and read the answer's status, all by the deadline."""
    scheme, host, port, path = target(url)
    addresses = checked(host, resolved(host, port, reach, deadline), reach.allowed)
    watchdog = Watchdog(deadline)
    connection = http.client.HTTPConnection(host, port)
    try:
        connection.sock = connected(scheme, host, addresses, port, watchdog)
        default_port = 443 if scheme == "https" else 80
        shown_host = f"[{host}]" if ":" in host else host
        if port != default_port:
            shown_host = f"{shown_host}:{port}"
        sent = {"Host": shown_host, "Content-Type": "application/json", **headers}
        connection.request("POST", path, body=body, headers=sent)
        connection.sock.settimeout(watchdog.left())
        answer = connection.getresponse()
        left = ANSWER_READ
        while left > 0 and (chunk := answer.read(min(left, 16384))):
            left -= len(chunk)
            connection.sock.settimeout(watchdog.left())
        return answer.status
    except (OSError, http.client.HTTPException) as error:
        if time.monotonic() >= deadline:
            raise TimeoutError(TOO_LONG.format("the exchange")) from error
        raise
    finally:
        watchdog.stop()
        connection.close()


def connected(scheme: str, host: str, addresses: list[str], port: int, watchdog) -> socket.socket:
    """A connection to the first of the (checked) addresses that takes one, in turn; for
    https, with the certificate checked against the URL's host (the name, not the address)."""
    failed: OSError | None = None
    for address in addresses:
        left = watchdog.left()
        try:
            sock = watchdog.watch(socket.create_connection((address, port), left))
            break
        except OSError as error:
            failed = error
    else:
        raise failed or OSError("no address to connect to")
    if scheme == "http":
        return sock
    tls = watchdog.watch(TLS.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False))
    tls.settimeout(watchdog.left())
    tls.do_handshake()  # a handshake trickled a byte at a time is cut at the deadline too
    return tls


class Watchdog:
    """Ends an exchange at its deadline, whatever it waits for: the TLS handshake, the answer,
    a body still coming. A socket's timeout bounds each wait only, and an endpoint sending a
    byte a second would hold the attempt (and its lease) for hours."""

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.sockets: list[socket.socket] = []
        self.expired = False
        self.lock = threading.Lock()
        self.timer = threading.Timer(max(0.0, deadline - time.monotonic()), self.cut)
        self.timer.daemon = True
        self.timer.start()

    def left(self) -> float:
        """The seconds left; TimeoutError once there are none."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(TOO_LONG.format("the exchange"))
        return left

    def watch(self, sock: socket.socket) -> socket.socket:
        with self.lock:
            self.sockets.append(sock)
            if self.expired:
                shut(sock)
        return sock

    def cut(self) -> None:
        with self.lock:
            self.expired = True
            for sock in self.sockets:
                shut(sock)

    def stop(self) -> None:
        """The exchange is over: no cut, and every socket it opened closed (one whose
        handshake failed never reached the HTTP connection, which closes its own)."""
        self.timer.cancel()
        for sock in self.sockets:
            sock.close()


def shut(sock: socket.socket) -> None:
    """Shut the connection down under whatever is reading or writing it (as a plain socket:
    a TLS one's own shutdown would first unhook its TLS state)."""
    with contextlib.suppress(OSError):  # already closed, or detached into its TLS socket
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
