"""Check that `flask init-db` migrates a database to exactly the schema the models define."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import flask_migrate
import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from everfresh import create_app, database
from everfresh.catalog.models import Customer, Service, Staff
from everfresh.companies.models import Company
from everfresh.eventlog.models import Event
from everfresh.eventlog.partitions import partition_name
from everfresh.extensions import db
from everfresh.timestamps import utcnow

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).with_name("flask"))
HEAD = ScriptDirectory(str(database.MIGRATIONS_DIR)).get_current_head()
WAITERS_FOR_AN_ADVISORY_LOCK = """
    SELECT count(*) FROM pg_locks
    WHERE locktype = 'advisory' AND NOT granted
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


def libpq_dsn(url: str) -> str:
    """Return a SQLAlchemy PostgreSQL URL in the form psycopg itself accepts."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def new_postgres_database(server_url: str) -> Iterator[str]:
    """Create an empty, uniquely named database on the server of `server_url`; drop it after."""
    name = f"everfresh_migrations_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_dsn(server_url), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq_dsn(server_url), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_postgres_url(postgres_url: str) -> Iterator[str]:
    """Return the URL of a new PostgreSQL database with no tables."""
    # The run's shared database gets tables from other tests' create_all: make a new one.
    with new_postgres_database(postgres_url) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return the URL of a database with no tables: a new SQLite file or PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    return request.getfixturevalue("empty_postgres_url")


@pytest.fixture
def empty_app(empty_database_url: str) -> Iterator[Flask]:
    """Create the app on an empty database."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url}, environment="testing")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def init_db(app: Flask) -> str:
    """Run `flask init-db` against `app` and return its output, failing on a non-zero exit."""
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def schema_differences(app: Flask) -> list:
    """Return what alembic's autogenerate finds between the database and the models."""
    with app.app_context(), db.engine.connect() as connection:
        # As `flask db migrate` compares: the app's own options, the partition filter among them.
        options = {**app.extensions["migrate"].configure_args, "compare_type": True}
        context = MigrationContext.configure(connection, opts=options)
        return compare_metadata(context, db.metadata)


def current_revision(app: Flask) -> str | None:
    """Return the migration the database is at."""
    with app.app_context(), db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_init_db_builds_the_models_schema_and_is_idempotent(empty_app: Flask) -> None:
    """Two init-db runs on an empty database leave exactly the models' schema, at head."""
    assert init_db(empty_app) == "Database schema is up to date.\n"
    assert init_db(empty_app) == "Database schema is up to date.\n"

    assert schema_differences(empty_app) == []
    assert current_revision(empty_app) == HEAD


def test_event_ids_are_never_reused_after_pruning(empty_app: Flask) -> None:
    """A pruned event's id is not handed out again, since clients replay by id."""
    init_db(empty_app)
    with empty_app.app_context():
        company = Company(name="Prune Test")
        db.session.add(company)
        db.session.flush()
        pruned = Event.record(company.id, "booking_created", {})
        db.session.commit()
        pruned_id = pruned.id
        db.session.execute(db.delete(Event))
        db.session.commit()

        later = Event.record(company.id, "booking_created", {})
        db.session.commit()

        assert later.id > pruned_id


def test_init_db_adopts_a_schema_made_by_create_all(empty_app: Flask) -> None:
    """A database made before migrations existed is taken over, its rows intact."""
    with empty_app.app_context():
        db.create_all()
        db.session.add(Company(name="Made Before Migrations"))
        db.session.commit()

    init_db(empty_app)

    assert current_revision(empty_app) == HEAD
    assert schema_differences(empty_app) == []
    with empty_app.app_context():
        assert db.session.scalars(db.select(Company.name)).all() == ["Made Before Migrations"]


def test_init_db_refuses_a_partial_schema_without_history(tmp_path: Path) -> None:
    """Some tables but no migration history is not a schema init-db can safely upgrade."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'partial.sqlite3'}"},
        environment="testing",
    )
    with app.app_context():
        Company.__table__.create(db.engine)

    result = app.test_cli_runner().invoke(args=["init-db"])

    assert result.exit_code == 1
    assert "but not bookings, customers, events, idempotency_keys" in result.output
    with app.app_context():
        assert inspect(db.engine).get_table_names() == ["companies"]
        db.engine.dispose()


@pytest.mark.process
def test_init_db_works_from_any_directory(tmp_path: Path) -> None:
    """The real command finds the migrations when run outside the project directory."""
    database_url = f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"
    env = {
        **os.environ,
        "EVERFRESH_ENV": "development",
        "DATABASE_URL": database_url,
        # Given, so that the command writes no key into instance/.
        "JWT_SECRET_KEY": "migration-test-key-0123456789abcdef-0123456789",
    }
    for _ in range(2):
        result = subprocess.run(
            [FLASK, "--app", str(ROOT / "wsgi.py"), "init-db"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == "Database schema is up to date.\n"

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url}, environment="testing")
    assert current_revision(app) == HEAD
    with app.app_context():
        db.engine.dispose()


def test_concurrent_init_db_waits_for_the_migration_lock(empty_postgres_url: str) -> None:
    """While another instance holds the migration lock, init-db waits rather than races."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_postgres_url}, environment="testing")
    errors: list[BaseException] = []

    def upgrade() -> None:
        with app.app_context():
            try:
                database.upgrade_schema()
            except BaseException as error:  # SystemExit too: flask_migrate exits on failure.
                errors.append(error)

    with psycopg.connect(libpq_dsn(empty_postgres_url), autocommit=True) as other_instance:
        other_instance.execute("SELECT pg_advisory_lock(%s)", (database.MIGRATION_LOCK_KEY,))
        upgrader = threading.Thread(target=upgrade, daemon=True)
        upgrader.start()
        deadline = time.monotonic() + 10
        while not other_instance.execute(WAITERS_FOR_AN_ADVISORY_LOCK).fetchone()[0]:
            assert time.monotonic() < deadline, "init-db never asked for the lock"
            time.sleep(0.02)
        assert upgrader.is_alive()
        assert current_revision(app) is None

        other_instance.execute("SELECT pg_advisory_unlock(%s)", (database.MIGRATION_LOCK_KEY,))
        upgrader.join(timeout=30)

    assert not upgrader.is_alive()
    assert errors == []
    assert current_revision(app) == HEAD
    with app.app_context():
        db.engine.dispose()


def test_companies_from_before_time_zones_work_in_utc(empty_app: Flask) -> None:
    """Upgrading a database whose companies have no time zone yet puts them in UTC."""
    with empty_app.app_context():
        flask_migrate.upgrade(revision="7542d4a2519f")
        db.session.execute(
            text(
                "INSERT INTO companies (id, name, last_booking_number, last_event_sequence, "
                "created_at) VALUES ('comp_old', 'Old Co', 1000, 0, CURRENT_TIMESTAMP)"
            )
        )
        db.session.commit()

    init_db(empty_app)

    assert current_revision(empty_app) == HEAD
    assert schema_differences(empty_app) == []
    with empty_app.app_context():
        assert db.session.get(Company, "comp_old").timezone == "UTC"
        # The session's open read would hold off the downgrade's ALTER TABLE on PostgreSQL.
        db.session.remove()
        flask_migrate.downgrade(revision="7542d4a2519f")
        columns = {column["name"] for column in inspect(db.engine).get_columns("companies")}
        assert "timezone" not in columns


def _add_old_company(name: str) -> str:
    """Add a company as an earlier schema holds it, whatever columns came later; return its id."""
    # Not through the model: it has the columns of the newest revision.
    company_id = f"comp_{uuid.uuid4().hex[:26]}"
    db.session.execute(
        text(
            "INSERT INTO companies (id, name, last_booking_number, last_event_sequence, "
            "created_at) VALUES (:id, :name, 1000, 0, CURRENT_TIMESTAMP)"
        ),
        {"id": company_id, "name": name},
    )
    db.session.commit()
    return company_id


def _log_old_style_event(company_id: str, sequence: int) -> None:
    # As events were written before ids came from the counter: the column's own default.
    db.session.execute(
        text(
            "INSERT INTO events (company_id, sequence, type, payload, created_at) "
            "VALUES (:company_id, :sequence, 'booking_created', '{}', :now)"
        ),
        {"company_id": company_id, "sequence": sequence, "now": datetime.now(UTC)},
    )


def test_commit_ordered_ids_continue_after_every_id_handed_out(empty_app: Flask) -> None:
    """Upgrading starts the counter after the old ids, pruned ones too; downgrading keeps going."""
    before = (
        ScriptDirectory(str(database.MIGRATIONS_DIR))
        .get_revision("b2_commit_ordered_events")
        .down_revision
    )
    with empty_app.app_context():
        flask_migrate.upgrade(revision=before)
        company_id = _add_old_company("Counted")
        for sequence in (1, 2, 3):
            _log_old_style_event(company_id, sequence)
        # Pruned: its id must still never come back.
        db.session.execute(text("DELETE FROM events WHERE sequence = 3"))
        db.session.commit()
        # SQLite has one pooled connection, and the migration needs it.
        db.session.remove()

        flask_migrate.upgrade()
        event = Event.record(company_id, "booking_created", {})
        db.session.commit()
        assert event.id == 4
        db.session.remove()

        flask_migrate.downgrade(revision=before)
        _log_old_style_event(company_id, 5)
        db.session.commit()
        assert db.session.scalar(text("SELECT max(id) FROM events")) == 5
        db.session.remove()


def test_the_event_log_is_partitioned_by_day_with_its_rows_and_ids(empty_app: Flask) -> None:
    """Upgrading moves every event, id and all, into its day's partition; downgrading back."""
    before = "b3_sessions_valid_after"
    with empty_app.app_context():
        flask_migrate.upgrade(revision=before)
        company_id = _add_old_company("Partitioned")
        for sequence in (1, 2):
            Event.record(company_id, "booking_created", {"n": sequence})
            db.session.commit()
        # One event from the day before, which gets a partition of its own.
        db.session.execute(
            text("UPDATE events SET created_at = created_at - interval '1 day' WHERE id = 1")
            if db.engine.dialect.name == "postgresql"
            else text("UPDATE events SET created_at = datetime(created_at, '-1 day') WHERE id = 1")
        )
        db.session.commit()
        db.session.remove()

        flask_migrate.upgrade()
        assert schema_differences(empty_app) == []
        assert db.session.scalars(db.select(Event.id).order_by(Event.id)).all() == [1, 2]
        if db.engine.dialect.name == "postgresql":
            days = db.session.scalars(
                text("SELECT tableoid::regclass::text FROM events ORDER BY id")
            ).all()
            assert days == [
                partition_name(utcnow().date() - timedelta(days=1)),
                partition_name(utcnow().date()),
            ]
        later = Event.record(company_id, "booking_created", {"n": 3})
        db.session.commit()
        assert later.id == 3
        db.session.remove()

        flask_migrate.downgrade(revision=before)
        assert current_revision(empty_app) == before
        assert db.session.scalar(text("SELECT count(*) FROM events")) == 3
        db.session.remove()
        assert not [
            name for name in inspect(db.engine).get_table_names() if name.startswith("events_")
        ]


def test_init_db_makes_the_coming_days_partitions(empty_postgres_url: str) -> None:
    """Each init-db run makes any missing partition of today and the days ahead."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_postgres_url}, environment="testing")
    init_db(app)
    tomorrow = partition_name(utcnow().date() + timedelta(days=1))
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {tomorrow}"))

    init_db(app)

    with app.app_context():
        assert tomorrow in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_catalogue_rows_from_before_addresses_stay_active_and_companies_price_in_gbp(
    empty_app: Flask,
) -> None:
    """Upgrading keeps every customer, service and staff member active, each company in GBP."""
    before = "b4_partitioned_event_log"
    with empty_app.app_context():
        flask_migrate.upgrade(revision=before)
        company_id = _add_old_company("Priced Before Currencies")
        for statement in (
            "INSERT INTO customers (id, company_id, name, created_at) "
            "VALUES ('cust_old', :company_id, 'Old Customer', CURRENT_TIMESTAMP)",
            "INSERT INTO services (id, company_id, name, duration_minutes, price_cents, created_at)"
            " VALUES ('serv_old', :company_id, 'Old Service', 60, 5000, CURRENT_TIMESTAMP)",
            "INSERT INTO staff (id, company_id, name, created_at) "
            "VALUES ('staff_old', :company_id, 'Old Cleaner', CURRENT_TIMESTAMP)",
        ):
            db.session.execute(text(statement), {"company_id": company_id})
        db.session.commit()
        db.session.remove()

        flask_migrate.upgrade()
        assert current_revision(empty_app) == HEAD
        assert schema_differences(empty_app) == []
        assert db.session.get(Company, company_id).currency == "GBP"
        customer = db.session.get(Customer, "cust_old")
        assert (customer.name, customer.active) == ("Old Customer", True)
        assert [
            customer.address_line1,
            customer.address_line2,
            customer.city,
            customer.postcode,
            customer.access_notes,
        ] == [None] * 5
        assert db.session.get(Service, "serv_old").active is True
        assert db.session.get(Staff, "staff_old").active is True
        db.session.remove()

        flask_migrate.downgrade(revision=before)
        assert current_revision(empty_app) == before
        columns = {
            table: {column["name"] for column in inspect(db.engine).get_columns(table)}
            for table in ("companies", "customers", "services", "staff")
        }
        assert "currency" not in columns["companies"]
        assert not {"address_line1", "city", "postcode", "access_notes", "active"} & (
            columns["customers"] | columns["services"] | columns["staff"]
        )
        assert db.session.scalar(text("SELECT name FROM customers")) == "Old Customer"
        db.session.remove()
