"""Every environment variable the app and its server read, declared once: its default, how its
value is checked, an example and what it means.

config.py and gunicorn.conf.py read their values through `value()`, so a malformed one stops
the process with one line naming the variable, the value and an example of a good one, instead
of a traceback or, worse, a setting silently ignored. The configuration guide's table
(docs/configuration.md) and `.env.example` are written from the same declarations
(`python settings.py --write`), and a test checks they are up to date.
"""

import ipaddress
import os
import re
import sys
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import load_dotenv
from limits import parse_many

ROOT = Path(__file__).resolve().parent
CONFIGURATION_GUIDE = ROOT / "docs" / "configuration.md"
TABLE_START = "<!-- settings table: written by `python settings.py --write` -->"
TABLE_END = "<!-- end of settings table -->"

load_dotenv(ROOT / ".env")


class SettingError(Exception):
    """A setting with a value the app cannot use; its message is the one line to show."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None  # as it would be written in the environment; None: no value
    parse: Callable[[str], object]  # raises ValueError saying what is wrong
    example: str
    meaning: str
    shown_default: str | None = None  # for the guide's table, where the default is computed


def whole_number(minimum: int = 0, maximum: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not re.fullmatch(r"[0-9]+", text.strip()):
            raise ValueError("not a whole number")
        number = int(text)
        if number < minimum or (maximum is not None and number > maximum):
            upper = "" if maximum is None else f" and at most {maximum}"
            raise ValueError(f"must be at least {minimum}{upper}")
        return number

    return parse


def seconds(minimum: float = 0) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            number = float(text)
        except ValueError:
            raise ValueError("not a number of seconds") from None
        if not minimum <= number < 10**6:
            raise ValueError(f"must be between {minimum:g} and 1000000 seconds")
        return number

    return parse


def seconds_between(minimum: float, maximum: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        number = seconds(minimum)(text)
        if number > maximum:
            raise ValueError(f"must be between {minimum:g} and {maximum:g} seconds")
        return number

    return parse


TRUE, FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def boolean(text: str) -> bool:
    word = text.strip().lower()
    if word not in TRUE | FALSE:
        raise ValueError("not true or false")
    return word in TRUE


def rate_limits(text: str) -> str:
    """Limits in the `limits` notation ("5 per minute; 20 per hour"), kept as written."""
    try:
        parse_many(text)
    except ValueError:
        raise ValueError(
            "not a limit such as '5 per minute' or '5 per minute; 20 per hour'"
        ) from None
    return text


def request_budget(text: str) -> str:
    """One limit in the `limits` notation ("3000 per 15 minutes"), at least one request."""
    try:
        limits = parse_many(text)
    except ValueError:
        limits = []
    if len(limits) != 1 or limits[0].amount < 1:
        raise ValueError("not one limit such as '3000 per 15 minutes'")
    return text


def one_of(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        word = text.strip().lower()
        if word not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return word

    return parse


def database_url(text: str) -> str:
    scheme = urlsplit(text).scheme.lower()
    if not scheme.startswith(("sqlite", "postgres")):
        raise ValueError("not a sqlite:/// or postgresql:// URL")
    if scheme.startswith("postgres") and not urlsplit(text).hostname:
        raise ValueError("names no host")
    check_port(text)
    return text


def storage_url(text: str) -> str:
    if not text.startswith(("memory://", "redis://", "rediss://", "redis+unix://")):
        raise ValueError("not memory:// or a redis:// URL")
    check_port(text)
    return text


def check_port(url: str) -> None:
    """The URL's port, if it names one, is a number a connection can use (the drivers would
    fail later, with a traceback)."""
    try:
        usable = urlsplit(url).port != 0  # None: no port named
    except ValueError:  # not a number, or out of range
        usable = False
    if not usable:
        raise ValueError("names a port that is not a number from 1 to 65535")


def key_prefix(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9._:-]{0,64}", text):
        raise ValueError("must be up to 64 letters, digits or ._:-")
    return text


def writable_directory(text: str) -> str:
    """A directory this process can write in, or one it can create (its nearest existing
    ancestor a directory it can write in). Whether creating it works is only known by trying:
    gunicorn.conf.py does, and refuses the value as this would if it fails."""
    path = Path(text).absolute()
    existing = next(candidate for candidate in (path, *path.parents) if candidate.exists())
    if not existing.is_dir():
        raise ValueError(f"{existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{existing} is not writable")
    return text


def origins(text: str) -> list[str]:
    listed = [origin.strip() for origin in text.split(",") if origin.strip()]
    for origin in listed:
        if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
            raise ValueError(f"{origin!r} is not an origin such as https://app.example.com")
    return listed


def secret(text: str) -> str:
    if len(text) < 32 or text.startswith("<"):
        raise ValueError("must be a random string of at least 32 characters")
    return text


def allowed_networks(text: str) -> str:
    """CIDR networks, comma-separated (kept as written; the app parses them again)."""
    for part in text.split(","):
        if part.strip():
            try:
                ipaddress.ip_network(part.strip())
            except ValueError:
                raise ValueError(f"{part.strip()!r} is not a network such as 10.0.0.0/8") from None
    return text


def nameservers(text: str) -> tuple[tuple[str, int], ...]:
    """Nameserver addresses, comma-separated, each with an optional port (53 otherwise):
    `10.0.0.2`, `10.0.0.2:5353`, `fd00::53`, `[fd00::53]:5353`."""
    found = []
    for part in filter(None, (each.strip() for each in text.split(","))):
        with suppress(ValueError):
            found.append((str(ipaddress.ip_address(part)), 53))
            continue
        parts = urlsplit(f"//{part}")
        try:
            address, port = str(ipaddress.ip_address(parts.hostname or "")), parts.port or 53
        except ValueError:
            address = None
        if address is None or parts.path or parts.query or parts.username:
            raise ValueError(f"{part!r} is not a nameserver such as 10.0.0.2 or 10.0.0.2:5353")
        found.append((address, port))
    return tuple(found)


def retry_schedule(text: str) -> tuple[float, ...]:
    """Seconds, comma-separated, at least one, each at most a day."""
    try:
        delays = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise ValueError("not seconds separated by commas, such as 5,300,1800") from None
    if not all(0 < delay <= 86400 for delay in delays):
        raise ValueError("each delay must be more than 0 and at most 86400 seconds")
    return delays


SECONDS = "a number of seconds"
DECLARED = [
    Setting(
        "APP_ENV",
        "production",
        one_of("production", "development"),
        "production",
        "`production` refuses to start without a real secret; `development` generates one "
        "into `instance/jwt-secret`",
        "`production` (`make run` sets `development`)",
    ),
    Setting(
        "DATABASE_URL",
        None,
        database_url,
        "postgresql://todo:secret@db.example.com:5432/todo?sslmode=require",
        "`postgresql://`, `postgres://`, `postgresql+asyncpg://…?ssl=require` and `sslmode=` "
        "forms are all accepted (served through psycopg2)",
        "`sqlite:///instance/todo.db`",
    ),
    Setting(
        "JWT_SECRET_KEY",
        None,
        secret,
        "<the output of openssl rand -base64 32>",
        "HS256 signing secret, at least 32 characters; `BETTER_AUTH_SECRET` is read if this "
        "is unset",
        "unset",
    ),
    Setting(
        "BETTER_AUTH_SECRET",
        None,
        secret,
        "<the output of openssl rand -base64 32>",
        "the same as `JWT_SECRET_KEY` (the name the spec's deployments use)",
        "unset",
    ),
    Setting(
        "JWT_ACCESS_TOKEN_EXPIRES",
        "604800",
        whole_number(60),
        "604800",
        "token lifetime, in seconds (7 days)",
    ),
    Setting(
        "JWT_LEEWAY_SECONDS",
        "10",
        whole_number(0, 300),
        "10",
        "how far another host's clock may be ahead (a token's `iat`) or behind (its `exp`)",
    ),
    Setting("DB_POOL_SIZE", "5", whole_number(1), "5", "connections kept per worker process"),
    Setting(
        "DB_MAX_OVERFLOW",
        "15",
        whole_number(0),
        "15",
        "connections per worker process beyond the pool, closed when returned",
    ),
    Setting(
        "DB_POOL_RECYCLE",
        "3600",
        whole_number(1),
        "3600",
        "seconds before a connection is replaced",
    ),
    Setting(
        "DB_POOL_PRE_PING",
        "true",
        boolean,
        "true",
        "test a pooled connection before handing it out if it sat idle longer than "
        "`DB_PING_IDLE_SECONDS`",
    ),
    Setting(
        "DB_PING_IDLE_SECONDS",
        "1",
        seconds(),
        "1",
        "idle time after which a pooled connection is tested (0: always)",
    ),
    Setting(
        "DB_CONNECT_TIMEOUT",
        "5",
        whole_number(1),
        "5",
        "seconds to wait for PostgreSQL to accept a connection",
    ),
    Setting(
        "DB_STATEMENT_TIMEOUT",
        "30",
        whole_number(1),
        "30",
        "seconds a statement may run on PostgreSQL: the `statement_timeout` the operator sets "
        "for the app's role (checked at start, see Deploying); a server that has not answered "
        "`DB_CONNECT_TIMEOUT` seconds later is given up for dead (503)",
    ),
    Setting(
        "DB_MIGRATION_LOCK_TIMEOUT",
        "10",
        seconds(),
        "10",
        "seconds a migration's statement may wait for a lock before the migration gives up "
        "(and rolls back); its statements themselves run as long as they take",
    ),
    Setting(
        "DB_POOL_TIMEOUT",
        "5",
        whole_number(0),
        "5",
        "seconds to wait for a free pooled connection before answering 503",
    ),
    Setting("ARGON2_TIME_COST", "3", whole_number(1), "3", "argon2id iterations"),
    Setting("ARGON2_MEMORY_COST", "65536", whole_number(8), "65536", "argon2id memory, in KiB"),
    Setting("ARGON2_PARALLELISM", "4", whole_number(1), "4", "argon2id lanes"),
    Setting(
        "CORS_ORIGINS",
        "http://localhost:3000",
        origins,
        "https://app.example.com,http://localhost:3000",
        "comma-separated origins allowed to call the API from a browser",
    ),
    Setting(
        "LOG_LEVEL",
        "info",
        one_of("debug", "info", "warning", "error"),
        "info",
        "the least severe log lines written",
    ),
    Setting("RATELIMIT_ENABLED", "true", boolean, "true", "`false` turns throttling off"),
    Setting(
        "RATELIMIT_STORAGE_URI",
        "memory://",
        storage_url,
        "redis://127.0.0.1:6379/0",
        "where throttling counts live; `redis://…` shares them across workers and hosts",
    ),
    Setting(
        "RATELIMIT_STORAGE_TIMEOUT",
        "0.2",
        seconds(),
        "0.2",
        "seconds the store may take to answer before it is taken as down",
    ),
    Setting(
        "RATELIMIT_STORAGE_RETRY",
        "10",
        seconds(),
        "10",
        "while the store is down, seconds of counting in memory before it is asked again",
    ),
    Setting(
        "RATELIMIT_KEY_PREFIX",
        "",
        key_prefix,
        "todo-staging",
        "sets apart the counts of apps or environments sharing one Redis",
        "empty",
    ),
    Setting(
        "RATELIMIT_LOGIN_PER_EMAIL_AND_ADDRESS",
        "5 per minute; 20 per hour",
        rate_limits,
        "5 per minute; 20 per hour",
        "failed logins allowed per account from one client address",
    ),
    Setting(
        "RATELIMIT_LOGIN_PER_EMAIL",
        "100 per hour",
        rate_limits,
        "100 per hour",
        "failed logins allowed per account, from all addresses together",
    ),
    Setting(
        "RATELIMIT_LOGIN_PER_ADDRESS",
        "30 per minute",
        rate_limits,
        "30 per minute",
        "failed logins allowed per client address, to all accounts together",
    ),
    Setting(
        "RATELIMIT_LOGINS_PER_ADDRESS",
        "60 per minute",
        rate_limits,
        "60 per minute",
        "logins allowed per client address, failed or not (each costs a password hash)",
    ),
    Setting(
        "RATELIMIT_SIGNUP_PER_ADDRESS",
        "20 per hour",
        rate_limits,
        "20 per hour",
        "sign-ups allowed per client address",
    ),
    Setting(
        "RATELIMIT_PASSWORD_CHECK_PER_USER",
        "5 per 15 minutes",
        rate_limits,
        "5 per 15 minutes",
        "wrong passwords allowed per account on password change and account deletion",
    ),
    Setting(
        "RATELIMIT_INVITATIONS_PER_OWNER",
        "50 per day",
        rate_limits,
        "50 per day",
        "invitations to shared lists an account may send (docs/sharing.md)",
    ),
    Setting(
        "RATELIMIT_BUDGET",
        "3000 per 15 minutes",
        request_budget,
        "3000 per 15 minutes",
        "requests each user may make to the authenticated routes without a budget of their "
        "own, shared by every worker and host (see Errors and clients)",
    ),
    Setting(
        "RATELIMIT_BUDGET_FEED",
        "1000 per 15 minutes",
        request_budget,
        "1000 per 15 minutes",
        "each user's requests to the change feed (`GET …/changes`)",
    ),
    Setting(
        "RATELIMIT_BUDGET_BATCH",
        "300 per 15 minutes",
        request_budget,
        "300 per 15 minutes",
        "each user's batches (`POST …/batch`)",
    ),
    Setting(
        "RATELIMIT_BUDGET_STREAM",
        "120 per 15 minutes",
        request_budget,
        "120 per 15 minutes",
        "each user's tickets to open the live stream (one per stream opened)",
    ),
    Setting(
        "RATELIMIT_BUDGET_SLICE",
        "500",
        whole_number(1, 100000),
        "500",
        "the most units of a user's budget a process reserves from the store at once (fewer "
        "as the budget runs out): one store round trip per slice, not per request",
    ),
    Setting(
        "RATELIMIT_CALENDAR_PER_SUBSCRIPTION",
        "60 per hour",
        rate_limits,
        "60 per hour",
        "polls allowed per calendar subscription URL (calendar apps poll every 5 min to 24 h)",
    ),
    Setting(
        "TRASH_RETENTION_DAYS",
        "30",
        whole_number(0, 36500),
        "30",
        "days a deleted task stays in the trash (restorable) before it is gone for good; "
        "0: a delete purges at once",
    ),
    Setting(
        "FEED_RETENTION_DAYS",
        "90",
        whole_number(1, 36500),
        "90",
        "days a change feed cursor stays good; a client whose last sync is older starts over (410)",
    ),
    Setting(
        "IMPORT_INLINE_BYTES",
        "65536",
        whole_number(0, 10 * 1024 * 1024),
        "65536",
        "with Redis (RATELIMIT_STORAGE_URI), an import file larger than this is imported by a "
        "job of `flask todo work` (202), not in its request; without Redis every import runs "
        "in its request",
    ),
    Setting(
        "IMPORT_JOBS_PER_USER",
        "3",
        whole_number(1, 100),
        "3",
        "imports one user may have waiting or running as jobs; one more is answered 429",
    ),
    Setting(
        "WEBHOOK_ALLOWED_NETWORKS",
        "",
        allowed_networks,
        "10.20.0.0/16,fd00:20::/64",
        "comma-separated networks webhooks may be sent to besides public addresses (loopback, "
        "private, link-local… are refused otherwise); for development and tests, or a "
        "receiver on your own network",
        "empty: public addresses only",
    ),
    Setting(
        "WEBHOOK_TIMEOUT",
        "10",
        seconds(0.1),
        "10",
        "seconds a webhook attempt may take, from resolving the name to the answer's last "
        "byte (then it failed)",
    ),
    Setting(
        "WEBHOOK_NAMESERVERS",
        "",
        nameservers,
        "1.1.1.1,8.8.8.8",
        "nameservers (address or address:port, comma-separated) webhook targets' names are "
        "resolved with, asked directly; e.g. public ones, so that no internal name resolves",
        "empty: the system's resolver",
    ),
    Setting(
        "WEBHOOK_RETRY_SCHEDULE",
        "5,300,1800,7200,18000,36000,36000",
        retry_schedule,
        "5,300,1800,7200,18000,36000,36000",
        "seconds before each retry of a failed webhook message, in turn (the default adds "
        "up to 27 hours); after the last the endpoint is switched off",
    ),
    Setting(
        "WEBHOOK_LEASE_SECONDS",
        "60",
        seconds(1),
        "60",
        "how long a delivery process holds an endpoint it claimed; one that stops (killed) "
        "is taken over after this; more than WEBHOOK_TIMEOUT",
    ),
    Setting(
        "WEBHOOK_POLL_SECONDS",
        "1",
        seconds(0.01),
        "1",
        "how often `flask todo deliver` looks for changes to send when it has none",
    ),
    Setting(
        "TRUSTED_PROXIES",
        "0",
        whole_number(0, 10),
        "1",
        "how many proxies in front of the app append to `X-Forwarded-For`; 0 ignores the "
        "header (see Security: the app's port must then be reachable only through them)",
    ),
    Setting(
        "METRICS_TOKEN",
        None,
        secret,
        "<the output of openssl rand -base64 32>",
        "serves Prometheus metrics at `/metrics` to a scraper sending it as a bearer token; "
        "unset, there is no `/metrics`",
        "unset",
    ),
    Setting(
        "PROMETHEUS_MULTIPROC_DIR",
        None,
        writable_directory,
        "/run/todo-metrics",
        "where gunicorn's workers keep their metrics, made if missing; at start the count "
        "files of an earlier run (prometheus_client's `*_<pid>.db`) are removed, nothing "
        "else; unset, a new temporary directory",
        "unset",
    ),
    Setting("PORT", "4000", whole_number(1, 65535), "4000", "gunicorn's port"),
    Setting(
        "WEB_CONCURRENCY",
        None,
        whole_number(1, 256),
        "2",
        "gunicorn worker processes",
        "one per core the process may use",
    ),
    Setting("GUNICORN_THREADS", "2", whole_number(1, 256), "2", "threads per worker process"),
    Setting(
        "CONNECTIONS_PER_ADDRESS",
        None,
        whole_number(0, 100000),
        "100",
        "connections one client address may hold open in a worker process; one more is "
        "answered 503 and closed (0: no cap; see Security)",
        "`100`; 0 when `TRUSTED_PROXIES` is set (every connection then comes from a proxy)",
    ),
    Setting(
        "GUNICORN_REUSE_PORT",
        "false",
        boolean,
        "false",
        "`true`: each worker listens on its own socket and the kernel spreads connections "
        "over them (see Deploying for the catches)",
    ),
    Setting(
        "REQUEST_READ_TIMEOUT",
        "10",
        seconds(minimum=1),
        "10",
        "seconds a request may take to arrive whole from its first byte (else 408 and the "
        "connection closes); also bounds writing an answer (at least 1)",
    ),
    Setting(
        "REQUEST_QUEUE_TIMEOUT",
        "5",
        seconds(minimum=1),
        "5",
        "seconds a whole request may wait for a free thread before it is answered 503 instead "
        "(at least 1; `GET /healthz` waits as long as it takes)",
    ),
    Setting(
        "DRAIN_SECONDS",
        "0",
        seconds(),
        "10",
        "after SIGTERM, seconds a worker keeps serving with `/readyz` at 503 before it stops "
        "accepting (see Deploying)",
    ),
    Setting(
        "LIVE_HEARTBEAT_SECONDS",
        "15",
        seconds_between(1, 15),
        "15",
        "seconds between an event stream's heartbeats, at which it also checks its token; a "
        "waiting poll is re-checked as often (see Live)",
    ),
    Setting(
        "LIVE_FALLBACK_SECONDS",
        "2",
        seconds_between(0.1, 15),
        "2",
        "while the wake-up channel (Redis) is down or absent, seconds between re-checks of "
        "every waiting poll and stream: the longest a change then takes to reach them",
    ),
    Setting(
        "LIVE_PER_USER",
        "20",
        whole_number(1, 10000),
        "20",
        "open event streams and waiting polls one user may hold at once, over every host "
        "(with Redis; else per worker); one more is answered 429",
    ),
    Setting(
        "LIVE_PER_WORKER",
        "5000",
        whole_number(1, 100000),
        "5000",
        "open event streams and waiting polls one worker process holds; one more is answered "
        "503 (the worker's connection limit is this plus 1,000)",
    ),
    Setting(
        "EXPORTS_PER_USER",
        "2",
        whole_number(1, 100),
        "2",
        "exports (JSON, iCalendar, CSV) one user may have in progress at once, over every "
        "host (with Redis; else per worker); one more is answered 429",
    ),
    Setting(
        "EXPORTS_PER_WORKER",
        "2",
        whole_number(1, 1000),
        "2",
        "exports one worker process writes at once, a piece at a time between other requests "
        "(see Portability); one more is answered 503",
    ),
]
SETTINGS = {setting.name: setting for setting in DECLARED}


def value(name: str, environ=os.environ):
    """The setting's parsed value: from the environment (or `.env`), else its default; None
    when it has neither. SettingError for a value it cannot use."""
    setting = SETTINGS[name]
    raw = environ.get(name)
    if raw is None or (raw == "" and setting.default is None):
        raw = setting.default
    if raw is None:
        return None
    try:
        return setting.parse(raw)
    except ValueError as error:
        raise invalid(name, raw, str(error)) from None


def invalid(name: str, raw: str, reason: str) -> SettingError:
    """The one line that refuses `raw` as the value of the setting `name`."""
    return SettingError(
        f"{name}={raw!r} is not valid: {reason}; e.g. {name}={SETTINGS[name].example}"
    )


def check_all(environ=os.environ) -> None:
    """SettingError for the first variable set to a value its setting cannot use."""
    for name in SETTINGS:
        value(name, environ)


def table() -> str:
    """The configuration guide's table."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for setting in DECLARED:
        default = setting.shown_default or f"`{setting.default}`"
        rows.append(f"| `{setting.name}` | {default} | {setting.meaning} |")
    return "\n".join(rows)


def env_example() -> str:
    """`.env.example`: every setting, commented out at its default."""
    lines = [
        "# Every setting the app reads, at its default (settings.py; regenerate with",
        "# `python settings.py --write`). Copy to .env and uncomment what you change.",
    ]
    for setting in DECLARED:
        lines += ["", f"# {strip_markdown(setting.meaning)}"]
        shown = setting.default if setting.default is not None else setting.example
        lines.append(f"# {setting.name}={shown}")
    return "\n".join(lines) + "\n"


def strip_markdown(text: str) -> str:
    return text.replace("`", "")


def with_table(page: str) -> str:
    """The configuration guide's text with its table written from DECLARED."""
    start, end = page.index(TABLE_START), page.index(TABLE_END)
    return page[: start + len(TABLE_START)] + "\n" + table() + "\n" + page[end:]


def write() -> None:
    CONFIGURATION_GUIDE.write_text(with_table(CONFIGURATION_GUIDE.read_text()))
    (ROOT / ".env.example").write_text(env_example())


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python settings.py --write   (the configuration guide, .env.example)")
    write()
