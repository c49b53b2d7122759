"""Read EverFresh's settings from the environment, once, with explicit types."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def env_str(name: str, default: str = "") -> str:
    """Return the environment variable `name`, stripped, or `default` when unset or empty."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_int(name: str, default: int) -> int:
    """Return the environment variable `name` as an int, failing loudly on a non-number."""
    raw = env_str(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None


def env_bool(name: str, default: bool) -> bool:
    """Return the environment variable `name` as a bool (1/true/yes/on or 0/false/no/off)."""
    raw = env_str(name).lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be true or false, got {raw!r}")


def env_list(name: str) -> list[str]:
    """Return the environment variable `name` split on commas, without empty items."""
    return [item.strip() for item in env_str(name).split(",") if item.strip()]


class Config:
    """Settings shared by every environment; each reads its environment variable."""

    ENV_NAME = "base"
    TESTING = False

    # Where the database lives; SQLite under instance/ unless an operator says otherwise.
    SQLALCHEMY_DATABASE_URI = env_str(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'everfresh.sqlite3'}"
    )
    # Connections each worker keeps open to PostgreSQL (SQLite always uses one).
    DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", 10)
    # Empty means the in-process broker, which only works with one gunicorn worker.
    REDIS_URL = env_str("REDIS_URL")
    # Namespaces every Redis channel and key, so several deployments can share one Redis.
    REDIS_PREFIX = env_str("REDIS_PREFIX", "everfresh")
    # REDIS_URL names one node of a Redis Cluster: sharded pub/sub, one channel per company.
    REDIS_CLUSTER = env_bool("REDIS_CLUSTER", False)

    # Signs every token; required in production, generated once into instance/ elsewhere.
    JWT_SECRET_KEY = env_str("JWT_SECRET_KEY")
    # Short-lived access tokens bound the damage of a leak; streams end when theirs expires.
    JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=env_int("JWT_ACCESS_TOKEN_MINUTES", 15))
    # Refresh tokens let a client get a new access token without the password.
    JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=env_int("JWT_REFRESH_TOKEN_DAYS", 30))
    # Headers first for API clients; the board's HttpOnly cookie too, so EventSource can stream.
    JWT_TOKEN_LOCATION = ["headers", "cookies"]
    # Cookies only travel over HTTPS when true; production turns it on unless told otherwise.
    JWT_COOKIE_SECURE = env_bool("JWT_COOKIE_SECURE", False)
    # Strict: no other site can make the browser send the board's cookies.
    JWT_COOKIE_SAMESITE = "Strict"
    # Unsafe methods authenticated by cookie must echo the CSRF cookie in X-CSRF-TOKEN.
    JWT_COOKIE_CSRF_PROTECT = True
    # The board's access cookie is sent to every route it calls.
    JWT_ACCESS_COOKIE_PATH = "/"
    # The refresh cookie is sent only to the board's session endpoints (renew, log out).
    JWT_REFRESH_COOKIE_PATH = "/auth/session"
    JWT_ALGORITHM = "HS256"
    # The query parameter /sse/events reads a token from when SSE_QUERY_TOKEN is on.
    JWT_QUERY_STRING_NAME = "token"

    # Seconds between `: keep-alive` comments on an idle stream.
    SSE_HEARTBEAT_SECONDS = env_int("SSE_HEARTBEAT_SECONDS", 30)
    # Frames a stream may have waiting before the server drops it as a slow consumer.
    SSE_QUEUE_SIZE = env_int("SSE_QUEUE_SIZE", 256)
    # Kernel send buffer of each stream's socket: what a client that stops reading can pin.
    SSE_SEND_BUFFER_BYTES = env_int("SSE_SEND_BUFFER_BYTES", 64 * 1024)
    # Open streams one user may hold across the whole service.
    SSE_MAX_STREAMS_PER_USER = env_int("SSE_MAX_STREAMS_PER_USER", 10)
    # Accept `?token=` on /sse/events for clients that cannot send headers.
    SSE_QUERY_TOKEN = env_bool("SSE_QUERY_TOKEN", False)
    # Say true if any log (nginx's $request, a custom access_log_format) keeps query strings.
    LOG_QUERY_STRINGS = env_bool("LOG_QUERY_STRINGS", False)
    # How long booking events stay in the log for replay after a reconnect.
    SSE_REPLAY_HOURS = env_int("SSE_REPLAY_HOURS", 24)

    # Origins allowed to call the API and open streams from a browser.
    CORS_ORIGINS = env_list("CORS_ORIGINS")
    # Cost of new password hashes; werkzeug's default is deliberately slow.
    PASSWORD_HASH_METHOD = env_str("PASSWORD_HASH_METHOD", "scrypt")
    # Login attempts (POST /auth/login and /auth/session together) one client IP may make.
    LOGIN_RATE_LIMIT_PER_IP = env_str("LOGIN_RATE_LIMIT_PER_IP", "20/minute")
    # Login attempts for one email from anywhere, so guessing spread over many IPs is slow too.
    LOGIN_RATE_LIMIT_PER_ACCOUNT = env_str("LOGIN_RATE_LIMIT_PER_ACCOUNT", "5/minute")
    # Off only where something in front (nginx limit_req) already limits logins.
    RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
    # Proxies in front that set X-Forwarded-For (nginx: 1); 0 trusts only the socket's address.
    PROXY_FIX_X_FOR = env_int("PROXY_FIX_X_FOR", 0)
    # Proxies in front that set X-Forwarded-Proto, so requests that came over HTTPS look it.
    PROXY_FIX_X_PROTO = env_int("PROXY_FIX_X_PROTO", 0)
    # Request bodies above this size are refused with 413.
    MAX_CONTENT_LENGTH = env_int("MAX_CONTENT_LENGTH", 64 * 1024)
    LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
    # "text" for people reading a terminal, "json" for one JSON object per line (log shippers).
    LOG_FORMAT = env_str("LOG_FORMAT", "text").lower()


class DevelopmentConfig(Config):
    """Local development: SQLite and a generated signing key are fine."""

    ENV_NAME = "development"


class TestingConfig(Config):
    """The test suite: a throwaway database, cheap password hashes, fast heartbeats."""

    ENV_NAME = "testing"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = "sqlite:///:memory:"
    JWT_SECRET_KEY = "testing-secret-key-that-is-long-enough-for-hs256"
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    REDIS_URL = ""
    SSE_HEARTBEAT_SECONDS = 1
    # Far above what any test does; tests of the limits themselves set low ones.
    LOGIN_RATE_LIMIT_PER_IP = "10000/minute"
    LOGIN_RATE_LIMIT_PER_ACCOUNT = "10000/minute"


class ProductionConfig(Config):
    """Production: every secret must come from the environment."""

    ENV_NAME = "production"
    # Production is served over HTTPS: keep the board's cookies off plain HTTP.
    JWT_COOKIE_SECURE = env_bool("JWT_COOKIE_SECURE", True)


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_environment() -> type[Config]:
    """Pick the settings class named by `EVERFRESH_ENV` (development by default)."""
    name = env_str("EVERFRESH_ENV", "development").lower()
    if name not in CONFIGS:
        raise ValueError(f"EVERFRESH_ENV must be one of {sorted(CONFIGS)}, got {name!r}")
    return CONFIGS[name]
