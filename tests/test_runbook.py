"""Follow the README's production runbook from an empty server, up to a first live booking."""

from __future__ import annotations

import os
import re
import secrets
import shlex
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.dates import in_days
from tests.live import ROOT, LiveServer, run_flask

pytestmark = pytest.mark.live

README = (Path(ROOT) / "README.md").read_text()
RUNBOOK = re.search(r"<!-- runbook -->\n```sh\n(.*?)```", README, re.DOTALL)
COMPANY = "Acme Cleaning"
ADMIN_EMAIL = "admin@acme.example"
ADMIN_PASSWORD = "change-me-at-once"
# Where the README's commands find the server, and the demo login "Watch it live" uses.
README_URL = "http://127.0.0.1:8000"
DEMO_LOGIN = ("staff@everfresh.test", "everfresh-demo")


def shell_block(marker: str) -> str:
    """Return the shell commands of the README block marked `<!-- marker -->`."""
    block = re.search(rf"<!-- {marker} -->\n```sh\n(.*?)```", README, re.DOTALL)
    assert block is not None, f"the README's {marker} block is missing"
    return block.group(1)


def run_shell(script: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `script` with bash, stopping at the first failing command, as a careful operator."""
    return subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def runbook_commands() -> list[list[str]]:
    """Return the `flask` commands of the README's runbook, as argument lists."""
    assert RUNBOOK is not None, "the README's runbook block (<!-- runbook -->) is missing"
    commands = []
    for line in RUNBOOK.group(1).splitlines():
        line = line.split("  #", 1)[0].strip()
        if line.startswith(".venv/bin/flask --app wsgi "):
            commands.append(shlex.split(line))
    return commands


@pytest.fixture
def empty_database(tmp_path: Path) -> str:
    """Return the URL of a SQLite file nothing has touched yet."""
    return f"sqlite:///{tmp_path / 'production.sqlite3'}"


@pytest.fixture
def postgres_server(postgres_url: str) -> Iterator[tuple[dict[str, str], str]]:
    """Return libpq's settings for the PostgreSQL server as its superuser, and a new name.

    The README's database and role are created under that name, so that runs never meet;
    both are dropped afterwards.
    """
    server = make_url(postgres_url)
    libpq = {
        "PGHOST": server.host or "127.0.0.1",
        "PGPORT": str(server.port or 5432),
        "PGUSER": server.username or "postgres",
        "PGDATABASE": server.database or "postgres",
    }
    if server.password:
        libpq["PGPASSWORD"] = server.password
    name = f"everfresh_runbook_{uuid.uuid4().hex[:12]}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        yield libpq, name
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'DROP ROLE IF EXISTS "{name}"')


def test_the_runbook_holds_the_commands_a_new_installation_needs() -> None:
    names = [command[3] for command in runbook_commands()]

    assert names == ["init-db", "create-company", "create-user"]


def test_the_runbook_commands_take_an_empty_sqlite_file_to_a_first_live_booking(
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


def test_the_production_section_takes_an_empty_postgresql_server_to_a_first_live_booking(
    postgres_server: tuple[dict[str, str], str], live_server
) -> None:
    libpq, name = postgres_server
    # Step 2 as written, but as the superuser libpq's settings name rather than through sudo,
    # and under a name of this run's own.
    database_step = shell_block("runbook-database").replace("sudo -u postgres ", "")
    database_step = re.sub(r"\beverfresh\b", name, database_step)
    database_step = database_step.replace("127.0.0.1:5432", f"{libpq['PGHOST']}:{libpq['PGPORT']}")
    created = run_shell(database_step, libpq)
    assert created.returncode == 0, created.stderr
    [database_url] = re.findall(r"^DATABASE_URL=(\S+)$", created.stdout, re.MULTILINE)
    password = re.fullmatch(rf"postgresql\+psycopg://{name}:([\w-]{{32}})@\S+/{name}", database_url)
    assert password is not None, database_url

    # Steps 3 and 4: the settings, then the schema, the company and its admin.
    settings = {
        "EVERFRESH_ENV": "production",
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
    }
    env = LiveServer(database_url, settings).env
    for command in runbook_commands():
        result = run_flask(*command[3:], env=env)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        masked = database_url.replace(f":{password.group(1)}@", ":***@")
        assert result.stdout.startswith(f"Using the database {masked}.\n")
        assert password.group(1) not in result.stdout + result.stderr

    # Step 5, then step 6 against the server where it listens.
    server = live_server(database_url, **settings)
    first_rows = run_shell(shell_block("runbook-first-rows").replace(README_URL, server.base_url))
    assert first_rows.returncode == 0, first_rows.stderr
    admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    names = {
        collection: [
            row["name"] for row in server.request("GET", collection, token=admin).body["items"]
        ]
        for collection in ("/staff", "/services", "/customers")
    }
    assert names == {
        "/staff": ["Sam Staff"],
        "/services": ["Standard clean"],
        "/customers": ["Grace Hopper"],
    }

    # Step 7: "Watch it live" with the admin's login: terminal 2 books, terminal 1 sees it.
    terminal_2 = shell_block("watch-terminal-2").replace(README_URL, server.base_url)
    terminal_2 = terminal_2.replace(DEMO_LOGIN[0], ADMIN_EMAIL).replace(
        DEMO_LOGIN[1], ADMIN_PASSWORD
    )
    with server.stream(admin) as stream:
        assert stream.next_frame() is not None
        booked = run_shell(terminal_2)
        event = stream.next_event()

    assert booked.returncode == 0, booked.stderr
    assert '"booking_number":"BK-1001"' in booked.stdout
    assert event.event == "booking_created"
    assert event.json["booking_number"] == "BK-1001"


def test_the_login_line_of_watch_it_live_says_why_a_login_failed(live_server) -> None:
    server = live_server()
    login = shell_block("watch-terminal-1").replace(README_URL, server.base_url)
    login = login.replace(DEMO_LOGIN[1], "not-the-password")
    # Everything but the stream itself, which would never end.
    login = login.split("\ncurl -N", 1)[0] + '\necho "TOKEN=$TOKEN"'

    result = subprocess.run(
        ["bash", "-c", login], capture_output=True, text=True, timeout=60, cwd=ROOT
    )

    assert result.stderr == "Invalid email or password.\n"
    assert result.stdout == "TOKEN=\n"
