"""Run schemathesis, every check and the stateful phase, against a live server's own document.

A real gunicorn with the demo data answers requests generated from /openapi.json, valid and
invalid, as an admin of the demo company would send them: every answer must be one the
document declares, every request the document allows must be taken and every one it
forbids refused. The CLI runs as a subprocess, bounded in examples and time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.live import ROOT

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
# The stream never ends, so a generated call would never return (tests/test_sse_*.py cover
# it); logging out would revoke the token the whole run uses.
EXCLUDED = ("/sse/events", "/auth/logout")
RUN_SECONDS = 60


def test_schemathesis_finds_no_failure(live_server, tmp_path):
    server = live_server()
    token = server.login("admin@everfresh.test")
    command = [
        SCHEMATHESIS,
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
        str(RUN_SECONDS),
        "--seed",
        "20261201",
        "--workers",
        "1",
        "--no-color",
        "--generation-database",
        "none",
        "--report-dir",
        str(tmp_path),
    ]
    for path in EXCLUDED:
        command += ["--exclude-path", path]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=RUN_SECONDS * 4)

    assert run.returncode == 0, run.stdout + run.stderr
