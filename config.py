"""Configuration classes, read from the environment and `.env`."""

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent
INSTANCE_DIR = ROOT / "instance"
MIN_SECRET_LENGTH = 32
# The largest request body any route takes; the server refuses a larger one from its headers.
REQUEST_BODY_LIMIT = 64 * 1024

load_dotenv(ROOT / ".env")


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_seconds(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass(frozen=True)
class ServerTimeouts:
    """What the serving worker (server/worker.py) allows a client, in seconds."""

    read: float  # from a request's first byte until it is whole
    queue: float  # a whole request waiting for a free thread
    drain: float  # after SIGTERM, serving on with /readyz at 503 before the sockets close


def server_timeouts() -> ServerTimeouts:
    return ServerTimeouts(
        read=env_seconds("REQUEST_READ_TIMEOUT", 10),
        queue=env_seconds("REQUEST_QUEUE_TIMEOUT", 5),
        drain=env_seconds("DRAIN_SECONDS", 0),
    )


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# asyncpg spells libpq's `sslmode` as `ssl`; deployments carry the asyncpg form in `.env`.
_ASYNCPG_SSL = {"true": "require", "false": "disable"}


def normalise_database_url(url: str) -> str:
    """Turn any libpq/asyncpg/Heroku-style URL into one SQLAlchemy + psycopg2 accepts."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if not scheme.startswith(("postgres", "postgresql")):
        return url
    query = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "ssl":
            key, value = "sslmode", _ASYNCPG_SSL.get(value.lower(), value)
        query.append((key, value))
    return urlunsplit(
        ("postgresql+psycopg2", parts.netloc, parts.path, urlencode(query), parts.fragment)
    )


def engine_options(url: str) -> dict:
    """Every statement commits on its own (see todo/database.py); a server database also gets
    pool settings (pre-ping is done by todo/database.py, only for connections that idled)."""
    # Parameters (password hashes among them) never go into error messages and so logs.
    common = {"isolation_level": "AUTOCOMMIT", "hide_parameters": True}
    if not url.startswith("postgresql"):
        return common
    return {
        **common,
        "pool_size": env_int("DB_POOL_SIZE", 5),
        "max_overflow": env_int("DB_MAX_OVERFLOW", 15),
        "pool_recycle": env_int("DB_POOL_RECYCLE", 3600),
        "pool_timeout": env_int("DB_POOL_TIMEOUT", 5),
        "connect_args": {
            "connect_timeout": env_int("DB_CONNECT_TIMEOUT", 5),
            # A server that vanishes without closing (network partition) is noticed in
            # seconds, not after the kernel's ~15 minutes of retransmissions.
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
            "tcp_user_timeout": env_int("DB_CONNECT_TIMEOUT", 5) * 2000,
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


def configured_secret() -> str | None:
    return os.environ.get("JWT_SECRET_KEY") or os.environ.get("BETTER_AUTH_SECRET") or None


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

    API_TITLE = "todo"
    API_VERSION = "1.0.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/docs/assets/"
    API_SPEC_OPTIONS = {
        "security": [{"bearerAuth": []}],
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            }
        },
    }

    CORS_RESOURCES = r"/api/*"
    CORS_ALLOW_HEADERS = [
        "Authorization",
        "Content-Type",
        "If-Match",
        "If-None-Match",
        "Idempotency-Key",
        "X-Request-ID",
    ]
    CORS_EXPOSE_HEADERS = [
        "ETag",
        "Location",
        "Link",
        "X-Total-Count",
        "X-Request-ID",
        "Retry-After",
    ]
    CORS_MAX_AGE = 600

    def __init__(self, database_url: str | None = None):
        url = normalise_database_url(
            database_url
            or os.environ.get("DATABASE_URL")
            or f"sqlite:///{INSTANCE_DIR / 'todo.db'}"
        )
        self.SQLALCHEMY_DATABASE_URI = url
        self.SQLALCHEMY_ENGINE_OPTIONS = engine_options(url)
        self.DB_CONNECT_TIMEOUT = env_int("DB_CONNECT_TIMEOUT", 5)
        self.DB_STATEMENT_TIMEOUT = env_int("DB_STATEMENT_TIMEOUT", 30)
        self.DB_POOL_PRE_PING = env_bool("DB_POOL_PRE_PING", True)
        self.DB_PING_IDLE_SECONDS = float(os.environ.get("DB_PING_IDLE_SECONDS", "1"))
        self.JWT_SECRET_KEY = self.secret()
        self.JWT_ACCESS_TOKEN_EXPIRES = timedelta(
            seconds=env_int("JWT_ACCESS_TOKEN_EXPIRES", int(timedelta(days=7).total_seconds()))
        )
        # Hosts' clocks differ by a little: a token issued a few seconds "in the future" by
        # one is still good on another (and one expires as many seconds later).
        self.JWT_DECODE_LEEWAY = env_int("JWT_LEEWAY_SECONDS", 10)
        self.ARGON2_TIME_COST = env_int("ARGON2_TIME_COST", 3)
        self.ARGON2_MEMORY_COST = env_int("ARGON2_MEMORY_COST", 65536)  # KiB
        self.ARGON2_PARALLELISM = env_int("ARGON2_PARALLELISM", 4)
        self.CORS_ORIGINS = env_list("CORS_ORIGINS", "http://localhost:3000")
        self.TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
        self.LOG_LEVEL = os.environ.get("LOG_LEVEL", "info")
        self.RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
        self.RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
        # A store that does not answer within this is taken as down; throttling then counts
        # in memory and asks it again after RATELIMIT_STORAGE_RETRY.
        self.RATELIMIT_STORAGE_TIMEOUT = env_seconds("RATELIMIT_STORAGE_TIMEOUT", 0.2)
        self.RATELIMIT_STORAGE_RETRY = env_seconds("RATELIMIT_STORAGE_RETRY", 10)
        # Sets apart the counts of apps (or environments) that share one Redis.
        self.RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "")
        self.RATELIMIT_LOGIN_PER_EMAIL_AND_ADDRESS = os.environ.get(
            "RATELIMIT_LOGIN_PER_EMAIL_AND_ADDRESS", "5 per minute; 20 per hour"
        )
        self.RATELIMIT_LOGIN_PER_EMAIL = os.environ.get("RATELIMIT_LOGIN_PER_EMAIL", "100 per hour")
        self.RATELIMIT_LOGIN_PER_ADDRESS = os.environ.get(
            "RATELIMIT_LOGIN_PER_ADDRESS", "30 per minute"
        )
        self.RATELIMIT_SIGNUP_PER_ADDRESS = os.environ.get(
            "RATELIMIT_SIGNUP_PER_ADDRESS", "20 per hour"
        )
        self.RATELIMIT_PASSWORD_CHECK_PER_USER = os.environ.get(
            "RATELIMIT_PASSWORD_CHECK_PER_USER", "5 per 15 minutes"
        )

    def secret(self) -> str:
        secret = configured_secret()
        if not secret or len(secret) < MIN_SECRET_LENGTH or secret.startswith("<"):
            raise RuntimeError(
                "JWT_SECRET_KEY (or BETTER_AUTH_SECRET) must be set to a random string of "
                f"at least {MIN_SECRET_LENGTH} characters, e.g. `openssl rand -base64 32`"
            )
        return secret


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
        return "test-secret-" + "x" * MIN_SECRET_LENGTH


CONFIGS = {"production": Config, "development": DevelopmentConfig}


def config_from_env() -> Config:
    """The config class named by APP_ENV (production unless said otherwise)."""
    name = os.environ.get("APP_ENV", "production").lower()
    if name not in CONFIGS:
        raise RuntimeError(f"APP_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
    return CONFIGS[name]()
