"""Read EverFresh's settings from the environment, once, with explicit types."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, NoReturn
from urllib.parse import urlsplit

from pydantic import BeforeValidator, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _whole_number(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"must be a whole number, got {raw!r}") from None
    return raw


def _switch(raw: Any) -> Any:
    if isinstance(raw, str):
        word = raw.lower()
        if word in {"1", "true", "yes", "on"}:
            return True
        if word in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"must be true or false, got {word!r}")
    return raw


def _comma_list(raw: Any) -> Any:
    if isinstance(raw, str):
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
OptionalWholeNumber = Annotated[int | None, BeforeValidator(_whole_number)]
Switch = Annotated[bool, BeforeValidator(_switch)]
# NoDecode: a comma list, not the JSON pydantic-settings would otherwise expect.
CommaList = Annotated[list[str], NoDecode, BeforeValidator(_comma_list)]


def mask_database_url(url: str) -> str:
    """Return `url` with the password in it, if any, written as `***`, fit for any output."""
    scheme, separator, rest = url.rpartition("://")
    authority, slash, path = rest.partition("/")
    credentials, at, host = authority.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}{separator}{user}:***@{host}{slash}{path}"


def check_database_url(url: str) -> str:
    """Return `url` if EverFresh can open a database with it, or raise ValueError saying how."""
    scheme, separator, rest = url.partition("://")
    problem = ""
    if not separator:
        problem = "no scheme"
    elif scheme.lower() == "postgres":
        problem = "SQLAlchemy knows no postgres://, write postgresql+psycopg://"
    elif scheme.lower() not in DATABASE_SCHEMES:
        problem = f"no driver for {scheme}:// here"
    elif scheme.lower().startswith("sqlite"):
        if rest and not rest.startswith("/"):
            problem = "a SQLite path that does not follow sqlite:///"
    else:
        parts = urlsplit(url)
        try:
            # Read now, as connecting would read it, with a traceback.
            port_given = parts.port is not None
        except ValueError:
            problem = "a port that is not a number from 0 to 65535"
        else:
            problem = "" if parts.path.strip("/") else "no database name"
            if port_given and parts.port == 0:
                problem = "port 0"
    if problem:
        raise ValueError(
            f"must be {DATABASE_URL_FORMS}, got {mask_database_url(url)!r} ({problem})"
        )
    return url


class ConfigurationError(Exception):
    """A setting, or a combination of settings, EverFresh refuses to start with."""


class SettingsError(ConfigurationError, ValueError):
    """A setting in the environment that cannot be read as its type."""


# What `flask` and gunicorn exit with when they refuse the configuration, as click does for a
# bad command line: a supervisor can tell "fix the settings" from a crash worth restarting.
CONFIGURATION_ERROR_EXIT_STATUS = 2
# Set by gunicorn.conf.py in the master: the file a worker leaves its refusal in, so the master
# reports it once and stops instead of booting worker after worker (see gunicorn.conf.py).
REFUSAL_FILE_VARIABLE = "EVERFRESH_REFUSAL_FILE"

# The databases EverFresh ships a driver for: PostgreSQL through psycopg 3 (SQLAlchemy's
# driver for a bare postgresql:// too) and SQLite through the standard library.
DATABASE_SCHEMES = frozenset({"postgresql", "postgresql+psycopg", "sqlite", "sqlite+pysqlite"})
DATABASE_URL_FORMS = (
    "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE or sqlite:////ABSOLUTE/PATH"
)
# Where development keeps its data when DATABASE_URL is not set; production never falls back.
DEVELOPMENT_DATABASE_URL = f"sqlite:///{INSTANCE_DIR / 'everfresh.sqlite3'}"

LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


# Settings that are part of how EverFresh works, not choices for an operator.
FIXED_FLASK_CONFIG: dict[str, Any] = {
    # Headers first for API clients; the board's HttpOnly cookie too, so EventSource can stream.
    "JWT_TOKEN_LOCATION": ["headers", "cookies"],
    # Strict: no other site can make the browser send the board's cookies.
    "JWT_COOKIE_SAMESITE": "Strict",
    # Unsafe methods authenticated by cookie must echo the CSRF cookie in X-CSRF-TOKEN.
    "JWT_COOKIE_CSRF_PROTECT": True,
    # The board's access cookie is sent to every route it calls.
    "JWT_ACCESS_COOKIE_PATH": "/",
    # The refresh cookie is sent only to the board's session endpoints (renew, log out).
    "JWT_REFRESH_COOKIE_PATH": "/auth/session",
    "JWT_ALGORITHM": "HS256",
    # The query parameter /sse/events reads a token from when SSE_QUERY_TOKEN is on.
    "JWT_QUERY_STRING_NAME": "token",
}


class Settings(BaseSettings):
    """Every setting an operator gives EverFresh, one environment variable per field."""

    # Field `sse_heartbeat_seconds` reads SSE_HEARTBEAT_SECONDS; the environment is read only
    # when an instance is made (at create_app), never at import.
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    environment: ClassVar[str] = "base"

    # Where the database lives; SQLite under instance/ unless an operator says otherwise.
    database_url: str = DEVELOPMENT_DATABASE_URL
    # Connections each worker keeps open to PostgreSQL (SQLite always uses one).
    database_pool_size: WholeNumber = 10
    # Seconds to wait for a PostgreSQL connection before answering 503 (libpq would wait forever).
    database_connect_timeout_seconds: WholeNumber = 3
    # Longest a PostgreSQL statement may run before it is cancelled and answered 503; 0: no limit.
    database_statement_timeout_ms: WholeNumber = 15000
    # Seconds a request waits for a free pooled connection before answering 503.
    database_pool_timeout_seconds: WholeNumber = 5
    # Empty means the in-process broker, which only works with one gunicorn worker.
    redis_url: str = ""
    # Namespaces every Redis channel and key, so several deployments can share one Redis.
    redis_prefix: str = "everfresh"
    # REDIS_URL names one node of a Redis Cluster: sharded pub/sub, one channel per company.
    redis_cluster: Switch = False

    # Signs every token; required in production, generated once into instance/ elsewhere.
    jwt_secret_key: str = ""
    # The key before the last rotation: tokens it signed are still accepted until they expire.
    jwt_previous_secret_key: str = ""
    # Short-lived access tokens bound the damage of a leak; streams end when theirs expires.
    jwt_access_token_minutes: WholeNumber = 15
    # Refresh tokens let a client get a new access token without the password.
    jwt_refresh_token_days: WholeNumber = 30
    # Cookies only travel over HTTPS when true; production turns it on unless told otherwise.
    jwt_cookie_secure: Switch = False

    # Seconds between `: keep-alive` comments on an idle stream.
    sse_heartbeat_seconds: WholeNumber = 30
    # Frames a stream may have waiting before the server drops it as a slow consumer.
    sse_queue_size: WholeNumber = 256
    # Kernel send buffer of each stream's socket: what a client that stops reading can pin.
    sse_send_buffer_bytes: WholeNumber = 64 * 1024
    # Open streams one user may hold across the whole service.
    sse_max_streams_per_user: WholeNumber = 10
    # Accept `?token=` on /sse/events for clients that cannot send headers.
    sse_query_token: Switch = False
    # Say true if any log (nginx's $request, a custom access_log_format) keeps query strings.
    log_query_strings: Switch = False
    # How long booking events stay in the log for replay after a reconnect.
    sse_replay_hours: WholeNumber = 24
    # Most missed events one reconnect replays; past it the client is told to reload its list.
    sse_replay_max_events: WholeNumber = 10_000
    # Events one user's streams may read back from the event log per minute, over every
    # worker; past it a reconnect starts live with `replay_truncated`.
    sse_replay_budget_per_minute: WholeNumber = 20_000

    # Origins allowed to call the API and open streams from a browser.
    cors_origins: CommaList = []
    # Cost of new password hashes; werkzeug's default is deliberately slow.
    password_hash_method: str = "scrypt"
    # Login attempts (POST /auth/login and /auth/session together) one client IP may make.
    login_rate_limit_per_ip: str = "20/minute"
    # Login attempts for one email from one client IP: the rest a wrong password earns.
    login_rate_limit_per_account_and_ip: str = "5/minute"
    # Login attempts for one email from anywhere: slows guessing spread over many IPs, yet high
    # enough that strangers cannot use it to lock the owner out.
    login_rate_limit_per_account: str = "100/hour"
    # Accounts one admin may create (POST /users, every attempt counts): slows email probing.
    account_creation_rate_limit: str = "30/hour"
    # Off only where something in front (nginx limit_req) already limits logins.
    ratelimit_enabled: Switch = True
    # Proxies in front that set X-Forwarded-For (nginx: 1); 0 trusts only the socket's address.
    proxy_fix_x_for: WholeNumber = 0
    # Proxies in front that set X-Forwarded-Proto, so requests that came over HTTPS look it.
    proxy_fix_x_proto: WholeNumber = 0
    # Request bodies above this size are refused with 413.
    max_content_length: WholeNumber = 64 * 1024
    # Seconds a request's whole body may take to arrive before 408; 0 leaves it to a proxy.
    request_body_timeout_seconds: WholeNumber = 10
    # The level of EverFresh's logs and gunicorn's.
    log_level: str = "INFO"
    # "text" for people reading a terminal, "json" for one JSON object per line (log shippers).
    log_format: str = "text"

    # gunicorn's listening address.
    bind: str = "127.0.0.1:8000"
    # The server's address for `flask watch`, when it is not the one BIND gives (a proxy).
    everfresh_url: str = ""
    # gunicorn workers; unset means one, or one per core with Redis (see gunicorn.conf.py).
    web_concurrency: OptionalWholeNumber = None
    # Connections (open streams included) each gunicorn worker accepts.
    worker_connections: WholeNumber = 12000
    # Seconds gunicorn waits for requests to finish on shutdown (streams end at once).
    graceful_timeout: WholeNumber = 10
    # gunicorn's access log file ("-" for stdout); unset means none.
    access_log: str = ""

    @model_validator(mode="before")
    @classmethod
    def _blank_means_unset(cls, values: Any) -> Any:
        # An exported-but-empty variable (`FOO=`) is an operator leaving the default alone.
        if not isinstance(values, dict):
            return values
        stripped = {
            name: value.strip() if isinstance(value, str) else value
            for name, value in values.items()
        }
        return {name: value for name, value in stripped.items() if value != ""}

    @field_validator("database_url")
    @classmethod
    def _known_database_url(cls, value: str) -> str:
        # Empty only as production's default: everfresh.database refuses it, config overrides
        # (the test suite's) aside.
        return check_database_url(value) if value else value

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, got {value!r}")
        return value

    @field_validator("log_format")
    @classmethod
    def _known_log_format(cls, value: str) -> str:
        if value.lower() not in LOG_FORMATS:
            raise ValueError(f"must be one of {', '.join(LOG_FORMATS)}, got {value!r}")
        return value

    def flask_config(self) -> dict[str, Any]:
        """Return these settings as the Flask config keys the app and its extensions read.

        Every field becomes its upper-case name (SSE_QUEUE_SIZE, ...); a few are renamed or
        turned into the types their extensions expect, and fixed settings are added.
        """
        config = {name.upper(): value for name, value in self.model_dump().items()}
        renamed = {
            "ENV_NAME": self.environment,
            "TESTING": False,
            "SQLALCHEMY_DATABASE_URI": config.pop("DATABASE_URL"),
            "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=config.pop("JWT_ACCESS_TOKEN_MINUTES")),
            "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=config.pop("JWT_REFRESH_TOKEN_DAYS")),
            "LOG_LEVEL": self.log_level.upper(),
            "LOG_FORMAT": self.log_format.lower(),
        }
        return {**config, **renamed, **FIXED_FLASK_CONFIG}


class DevelopmentSettings(Settings):
    """Local development: SQLite and a generated signing key are fine."""

    environment = "development"


class TestingSettings(Settings):
    """The test suite: a throwaway database, cheap password hashes, fast heartbeats."""

    environment = "testing"

    def flask_config(self) -> dict[str, Any]:
        """Return the settings with the test suite's own values, whatever the environment says."""
        # Fixed rather than defaults: a developer's exported DATABASE_URL or REDIS_URL must not
        # let a test run touch a real database or Redis.
        return {
            **super().flask_config(),
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": "sqlite:///:memory:",
            "JWT_SECRET_KEY": "testing-secret-key-that-is-long-enough-for-hs256",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "REDIS_URL": "",
            "SSE_HEARTBEAT_SECONDS": 1,
            # Far above what any test does; tests of the limits themselves set low ones.
            "LOGIN_RATE_LIMIT_PER_IP": "10000/minute",
            "LOGIN_RATE_LIMIT_PER_ACCOUNT_AND_IP": "10000/minute",
            "LOGIN_RATE_LIMIT_PER_ACCOUNT": "10000/minute",
            "ACCOUNT_CREATION_RATE_LIMIT": "10000/minute",
        }


class ProductionSettings(Settings):
    """Production: every secret must come from the environment."""

    environment = "production"

    # Production is served over HTTPS: keep the board's cookies off plain HTTP.
    jwt_cookie_secure: Switch = True
    # No default: a shell that forgot the env file must not write to a development SQLite
    # file; everfresh.database refuses to start without it.
    database_url: str = ""


ENVIRONMENTS: dict[str, type[Settings]] = {
    "development": DevelopmentSettings,
    "testing": TestingSettings,
    "production": ProductionSettings,
}


def read_settings(environment: str | None = None) -> Settings:
    """Read the settings of `environment`, or of the one `EVERFRESH_ENV` names (development)."""
    if environment is None:
        environment = os.environ.get("EVERFRESH_ENV", "").strip().lower() or "development"
    if environment not in ENVIRONMENTS:
        raise SettingsError(
            f"EVERFRESH_ENV must be one of {sorted(ENVIRONMENTS)}, got {environment!r}"
        )
    settings_class = ENVIRONMENTS[environment]
    try:
        return settings_class()
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None


def _describe(error: ValidationError) -> str:
    # One line per bad variable, named as the operator spells it, not as pydantic does.
    lines = []
    for problem in error.errors():
        name = str(problem["loc"][0]).upper() if problem["loc"] else "a setting"
        cause = problem.get("ctx", {}).get("error")
        if cause is not None:
            lines.append(f"{name} {cause}")
        else:
            lines.append(f"{name}: {problem['msg']}, got {problem['input']!r}")
    return "\n".join(lines)


def refuse_to_start(error: ConfigurationError) -> NoReturn:
    """Stop the process over `error`: one line on stderr, exit status 2, no traceback.

    In a gunicorn worker the line goes to the master instead, which prints it once for all
    its workers and exits with the same status.
    """
    message = "; ".join(str(error).splitlines())
    refusal_file = os.environ.get(REFUSAL_FILE_VARIABLE)
    if refusal_file:
        Path(refusal_file).write_text(message)
    else:
        sys.stderr.write(f"EverFresh: {message}\n")
        sys.stderr.flush()
    sys.exit(CONFIGURATION_ERROR_EXIT_STATUS)
