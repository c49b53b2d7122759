"""Refuse a bad configuration in one line naming the setting, with exit status 2, no traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.live import JWT_TEST_KEY, LiveServer, run_flask

pytestmark = pytest.mark.process

STRONG_KEY = JWT_TEST_KEY
KEY_ADVICE = (
    'Set it to a random value, e.g. `python -c "import secrets; print(secrets.token_hex(32))"`.'
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
