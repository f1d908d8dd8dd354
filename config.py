"""Configuration classes, with the values of settings.py (the environment and `.env`)."""

import os
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from orjson import loads
from sqlalchemy.engine import make_url

from settings import SettingError, check_all, invalid, value

ROOT = Path(__file__).resolve().parent
INSTANCE_DIR = ROOT / "instance"
# The largest request body a route takes (a batch of writes: more); the server refuses a
# larger one from its headers.
REQUEST_BODY_LIMIT = 64 * 1024
BATCH_BODY_LIMIT = 1024 * 1024
BATCH_TARGET = re.compile(rb"/api/[^/?#]+/batch/?(?:\?.*)?")
# An import carries a whole file (todo/portability/items.py: MOST_BYTES).
IMPORT_BODY_LIMIT = 10 * 1024 * 1024
IMPORT_TARGET = re.compile(rb"/api/[^/?#]+/imports(?:/preview)?/?(?:\?.*)?")


def body_limit(request_head: bytes | bytearray) -> int:
    """The largest body the request starting `request_head` may have, by its target."""
    line = bytes(request_head[: request_head.find(b"\r\n")])
    parts = line.split(b" ")
    if len(parts) == 3 and BATCH_TARGET.fullmatch(parts[1]):
        return BATCH_BODY_LIMIT
    if len(parts) == 3 and IMPORT_TARGET.fullmatch(parts[1]):
        return IMPORT_BODY_LIMIT
    return REQUEST_BODY_LIMIT


@dataclass(frozen=True)
class ServerTimeouts:
    """What the serving worker (server/worker.py) allows a client, in seconds."""

    read: float  # from a request's first byte until it is whole
    queue: float  # a whole request waiting for a free thread
    drain: float  # after SIGTERM, serving on with /readyz at 503 before the sockets close


@dataclass(frozen=True)
class LiveSettings:
    """What the worker's live hub (server/live.py) allows and how it learns of commits."""

    heartbeat: float  # seconds between a stream's heartbeats (and a held poll's re-checks)
    fallback: float  # seconds between re-checks while the wake-up channel is down
    per_user: int  # open streams and waiting polls one user holds, across hosts
    per_worker: int  # the same, held by one worker
    exports_per_user: int  # exports in progress one user holds, across hosts
    exports_per_worker: int  # the same, held by one worker
    redis_url: str | None  # the wake-up channel's (and the counts'); None: this process only


def live_settings() -> LiveSettings:
    storage = value("RATELIMIT_STORAGE_URI")
    return LiveSettings(
        heartbeat=value("LIVE_HEARTBEAT_SECONDS"),
        fallback=value("LIVE_FALLBACK_SECONDS"),
        per_user=value("LIVE_PER_USER"),
        per_worker=value("LIVE_PER_WORKER"),
        exports_per_user=value("EXPORTS_PER_USER"),
        exports_per_worker=value("EXPORTS_PER_WORKER"),
        redis_url=None if storage.startswith("memory://") else storage,
    )


def server_timeouts() -> ServerTimeouts:
    return ServerTimeouts(
        read=value("REQUEST_READ_TIMEOUT"),
        queue=value("REQUEST_QUEUE_TIMEOUT"),
        drain=value("DRAIN_SECONDS"),
    )


# asyncpg spells libpq's `sslmode` as `ssl`; deployments carry the asyncpg form in `.env`.
_ASYNCPG_SSL = {"true": "require", "false": "disable"}


def normalise_database_url(url: str) -> str:
    """Turn any libpq/asyncpg/Heroku-style URL into one SQLAlchemy + psycopg2 accepts."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if not scheme.startswith(("postgres", "postgresql")):
        return url
    query = []
    for key, given in parse_qsl(parts.query, keep_blank_values=True):
        if key == "ssl":
            key, given = "sslmode", _ASYNCPG_SSL.get(given.lower(), given)
        query.append((key, given))
    return urlunsplit(
        ("postgresql+psycopg2", parts.netloc, parts.path, urlencode(query), parts.fragment)
    )


def engine_options(url: str) -> dict:
    """Every statement commits on its own (see todo/database.py); a server database also gets
    pool settings (pre-ping is done by todo/database.py, only for connections that idled)."""
    # Parameters (password hashes among them) never go into error messages and so logs.
    # JSON columns (a task's reminders and labels) are read by orjson: psycopg2 and SQLite's
    # result processing otherwise call json.loads for each of them in every row.
    # No rollback as a connection goes back to the pool: a Connection or Session ends its own
    # transaction first (SQLAlchemy then skips the pool's), and the statements run on a
    # pooled DBAPI connection (todo/compiled_statements.py) are autocommit, so the pool's
    # rollback was a no-op call, one per request, that gave up and took back the GIL.
    common = {
        "isolation_level": "AUTOCOMMIT",
        "hide_parameters": True,
        "json_deserializer": loads,
        "pool_reset_on_return": None,
    }
    if not url.startswith("postgresql"):
        return common
    return {
        **common,
        "pool_size": value("DB_POOL_SIZE"),
        "max_overflow": value("DB_MAX_OVERFLOW"),
        "pool_recycle": value("DB_POOL_RECYCLE"),
        "pool_timeout": value("DB_POOL_TIMEOUT"),
        "connect_args": {
            "connect_timeout": value("DB_CONNECT_TIMEOUT"),
            # A server that vanishes without closing (network partition) is noticed in
            # seconds, not after the kernel's ~15 minutes of retransmissions.
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
            "tcp_user_timeout": value("DB_CONNECT_TIMEOUT") * 2000,
        },
    }


def development_secret(directory: Path = INSTANCE_DIR) -> str:
    """One generated secret per checkout, kept in instance/ so every worker signs alike."""
    path = directory / "jwt-secret"
    if not path.exists():
        directory.mkdir(exist_ok=True)
        scratch = path.with_name(f"jwt-secret.{secrets.token_hex(8)}")
        scratch.write_text(secrets.token_urlsafe(48))
        try:
            os.link(scratch, path)  # atomic: the first worker to get here wins
        except FileExistsError:
            pass
        finally:
            scratch.unlink()
    return path.read_text().strip()


def embedded_database() -> str:
    """The default database: a SQLite file in instance/, which a fresh clone does not have
    yet (the development secret used to make it, and `flask db upgrade` runs before any)."""
    INSTANCE_DIR.mkdir(exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'todo.db'}"


def check_sqlite_directory(url: str) -> None:
    """A SQLite file in a directory that does not exist would fail at the first statement,
    in a traceback; say so in one line instead. (A relative path is Flask-SQLAlchemy's, in
    the instance folder, which it makes.)"""
    if not url.startswith("sqlite"):
        return
    path = make_url(url).database
    if path and path != ":memory:" and Path(path).is_absolute() and not Path(path).parent.is_dir():
        raise SettingError(
            f"DATABASE_URL={url!r} is not valid: the directory {Path(path).parent} does not "
            "exist; e.g. DATABASE_URL=sqlite:////var/lib/todo/todo.db"
        )


def configured_secret() -> str | None:
    return value("JWT_SECRET_KEY") or value("BETTER_AUTH_SECRET")


class Config:
    """Production settings: everything from the environment, no generated secrets."""

    JWT_TOKEN_LOCATION = ["headers"]
    JWT_ALGORITHM = "HS256"
    JWT_DECODE_ALGORITHMS = ["HS256"]
    # Tokens travel in headers only, so a CSRF claim protects nothing, and `nbf` would only
    # repeat `iat`: a smaller token is less to check on every request (tokens issued with
    # them stay valid).
    JWT_COOKIE_CSRF_PROTECT = False
    JWT_ENCODE_NBF = False
    MAX_CONTENT_LENGTH = REQUEST_BODY_LIMIT
    BATCH_BODY_LIMIT = BATCH_BODY_LIMIT
    IMPORT_BODY_LIMIT = IMPORT_BODY_LIMIT

    API_TITLE = "todo"
    API_VERSION = "1.0.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/docs/assets/"
    CORS_RESOURCES = r"/api/*"
    CORS_ALLOW_HEADERS = [
        "Authorization",
        "Content-Type",
        "If-Match",
        "If-None-Match",
        "Idempotency-Key",
        "X-Request-ID",
    ]
    # Every response header the OpenAPI document names (tests/test_docs.py checks it), even
    # Cache-Control, which browsers show scripts anyway.
    CORS_EXPOSE_HEADERS = [
        "ETag",
        "Location",
        "Link",
        "X-Total-Count",
        "X-Request-ID",
        "Retry-After",
        "Idempotent-Replayed",
        "X-Positions-Rebalanced",
        "Cache-Control",
        "Vary",
        "RateLimit-Policy",
        "RateLimit",
    ]
    CORS_MAX_AGE = 600

    def __init__(self, database_url: str | None = None, signs_tokens: bool = True):
        """`signs_tokens`: False for commands that never issue or check a token (`flask db
        …`), which then need no secret."""
        url = normalise_database_url(database_url or value("DATABASE_URL") or embedded_database())
        check_sqlite_directory(url)
        self.SQLALCHEMY_DATABASE_URI = url
        self.SQLALCHEMY_ENGINE_OPTIONS = engine_options(url)
        self.DB_CONNECT_TIMEOUT = value("DB_CONNECT_TIMEOUT")
        self.DB_STATEMENT_TIMEOUT = value("DB_STATEMENT_TIMEOUT")
        self.DB_MIGRATION_LOCK_TIMEOUT = value("DB_MIGRATION_LOCK_TIMEOUT")
        self.DB_POOL_PRE_PING = value("DB_POOL_PRE_PING")
        self.DB_PING_IDLE_SECONDS = value("DB_PING_IDLE_SECONDS")
        self.JWT_SECRET_KEY = self.secret() if signs_tokens else secrets.token_urlsafe(48)
        self.JWT_ACCESS_TOKEN_EXPIRES = timedelta(seconds=value("JWT_ACCESS_TOKEN_EXPIRES"))
        # Hosts' clocks differ by a little: a token issued a few seconds "in the future" by
        # one is still good on another (and one expires as many seconds later).
        self.JWT_DECODE_LEEWAY = value("JWT_LEEWAY_SECONDS")
        self.ARGON2_TIME_COST = value("ARGON2_TIME_COST")
        self.ARGON2_MEMORY_COST = value("ARGON2_MEMORY_COST")  # KiB
        self.ARGON2_PARALLELISM = value("ARGON2_PARALLELISM")
        self.CORS_ORIGINS = value("CORS_ORIGINS")
        self.TRUSTED_PROXIES = value("TRUSTED_PROXIES")
        self.LOG_LEVEL = value("LOG_LEVEL")
        self.METRICS_TOKEN = value("METRICS_TOKEN")
        self.TRASH_RETENTION_DAYS = value("TRASH_RETENTION_DAYS")
        self.FEED_RETENTION_DAYS = value("FEED_RETENTION_DAYS")
        self.IMPORT_INLINE_BYTES = value("IMPORT_INLINE_BYTES")
        self.IMPORT_JOBS_PER_USER = value("IMPORT_JOBS_PER_USER")
        for name in WEBHOOK_SETTINGS:
            setattr(self, name, value(name))
        if self.WEBHOOK_LEASE_SECONDS <= self.WEBHOOK_TIMEOUT:  # a lease outlives an attempt
            raise invalid(
                "WEBHOOK_LEASE_SECONDS",
                str(self.WEBHOOK_LEASE_SECONDS),
                f"must be more than WEBHOOK_TIMEOUT ({self.WEBHOOK_TIMEOUT:g} seconds)",
            )
        for name in THROTTLING_SETTINGS:
            setattr(self, name, value(name))

    def secret(self) -> str:
        secret = configured_secret()
        if not secret:
            raise SettingError(
                "JWT_SECRET_KEY is not set: production needs a random secret of at least 32 "
                "characters shared by every host; e.g. JWT_SECRET_KEY=$(openssl rand -base64 32)"
            )
        return secret


WEBHOOK_SETTINGS = (
    "WEBHOOK_ALLOWED_NETWORKS",
    "WEBHOOK_TIMEOUT",
    "WEBHOOK_NAMESERVERS",
    "WEBHOOK_RETRY_SCHEDULE",
    "WEBHOOK_LEASE_SECONDS",
    "WEBHOOK_POLL_SECONDS",
)
THROTTLING_SETTINGS = (
    "RATELIMIT_ENABLED",
    "RATELIMIT_STORAGE_URI",
    "RATELIMIT_STORAGE_TIMEOUT",
    "RATELIMIT_STORAGE_RETRY",
    "RATELIMIT_KEY_PREFIX",
    "RATELIMIT_LOGIN_PER_EMAIL_AND_ADDRESS",
    "RATELIMIT_LOGIN_PER_EMAIL",
    "RATELIMIT_LOGIN_PER_ADDRESS",
    "RATELIMIT_LOGINS_PER_ADDRESS",
    "RATELIMIT_SIGNUP_PER_ADDRESS",
    "RATELIMIT_PASSWORD_CHECK_PER_USER",
    "RATELIMIT_INVITATIONS_PER_OWNER",
    "RATELIMIT_BUDGET",
    "RATELIMIT_BUDGET_FEED",
    "RATELIMIT_BUDGET_BATCH",
    "RATELIMIT_BUDGET_STREAM",
    "RATELIMIT_BUDGET_SLICE",
    "RATELIMIT_CALENDAR_PER_SUBSCRIPTION",
)


class DevelopmentConfig(Config):
    """Local runs: a secret generated once and kept in instance/ when none is configured."""

    def secret(self) -> str:
        return configured_secret() or development_secret()


class TestingConfig(Config):
    """Tests: a fixed secret and cheap password hashing."""

    __test__ = False  # pytest: a config, not a test class
    TESTING = True

    def __init__(self, database_url: str):
        super().__init__(database_url)
        self.ARGON2_TIME_COST = 1
        self.ARGON2_MEMORY_COST = 8
        self.ARGON2_PARALLELISM = 1
        self.RATELIMIT_ENABLED = False  # throttling tests switch it on for their own app

    def secret(self) -> str:
        return "test-secret-" + "x" * 32


CONFIGS = {"production": Config, "development": DevelopmentConfig}


def config_from_env(signs_tokens: bool = True) -> Config:
    """The config class named by APP_ENV (production unless said otherwise), once every
    setting has been checked, those this process does not read included."""
    check_all()
    return CONFIGS[value("APP_ENV")](signs_tokens=signs_tokens)
