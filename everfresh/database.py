"""Configure the database engine, migrate the schema, and check the driver suits gevent."""

from __future__ import annotations

import inspect
import re
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import flask_migrate
from flask import Flask
from sqlalchemy import Engine, event, text
from sqlalchemy import inspect as inspect_database
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.pool import Pool

from config import BASE_DIR, ConfigurationError, mask_database_url
from everfresh.eventlog.partitions import ensure_partitions, include_name
from everfresh.extensions import db, migrate
from everfresh.metrics import DATABASE_CONNECTIONS_IN_USE

MIGRATIONS_DIR = BASE_DIR / "migrations"
# Any fixed number: the PostgreSQL advisory lock held while the schema is being upgraded.
MIGRATION_LOCK_KEY = 7_412_305_118

# The first revision ("create schema") and the tables it creates, which are exactly the
# tables `db.create_all()` made before there were migrations.
BASELINE_REVISION = "31ba22ecdc8a"
BASELINE_TABLES = frozenset(
    {
        "companies",
        "customers",
        "services",
        "users",
        "staff",
        "bookings",
        "idempotency_keys",
        "events",
    }
)


def engine_options(
    database_url: str,
    pool_size: int,
    connect_timeout: int = 3,
    statement_timeout_ms: int = 15000,
    pool_timeout: int = 5,
) -> dict[str, Any]:
    """Return SQLAlchemy engine options suited to the database behind `database_url`.

    The timeouts bound how long a request waits on PostgreSQL when it is down or stuck, so
    that it fails fast with 503 instead of holding the client until gunicorn's timeout.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        # Flask-SQLAlchemy shares one in-memory connection (StaticPool), which takes no sizes.
        return {}
    if url.get_backend_name() == "sqlite":
        # SQLite calls never yield to other greenlets, so one connection per process,
        # used in short transactions, is both the fastest and the safest.
        return {
            "pool_size": 1,
            "max_overflow": 0,
            "pool_timeout": 30,
            "connect_args": {"check_same_thread": False, "timeout": 15},
        }
    return {
        "pool_size": pool_size,
        "max_overflow": pool_size,
        # A restarted server or a failover leaves dead connections in the pool: test each
        # one as it is checked out rather than fail the request that draws it.
        "pool_pre_ping": True,
        # Firewalls and load balancers drop idle connections without a word, which a ping
        # only notices after a TCP timeout; replacing connections every half hour avoids it.
        "pool_recycle": 1800,
        # A request waits this long for a free connection, then answers 503.
        "pool_timeout": pool_timeout,
        "connect_args": _postgres_connect_args(connect_timeout, statement_timeout_ms),
    }


def _postgres_connect_args(connect_timeout: int, statement_timeout_ms: int) -> dict[str, Any]:
    # libpq waits forever for an unreachable server; a request should fail instead.
    args: dict[str, Any] = {"connect_timeout": connect_timeout}
    if statement_timeout_ms > 0:
        # A startup option, so it holds on every pooled connection without a query per checkout.
        args["options"] = f"-c statement_timeout={statement_timeout_ms}"
    return args


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while one writer commits; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


@event.listens_for(Pool, "checkout")
def _count_checkout(_dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    # A pool that stays at its limit makes requests wait, then answer 503 (pool_timeout).
    DATABASE_CONNECTIONS_IN_USE.inc()


@event.listens_for(Pool, "checkin")
def _count_checkin(_dbapi_connection: Any, _record: Any) -> None:
    DATABASE_CONNECTIONS_IN_USE.dec()


@event.listens_for(Pool, "detach")
def _count_detach(_dbapi_connection: Any, _record: Any) -> None:
    # A detached connection leaves the pool for good: no checkin will follow.
    DATABASE_CONNECTIONS_IN_USE.dec()


class DatabaseUnusable(ConfigurationError):
    """The database DATABASE_URL names is missing, unreachable, or refuses EverFresh's login."""


# How PostgreSQL and libpq word the refusals an operator fixes in DATABASE_URL or the server:
# at connection time psycopg carries no SQLSTATE, only the server's FATAL message.
_MISSING_DATABASE = re.compile(r'database ".*" does not exist')
_WRONG_PASSWORD = re.compile(r"password authentication failed|no password supplied")
_LOGIN_REFUSED = re.compile(
    r'role ".*" does not exist|no pg_hba\.conf entry|not permitted to log in'
)
# Any other failure to open a connection: nothing answered, or not as PostgreSQL would.
_UNREACHABLE = re.compile(r"connection failed|connection to server|resolve host|timeout expired")
_MISSING_TABLE = re.compile(r"no such table|relation .* does not exist")


def problem_with(error: BaseException, database_url: str) -> str | None:
    """Return one line on why `error` kept EverFresh from the database and what to do about it.

    None when `error` is not a problem an operator fixes in DATABASE_URL, the database server
    or the schema: a bug keeps its traceback.
    """
    if not isinstance(error, OperationalError | ProgrammingError):
        return None
    setting = f"DATABASE_URL ({mask_database_url(database_url)})"
    url = make_url(database_url)
    reason = " ".join(str(error.orig if isinstance(error, DBAPIError) else error).split())
    if _MISSING_TABLE.search(reason):
        return (
            f"The database of {setting} has no EverFresh schema yet: "
            "run `flask --app wsgi init-db` first."
        )
    if isinstance(error, ProgrammingError):
        return None
    if url.get_backend_name() == "sqlite":
        return (
            f"{setting}: SQLite cannot open the file ({reason}): create its directory, "
            "or correct the path."
        )
    user = url.username or "the connecting user"
    server_says = reason.split("FATAL:", 1)[-1].strip()
    if _MISSING_DATABASE.search(reason):
        return (
            f"{setting} names a database that does not exist: create it "
            f"(`createdb --owner={user} {url.database}` as the postgres user, see the "
            "README's Production section), or correct the name."
        )
    if _WRONG_PASSWORD.search(reason):
        return (
            f"{setting}: PostgreSQL refused the password of role {user}: correct the password "
            f"in DATABASE_URL, or set the role's (`ALTER ROLE {user} PASSWORD '...'`)."
        )
    if _LOGIN_REFUSED.search(reason):
        return (
            f"{setting}: PostgreSQL refused the login ({server_says}): create the role "
            f"(`createuser --pwprompt {user}` as the postgres user), or allow it in pg_hba.conf."
        )
    if _UNREACHABLE.search(reason):
        address = (url.host or "its local socket") + (f":{url.port}" if url.port else "")
        cause = reason if "resolve host" in reason else reason.rsplit("failed: ", 1)[-1]
        # libpq's hint ("Is the server running ...?") is what the advice below says.
        cause = cause.split(" Is the server running", 1)[0]
        return (
            f"{setting}: cannot connect to PostgreSQL at {address} ({cause}): start the "
            "server, or correct the host and port in DATABASE_URL."
        )
    return None


def check_connection() -> None:
    """Open one connection to the database, or raise DatabaseUnusable saying why in one line."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (OperationalError, ProgrammingError) as error:
        problem = problem_with(error, db.engine.url.render_as_string(hide_password=False))
        if problem is None:
            raise
        raise DatabaseUnusable(problem) from None


def describe_database(app: Flask) -> str:
    """Return the database `app` uses, for an operator to read: its URL, the password masked."""
    return mask_database_url(app.config["SQLALCHEMY_DATABASE_URI"])


def init_app(app: Flask) -> None:
    """Bind the database and migrations to `app` with engine options for its database."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri:
        # Only production leaves it empty: development falls back to a SQLite file.
        raise ConfigurationError(
            "DATABASE_URL is not set, and production does not fall back to the development "
            "SQLite file: set it (e.g. postgresql+psycopg://everfresh:PASSWORD@127.0.0.1:5432/"
            "everfresh), or load the env file first: set -a; . /etc/everfresh/everfresh.env; "
            "set +a"
        )
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS",
        engine_options(
            uri,
            app.config["DATABASE_POOL_SIZE"],
            connect_timeout=app.config["DATABASE_CONNECT_TIMEOUT_SECONDS"],
            statement_timeout_ms=app.config["DATABASE_STATEMENT_TIMEOUT_MS"],
            pool_timeout=app.config["DATABASE_POOL_TIMEOUT_SECONDS"],
        ),
    )
    db.init_app(app)
    # An absolute path, so `flask init-db` finds the migrations from any working directory;
    # batch mode because SQLite can only alter a table by copying it; the event log's
    # partitions are the database's business, not tables the models describe.
    migrate.init_app(
        app,
        db,
        directory=str(MIGRATIONS_DIR),
        render_as_batch=True,
        include_name=include_name,
    )


def commit_keeping_loaded() -> None:
    """Commit the session without expiring what it loaded.

    For a request that answers with the rows it just wrote: their every column was set in
    Python, so reading them back after the commit would only repeat the round trips.
    """
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def upgrade_schema() -> None:
    """Create the schema or upgrade it to the latest migration; running it again does nothing."""
    with _migration_lock():
        _adopt_schema_made_before_migrations()
        flask_migrate.upgrade()
        # The migration made partitions for the days around it; a deployment made later
        # should not wait for the first hourly pruner to have the coming days' ones.
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                ensure_partitions(connection)


@contextmanager
def _migration_lock() -> Iterator[None]:
    # Several instances may run init-db at once when a deployment starts: the first
    # migrates, the others wait here and then find nothing left to do. SQLite serves one
    # host, and a second connection for the lock would exhaust its one-connection pool.
    if db.engine.dialect.name != "postgresql":
        yield
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})


def _adopt_schema_made_before_migrations() -> None:
    # Databases created by `db.create_all()` (the old init-db, and test fixtures) already
    # hold the first revision's tables but no alembic_version: record them as being at
    # that revision, instead of failing to create tables that exist.
    existing = set(inspect_database(db.engine).get_table_names())
    if "alembic_version" in existing or not existing & BASELINE_TABLES:
        return
    missing = BASELINE_TABLES - existing
    if missing:
        raise RuntimeError(
            "The database holds some EverFresh tables but not "
            f"{', '.join(sorted(missing))}, and no migration history: it is not a schema "
            "init-db can upgrade. Restore it, or start from an empty database."
        )
    flask_migrate.stamp(revision=BASELINE_REVISION)


def check_driver_cooperates_with_gevent(app: Flask) -> None:
    """Raise RuntimeError if, in a gevent-patched process, psycopg would block the whole worker.

    psycopg 3 picks how it waits for the server once, when `psycopg.waiting` is imported:
    if gevent has patched `select` by then it waits through the patched `select.poll`
    (`wait_poll`) and connects through gevent's selector; otherwise it waits in C
    (`wait_c`, which calls poll(2) directly) and connects through the standard library's
    epoll selector, neither of which ever yields to the gevent hub.
    """
    if make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() != "postgresql":
        return
    # Not imported means not patched; importing gevent here would change nothing.
    monkey = sys.modules.get("gevent.monkey")
    if monkey is None or not monkey.is_module_patched("socket"):
        return

    import selectors

    from psycopg import waiting

    problems = []
    if not monkey.is_module_patched("select"):
        problems.append("gevent has not patched `select`, which psycopg waits on")
    # Compiled code (wait_c) calls poll(2) itself, out of gevent's reach.
    if waiting.wait is getattr(waiting, "wait_c", None) or not inspect.isfunction(waiting.wait):
        problems.append(f"queries wait in {waiting.wait.__name__}, which blocks the hub")
    if waiting.DefaultSelector is not selectors.DefaultSelector:
        problems.append(
            f"connections wait on {waiting.DefaultSelector.__name__} "
            f"instead of {selectors.DefaultSelector.__name__}"
        )
    if problems:
        raise RuntimeError(
            "psycopg would block every greenlet of this gevent worker during each database "
            f"call ({'; '.join(problems)}). That happens when psycopg is imported before "
            "gevent patches the standard library (or PSYCOPG_WAIT_FUNC picks a blocking "
            "wait): keep preload_app off and import no application code at the top of "
            "gunicorn.conf.py, so that gevent patches first."
        )
