"""Check the deploy files in docs/deploy: what the README shows, and settings the app accepts."""

from __future__ import annotations

import configparser
import re
import secrets
from pathlib import Path

import pytest

from tests.live import ROOT, run_flask

DEPLOY = Path(ROOT) / "docs" / "deploy"
README = (Path(ROOT) / "README.md").read_text()


def without_comment_header(text: str) -> str:
    """Drop a file's leading comment lines, which the README does not repeat."""
    lines = text.splitlines()
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "\n".join(lines).strip()


def env_file() -> dict[str, str]:
    """Read the env template as systemd's EnvironmentFile would."""
    settings = {}
    for line in (DEPLOY / "everfresh.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            settings[name] = value
    return settings


def test_the_readme_shows_the_nginx_file() -> None:
    shown = re.search(r"```nginx\n(.*?)```", README, re.DOTALL)

    assert shown is not None
    assert shown.group(1).strip() == without_comment_header((DEPLOY / "nginx.conf").read_text())


def test_the_systemd_unit_stops_with_sigterm_restarts_and_has_the_file_limit() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(DEPLOY / "everfresh.service")
    service = unit["Service"]

    assert service["KillSignal"] == "SIGTERM"
    assert service["Restart"] == "on-failure"
    assert service["EnvironmentFile"] == "/etc/everfresh/everfresh.env"
    assert service["ExecStartPre"].endswith("flask --app wsgi init-db")
    assert service["ExecStart"].endswith("gunicorn -c gunicorn.conf.py")
    workers = int(env_file()["WEB_CONCURRENCY"])
    assert int(service["LimitNOFILE"]) >= workers * 12_000 + 1024
    # systemd must not kill workers still telling their streams goodbye.
    assert int(service["TimeoutStopSec"]) > 10


def test_every_setting_of_the_env_template_is_documented() -> None:
    first_cells = re.findall(r"^\| ([^|]+) \|", README, re.MULTILINE)
    documented = {name for cell in first_cells for name in re.findall(r"`([A-Z_]+)`", cell)}

    assert set(env_file()) <= documented


@pytest.mark.live
def test_the_env_template_is_a_production_configuration_the_app_accepts(tmp_path) -> None:
    settings = env_file()
    settings["JWT_SECRET_KEY"] = secrets.token_urlsafe(48)
    settings["DATABASE_URL"] = f"sqlite:///{tmp_path / 'everfresh.sqlite3'}"
    settings["REDIS_URL"] = ""
    settings["WEB_CONCURRENCY"] = "1"
    assert "CHANGE-ME" not in "".join(settings.values())

    result = run_flask("init-db", env={"PATH": "/usr/bin:/bin", **settings})

    assert result.returncode == 0, result.stderr
    assert "Database schema is up to date." in result.stdout
