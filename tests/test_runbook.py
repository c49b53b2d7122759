"""Follow the README's production runbook on an empty database, up to a first live booking."""

from __future__ import annotations

import re
import secrets
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dates import in_days
from tests.live import ROOT, LiveServer, run_flask
from tests.test_migrations import new_postgres_database

pytestmark = pytest.mark.live

README = (Path(ROOT) / "README.md").read_text()
RUNBOOK = re.search(r"<!-- runbook -->\n```sh\n(.*?)```", README, re.DOTALL)
COMPANY = "Acme Cleaning"
ADMIN_EMAIL = "admin@acme.example"
ADMIN_PASSWORD = "change-me-at-once"


def runbook_commands() -> list[list[str]]:
    """Return the `flask` commands of the README's runbook, as argument lists."""
    assert RUNBOOK is not None, "the README's runbook block (<!-- runbook -->) is missing"
    commands = []
    for line in RUNBOOK.group(1).splitlines():
        line = line.split("  #", 1)[0].strip()
        if line.startswith(".venv/bin/flask --app wsgi "):
            commands.append(shlex.split(line))
    return commands


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Return the URL of a database nothing has touched yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'production.sqlite3'}"
        return
    with new_postgres_database(request.getfixturevalue("postgres_url")) as url:
        yield url


def test_the_runbook_holds_the_commands_a_new_installation_needs() -> None:
    names = [command[3] for command in runbook_commands()]

    assert names == ["init-db", "create-company", "create-user"]


def test_the_runbook_takes_an_empty_database_to_a_first_live_booking(
    empty_database: str, live_server
) -> None:
    settings = {
        "EVERFRESH_ENV": "production",
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": empty_database,
    }
    server = LiveServer(empty_database, settings)
    for command in runbook_commands():
        result = run_flask(*command[3:], env=server.env)
        assert result.returncode == 0, (command, result.stdout, result.stderr)

    server = live_server(empty_database, **settings)
    assert server.request("GET", "/readyz").status == 200
    admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    me = server.request("GET", "/auth/me", token=admin).body
    assert me["role"] == "admin"
    company = server.request("GET", f"/companies/{me['company_id']}", token=admin).body
    assert (company["name"], company["timezone"]) == (COMPANY, "Europe/London")
    service = server.request(
        "POST",
        "/services",
        {"name": "Deep clean", "duration_minutes": 180, "price_cents": 14500},
        token=admin,
    ).body
    customer = server.request(
        "POST", "/customers", {"name": "Grace Hopper", "phone": "+44 20 7946 0000"}, token=admin
    ).body

    with server.stream(admin) as stream:
        assert stream.next_frame() is not None
        booking = server.create_booking(
            admin,
            customer_id=customer["id"],
            service_id=service["id"],
            scheduled_date=in_days(1),
            scheduled_time_start="09:00",
        )
        event = stream.next_event()

    assert booking["booking_number"] == "BK-1001"
    assert event.event == "booking_created"
    assert event.json["booking_id"] == booking["booking_id"]


def test_create_company_refuses_a_zone_and_a_name_in_use(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'companies.sqlite3'}"
    env = LiveServer(database, {"JWT_SECRET_KEY": secrets.token_urlsafe(48)}).env

    def flask(*arguments: str) -> subprocess.CompletedProcess[str]:
        return run_flask(*arguments, env=env)

    assert flask("init-db").returncode == 0
    created = flask("create-company", COMPANY, "--timezone", "Europe/London")
    unknown_zone = flask("create-company", "Other", "--timezone", "Mars/Olympus_Mons")
    taken = flask("create-company", COMPANY)

    assert created.returncode == 0
    assert re.fullmatch(
        rf"Using the database {re.escape(database)}\.\n"
        rf"Created company {COMPANY} \(comp_[0-9A-Z]{{26}}\) in Europe/London\.\n",
        created.stdout,
    )
    assert unknown_zone.returncode == 2
    assert "Unknown time zone" in unknown_zone.stderr
    assert taken.returncode == 1
    assert f"A company named '{COMPANY}' already exists." in taken.stderr
