"""Check the gunicorn settings and hooks in gunicorn.conf.py."""

from __future__ import annotations

import os
import runpy
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

CONFIG = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


@pytest.fixture
def settings(monkeypatch):
    """Load gunicorn.conf.py as gunicorn does, with the environment it reads."""

    def load(**environment: str) -> dict:
        for name in ("WEB_CONCURRENCY", "REDIS_URL", "BIND"):
            monkeypatch.delenv(name, raising=False)
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(CONFIG))

    return load


def test_the_defaults_serve_streams_with_gevent(settings):
    loaded = settings()
    assert loaded["worker_class"] == "gevent"
    assert loaded["workers"] == 1
    assert loaded["bind"] == "127.0.0.1:8000"
    assert loaded["worker_connections"] >= 10_000
    assert loaded["preload_app"] is False
    assert loaded["control_socket_disable"] is True
    assert "%(U)s" in loaded["access_log_format"] and "%(r)s" not in loaded["access_log_format"]


def test_with_redis_the_worker_count_defaults_to_the_cores(settings):
    assert settings(REDIS_URL="redis://x")["workers"] == (os.cpu_count() or 1)
    assert settings(REDIS_URL="redis://x", WEB_CONCURRENCY="3")["workers"] == 3


def test_the_config_imports_no_application_code(settings):
    import sys

    before = {name for name in sys.modules if name.startswith(("everfresh", "psycopg"))}
    settings()
    after = {name for name in sys.modules if name.startswith(("everfresh", "psycopg"))}
    assert after == before


@pytest.mark.process
def test_a_fresh_process_reading_the_config_imports_no_app_or_driver():
    # What the gunicorn master has imported, every worker inherits before gevent patches.
    script = (
        "import runpy, sys; runpy.run_path(sys.argv[1]); "
        "print(' '.join(sorted({name.split('.')[0] for name in sys.modules})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(CONFIG)],
        cwd=CONFIG.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    imported = set(result.stdout.split())
    assert "config" in imported
    assert imported & {"everfresh", "flask", "gevent", "psycopg", "redis", "sqlalchemy"} == set()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGQUIT])
def test_a_stop_signal_during_a_workers_boot_is_not_lost(settings, signum):
    post_fork = settings()["post_fork"]
    worker = SimpleNamespace(alive=True)
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)}
    try:
        post_fork(None, worker)
        os.kill(os.getpid(), signum)
        assert worker.alive is False
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


def test_a_bad_number_is_refused_naming_its_variable(settings, capsys):
    with pytest.raises(SystemExit) as exited:
        settings(WORKER_CONNECTIONS="lots")

    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        "EverFresh: WORKER_CONNECTIONS must be a whole number, got 'lots'\n"
    )


@pytest.mark.parametrize(
    ("log_format", "formatter"), [("json", "JsonFormatter"), ("text", "TextFormatter")]
)
def test_gunicorn_writes_its_own_lines_in_the_apps_format(settings, log_format, formatter):
    import log_format as formats

    config = settings(LOG_FORMAT=log_format, LOG_LEVEL="warning")["logconfig_dict"]

    assert config["formatters"]["everfresh"] == {"()": getattr(formats, formatter)}
    assert config["root"] == {"level": "WARNING", "handlers": ["stderr"]}
    assert config["loggers"]["gunicorn.error"]["handlers"] == ["stderr"]


@pytest.mark.parametrize(
    ("access_log", "handler", "level"),
    [
        ("", None, "WARNING"),
        ("-", {"stream": "ext://sys.stdout"}, "INFO"),
        ("/var/log/everfresh/access.log", {"filename": "/var/log/everfresh/access.log"}, "INFO"),
    ],
    ids=["off", "stdout", "file"],
)
def test_the_access_log_goes_where_access_log_says(settings, access_log, handler, level):
    loaded = settings(ACCESS_LOG=access_log)
    config = loaded["logconfig_dict"]

    access = config["loggers"]["gunicorn.access"]
    assert (access["level"], access["propagate"]) == (level, False)
    if handler is None:
        assert (access["handlers"], "access" in config["handlers"]) == ([], False)
    else:
        assert access["handlers"] == ["access"]
        assert handler.items() <= config["handlers"]["access"].items()
    assert loaded["access_log_format"].endswith(" %({x-request-id}o)s")
