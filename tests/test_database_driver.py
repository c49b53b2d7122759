"""Prove psycopg only cooperates with gevent when gevent patches first, and that the check knows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The check only reads the URL, so these cases need no server behind it.
UNREACHABLE_POSTGRES_URL = "postgresql+psycopg://nobody@127.0.0.1:9/never_connected"
SQLITE_URL = "sqlite:///:memory:"

# Imports psycopg and patches with gevent in the order named by argv[1], as a gunicorn
# worker would without and with preload_app, then creates the app and runs the check.
PRELUDE = """
import json, sys, time
order, database_url = sys.argv[1], sys.argv[2]
if order == "gevent-first":
    from gevent import monkey
    monkey.patch_all()
import psycopg
if order == "psycopg-first":
    from gevent import monkey
    monkey.patch_all()
from everfresh import create_app
from everfresh.database import check_driver_cooperates_with_gevent
app = create_app({"SQLALCHEMY_DATABASE_URI": database_url}, environment="testing")
try:
    check_driver_cooperates_with_gevent(app)
    check_error = None
except RuntimeError as error:
    check_error = str(error)
"""

REPORT_CHECK = """
print(json.dumps({"check_error": check_error}))
"""

# One greenlet sleeps in PostgreSQL for a second while another ticks every 50 ms.
REPORT_SLEEP = """
import gevent
from sqlalchemy import text
from everfresh.extensions import db

ticks = []

def tick():
    while True:
        ticks.append(time.monotonic())
        gevent.sleep(0.05)

def sleep_in_database():
    with app.app_context():
        started = time.monotonic()
        db.session.execute(text("SELECT pg_sleep(1)"))
        db.session.remove()
        return started, time.monotonic()

ticker = gevent.spawn(tick)
gevent.sleep(0)
started, finished = gevent.spawn(sleep_in_database).get(timeout=20)
ticker.kill()
print(json.dumps({
    "check_error": check_error,
    "ticks": sum(started <= moment <= finished for moment in ticks),
    "seconds": finished - started,
}))
"""


def run_probe(report: str, order: str, database_url: str) -> dict[str, Any]:
    """Run the prelude then `report` in a fresh venv interpreter; return the JSON it prints."""
    env = dict(os.environ)
    # The choice under test is psycopg's own; an override would bypass it.
    env.pop("PSYCOPG_WAIT_FUNC", None)
    result = subprocess.run(
        [sys.executable, "-c", PRELUDE + report, order, database_url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.process
@pytest.mark.parametrize(
    ("order", "database_url", "raises"),
    [
        pytest.param("gevent-first", UNREACHABLE_POSTGRES_URL, False, id="gevent-first"),
        pytest.param("psycopg-first", UNREACHABLE_POSTGRES_URL, True, id="psycopg-first"),
        # SQLite never yields under gevent anyway; the check is about psycopg only.
        pytest.param("psycopg-first", SQLITE_URL, False, id="psycopg-first-sqlite"),
        # Not patched by gevent at all: ordinary blocking is what the process expects.
        pytest.param("no-gevent", UNREACHABLE_POSTGRES_URL, False, id="no-gevent"),
    ],
)
def test_check_flags_psycopg_imported_before_gevent_patched(
    order: str, database_url: str, raises: bool
) -> None:
    """The check raises exactly when psycopg chose its wait functions before the patch."""
    check_error = run_probe(REPORT_CHECK, order, database_url)["check_error"]

    if not raises:
        assert check_error is None
        return
    assert check_error is not None
    assert "queries wait in wait_c, which blocks the hub" in check_error
    assert "connections wait on EpollSelector instead of GeventSelector" in check_error
    assert "gunicorn.conf.py" in check_error


@pytest.mark.process
@pytest.mark.parametrize(
    ("order", "cooperates"), [("gevent-first", True), ("psycopg-first", False)]
)
def test_query_lets_other_greenlets_run_only_when_the_check_passes(
    postgres_url: str, order: str, cooperates: bool
) -> None:
    """A one-second query leaves the hub free (or freezes it) just as the check predicts."""
    outcome = run_probe(REPORT_SLEEP, order, postgres_url)

    assert outcome["seconds"] >= 0.95
    if cooperates:
        assert outcome["check_error"] is None
        assert outcome["ticks"] >= 10, outcome
    else:
        # The control: without it, a ticker that always ticks would prove nothing.
        assert outcome["check_error"] is not None
        assert outcome["ticks"] <= 2, outcome
