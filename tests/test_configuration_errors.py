"""Refuse a bad configuration in one line naming the setting, with exit status 2, no traceback."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.live import JWT_TEST_KEY, LiveServer, PrivatePostgres, free_port, run_flask

pytestmark = pytest.mark.process

STRONG_KEY = JWT_TEST_KEY
KEY_ADVICE = (
    'Set it to a random value, e.g. `python -c "import secrets; print(secrets.token_hex(32))"`.'
)
DATABASE_URL_FORMS = (
    "DATABASE_URL must be postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE or "
    "sqlite:////ABSOLUTE/PATH, got"
)

# (environment, the setting the refusal must name, the refusal's message)
BAD_CONFIGURATIONS = [
    (
        {"SSE_HEARTBEAT_SECONDS": "x"},
        "SSE_HEARTBEAT_SECONDS",
        "SSE_HEARTBEAT_SECONDS must be a whole number, got 'x'",
    ),
    (
        {"EVERFRESH_ENV": "staging"},
        "EVERFRESH_ENV",
        "EVERFRESH_ENV must be one of ['development', 'production', 'testing'], got 'staging'",
    ),
    (
        {"EVERFRESH_ENV": "production", "JWT_SECRET_KEY": "x" * 31},
        "JWT_SECRET_KEY",
        f"JWT_SECRET_KEY is shorter than the 32 bytes a signing key needs. {KEY_ADVICE}",
    ),
    (
        {"EVERFRESH_ENV": "production", "JWT_SECRET_KEY": "ab" * 32},
        "JWT_SECRET_KEY",
        "JWT_SECRET_KEY is too easy to guess: about 10^2 guesses, under the 10^38 a signing "
        'key needs (Repeats like "abcabcabc" are only slightly harder to guess than "abc"). '
        f"{KEY_ADVICE}",
    ),
    (
        {"LOG_FORMAT": "xml"},
        "LOG_FORMAT",
        "LOG_FORMAT must be one of text, json, got 'xml'",
    ),
    (
        {"LOG_LEVEL": "loud"},
        "LOG_LEVEL",
        "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'loud'",
    ),
    (
        {"LOGIN_RATE_LIMIT_PER_ACCOUNT": "lots"},
        "LOGIN_RATE_LIMIT_PER_ACCOUNT",
        'LOGIN_RATE_LIMIT_PER_ACCOUNT must be a rate such as "5/minute" or "100/hour", '
        "got 'lots'",
    ),
    (
        {
            "EVERFRESH_ENV": "production",
            "JWT_SECRET_KEY": STRONG_KEY,
            "SSE_QUERY_TOKEN": "true",
            "LOG_QUERY_STRINGS": "true",
        },
        "SSE_QUERY_TOKEN",
        "SSE_QUERY_TOKEN=true puts access tokens in URLs and LOG_QUERY_STRINGS=true says a log "
        "keeps query strings, so tokens would be written to logs. Keep query strings out of "
        "every log (gunicorn's and nginx's) and set LOG_QUERY_STRINGS=false, or set "
        "SSE_QUERY_TOKEN=false.",
    ),
    (
        {"DATABASE_URL": "postgres://everfresh:s3cret@127.0.0.1:5432/everfresh"},
        "DATABASE_URL",
        f"{DATABASE_URL_FORMS} 'postgres://everfresh:***@127.0.0.1:5432/everfresh' "
        "(SQLAlchemy knows no postgres://, write postgresql+psycopg://)",
    ),
    (
        {"DATABASE_URL": "everfresh:s3cret@127.0.0.1/everfresh"},
        "DATABASE_URL",
        f"{DATABASE_URL_FORMS} 'everfresh:***@127.0.0.1/everfresh' (no scheme)",
    ),
    (
        {"DATABASE_URL": "mysql+pymysql://everfresh:s3cret@127.0.0.1/everfresh"},
        "DATABASE_URL",
        f"{DATABASE_URL_FORMS} 'mysql+pymysql://everfresh:***@127.0.0.1/everfresh' "
        "(no driver for mysql+pymysql:// here)",
    ),
    (
        {"DATABASE_URL": "postgresql+psycopg://everfresh@127.0.0.1:port/everfresh"},
        "DATABASE_URL",
        f"{DATABASE_URL_FORMS} 'postgresql+psycopg://everfresh@127.0.0.1:port/everfresh' "
        "(a port that is not a number from 0 to 65535)",
    ),
    (
        {"EVERFRESH_ENV": "production", "JWT_SECRET_KEY": STRONG_KEY, "DATABASE_URL": ""},
        "DATABASE_URL",
        "DATABASE_URL is not set, and production does not fall back to the development SQLite "
        "file: set it (e.g. postgresql+psycopg://everfresh:PASSWORD@127.0.0.1:5432/everfresh), "
        "or load the env file first: set -a; . /etc/everfresh/everfresh.env; set +a",
    ),
]
IDS = [
    "bad-type",
    "unknown-environment",
    "short-key",
    "weak-key",
    "bad-log-format",
    "bad-log-level",
    "bad-rate-limit",
    "query-token-with-logged-query-strings",
    "database-url-postgres-scheme",
    "database-url-without-scheme",
    "database-url-unknown-driver",
    "database-url-bad-port",
    "production-without-database-url",
]


def flask_command(tmp_path: Path, settings: dict[str, str], *arguments: str):
    """Run `flask --app wsgi <arguments>` with `settings` over a development environment."""
    environment = {
        **os.environ,
        "EVERFRESH_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'commands.sqlite3'}",
        "JWT_SECRET_KEY": JWT_TEST_KEY,
        "REDIS_URL": "",
        **settings,
    }
    return run_flask(*arguments, env=environment)


@pytest.mark.parametrize(("settings", "name", "message"), BAD_CONFIGURATIONS, ids=IDS)
def test_a_flask_command_refuses_in_one_line(tmp_path, settings, name, message):
    result = flask_command(tmp_path, settings, "init-db")

    assert (result.returncode, result.stderr, result.stdout) == (2, f"EverFresh: {message}\n", "")
    assert name in message


def test_flask_help_refuses_alike(tmp_path):
    result = flask_command(tmp_path, {"SSE_HEARTBEAT_SECONDS": "x"}, "--help")

    assert result.returncode == 2
    assert result.stderr == "EverFresh: SSE_HEARTBEAT_SECONDS must be a whole number, got 'x'\n"


def refused_server(tmp_path: Path, settings: dict[str, str]) -> tuple[int, str]:
    """Start gunicorn with `settings`, expect it to stop by itself; return its status and output."""
    server = LiveServer(f"sqlite:///{tmp_path / 'live.sqlite3'}", settings)
    try:
        with pytest.raises(RuntimeError, match="gunicorn exited with"):
            server.start(timeout=60)
        return server.process.returncode, server.log()
    finally:
        server.stop()


@pytest.mark.live
@pytest.mark.parametrize(("settings", "name", "message"), BAD_CONFIGURATIONS, ids=IDS)
def test_gunicorn_refuses_in_one_line(tmp_path, settings, name, message):
    status, output = refused_server(tmp_path, settings)

    assert status == 2
    assert "Traceback" not in output
    naming = [line for line in output.splitlines() if name in line]
    assert len(naming) == 1, output
    assert naming[0].endswith(f"EverFresh: {message}")


@pytest.mark.live
def test_every_refusing_worker_is_reported_once(tmp_path):
    # Workers boot side by side; the master must not boot them again and again, nor repeat them.
    settings = {
        "WEB_CONCURRENCY": "3",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "EVERFRESH_ENV": "production",
        "JWT_SECRET_KEY": "short",
    }
    status, output = refused_server(tmp_path, settings)

    assert status == 2
    assert "Traceback" not in output
    assert len([line for line in output.splitlines() if "JWT_SECRET_KEY" in line]) == 1, output
    assert output.count("Booting worker") <= 3, output


@pytest.mark.live
def test_several_workers_without_redis_are_refused_in_one_line(tmp_path):
    status, output = refused_server(tmp_path, {"WEB_CONCURRENCY": "2", "REDIS_URL": ""})

    assert status == 2
    assert "Traceback" not in output
    # gunicorn has announced itself; the refusal comes before any worker boots.
    assert output.splitlines()[-1] == (
        "EverFresh: refusing to start 2 workers without REDIS_URL. The in-process broker only "
        "reaches streams in its own worker, so bookings would be lost across workers. Set "
        "REDIS_URL, or run one worker (WEB_CONCURRENCY=1)."
    )


# --- A database that cannot be used -------------------------------------------------------------

# Every command an operator runs against the database, and gunicorn's boot.
DATABASE_COMMANDS = [
    ("init-db",),
    ("create-company", "Acme Cleaning"),
    ("create-user", "--email", "a@acme.example", "--name", "A", "--role", "superadmin"),
    ("remove-demo",),
    ("prune",),
    ("db", "current"),
]


@pytest.fixture
def password_postgres() -> Iterator[PrivatePostgres]:
    """Run a PostgreSQL server of the test's own that checks passwords over TCP."""
    bin_dirs = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bin_dirs:
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    server = PrivatePostgres(bin_dirs[-1].parent, password="the-right-password")
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture(params=["missing-database", "refused-connection", "wrong-password"])
def unusable_database(request: pytest.FixtureRequest) -> tuple[str, str]:
    """Return a DATABASE_URL that cannot be used, and the one line that must say so."""
    if request.param == "missing-database":
        server = make_url(request.getfixturevalue("postgres_url"))
        name = f"everfresh_missing_{uuid.uuid4().hex[:12]}"
        url = server.set(database=name, password="s3cret").render_as_string(hide_password=False)
        masked = url.replace("s3cret", "***")
        user = server.username
        return url, (
            f"EverFresh: DATABASE_URL ({masked}) names a database that does not exist: create it "
            f"(`createdb --owner={user} {name}` as the postgres user, see the README's "
            "Production section), or correct the name."
        )
    if request.param == "refused-connection":
        port = free_port()
        url = f"postgresql+psycopg://everfresh:s3cret@127.0.0.1:{port}/everfresh"
        return url, (
            f"EverFresh: DATABASE_URL (postgresql+psycopg://everfresh:***@127.0.0.1:{port}/"
            f"everfresh): cannot connect to PostgreSQL at 127.0.0.1:{port} (Connection refused): "
            "start the server, or correct the host and port in DATABASE_URL."
        )
    server = request.getfixturevalue("password_postgres")
    url = server.url.replace("the-right-password", "s3cret")
    masked = url.replace("s3cret", "***")
    return url, (
        f"EverFresh: DATABASE_URL ({masked}): PostgreSQL refused the password of role postgres: "
        "correct the password in DATABASE_URL, or set the role's "
        "(`ALTER ROLE postgres PASSWORD '...'`)."
    )


@pytest.mark.parametrize("command", DATABASE_COMMANDS, ids=[c[0] for c in DATABASE_COMMANDS])
def test_a_flask_command_says_in_one_line_why_it_cannot_use_the_database(
    tmp_path, unusable_database, command
):
    url, line = unusable_database

    password = ("--password", "a-long-enough-password") if command[0] == "create-user" else ()

    result = flask_command(tmp_path, {"DATABASE_URL": url}, *command, *password)

    assert result.returncode == 2, result.stderr
    assert result.stderr == f"{line}\n"
    assert "s3cret" not in result.stdout + result.stderr


def test_a_command_on_a_database_without_schema_says_to_run_init_db(tmp_path):
    database = f"sqlite:///{tmp_path / 'empty.sqlite3'}"

    result = flask_command(tmp_path, {"DATABASE_URL": database}, "create-company", "Acme")

    assert result.returncode == 2
    assert result.stderr == (
        f"EverFresh: The database of DATABASE_URL ({database}) has no EverFresh schema yet: "
        "run `flask --app wsgi init-db` first.\n"
    )


@pytest.mark.live
def test_gunicorn_says_in_one_line_why_it_cannot_use_the_database(tmp_path, unusable_database):
    url, line = unusable_database

    status, output = refused_server(tmp_path, {"DATABASE_URL": url})

    assert status == 2
    assert "Traceback" not in output
    naming = [entry for entry in output.splitlines() if "DATABASE_URL" in entry]
    assert len(naming) == 1, output
    assert naming[0].endswith(line)
    assert "s3cret" not in output


# --- A taken address ----------------------------------------------------------------------------


@pytest.mark.live
def test_gunicorn_refuses_a_taken_address_in_one_line_naming_bind(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]

        status, output = refused_server(tmp_path, {"BIND": f"127.0.0.1:{port}"})

    assert status == 2
    assert "Traceback" not in output
    assert "Can't connect" not in output and "Connection in use" not in output
    assert output.splitlines()[-1] == (
        f"EverFresh: BIND=127.0.0.1:{port}: cannot listen on 127.0.0.1:{port}, another process "
        f"listens there (`ss -ltnp 'sport = :{port}'` names it). Stop it, or set BIND to a free "
        "address."
    )
