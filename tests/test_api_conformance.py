"""Run schemathesis, every check and the stateful phase, against a live server's own document.

A real gunicorn with the demo data answers requests generated from /openapi.json, valid and
invalid: every answer must be one the document declares (status, headers, body), every
request the document allows must be taken and every one it forbids refused. The CLI runs as
a subprocess, bounded in examples and time, once as a company admin and once as the
superadmin (who alone reaches the companies).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import ROOT, LiveServer

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
CONFIG = ROOT / "tests" / "schemathesis.toml"
# The stream never ends, so a generated call would never return (tests/test_sse_*.py cover
# it); logging out would revoke the token the whole run uses.
EXCLUDED = ("/sse/events", "/auth/logout")
# Generous login limits, so that login requests reach the credential check instead of 429.
SETTINGS = {
    "LOGIN_RATE_LIMIT_PER_IP": "100000/minute",
    "LOGIN_RATE_LIMIT_PER_ACCOUNT_AND_IP": "100000/minute",
    "LOGIN_RATE_LIMIT_PER_ACCOUNT": "100000/minute",
}
# Each run keeps generating until its time is spent, so these bound the test's duration.
CALLERS = [
    pytest.param("admin@everfresh.test", 45, id="admin"),
    pytest.param("superadmin@everfresh.test", 25, id="superadmin"),
]


def schemathesis_run(server: LiveServer, token: str, seconds: int, report_dir: Path) -> list[str]:
    """Return the command that runs every check and phase against `server` for `seconds`."""
    command = [
        SCHEMATHESIS,
        "--config-file",
        str(CONFIG),
        "run",
        f"{server.base_url}/openapi.json",
        "--checks",
        "all",
        "--phases",
        "coverage,fuzzing,stateful",
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        "10",
        "--max-time",
        str(seconds),
        "--request-timeout",
        "10",
        "--seed",
        "20261201",
        # One thread: CPython 3.11 before 3.11.8 can fail `ast.parse` run by two threads at
        # once ("AST constructor recursion depth mismatch", python/cpython#106905), and
        # hypothesis parses the source of schemathesis's filters as it draws.
        "--workers",
        "1",
        "--no-color",
        "--generation-database",
        "none",
        "--report-dir",
        str(report_dir),
    ]
    for path in EXCLUDED:
        command += ["--exclude-path", path]
    return command


@pytest.mark.parametrize(("email", "seconds"), CALLERS)
def test_schemathesis_finds_no_failure(live_server, tmp_path, email: str, seconds: int):
    server = live_server(**SETTINGS)
    command = schemathesis_run(server, server.login(email), seconds, tmp_path)

    # Run in tmp_path: the CLI keeps a cache of crashes in its working directory.
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=seconds * 4)

    assert run.returncode == 0, run.stdout + run.stderr
