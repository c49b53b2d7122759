"""Test the operator commands: init-db, seed-demo, remove-demo, create-user and prune."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect

from everfresh import create_app
from everfresh.auth.models import User
from everfresh.bookings.models import Booking, IdempotencyKey
from everfresh.catalog.models import Customer, Service, Staff
from everfresh.companies.models import Company
from everfresh.eventlog.models import Event
from everfresh.extensions import db
from tests.dates import in_days

DEMO_PASSWORD = "everfresh-demo"
SCHEMA_TABLES = {
    "bookings",
    "companies",
    "customers",
    "events",
    "idempotency_keys",
    "services",
    "staff",
    "users",
}
# The bare demo every test starts from (tests/live.py: `seed_demo_logins`).
BARE_DEMO_COUNTS = {
    "companies": 2,
    "users": 6,
    "customers": 2,
    "services": 3,
    "staff": 2,
    "bookings": 0,
    "events": 0,
}
# What `flask seed-demo` makes: 8 and 6 staff members, 30 customers and 5 services each, and
# 40 bookings each; their events depend on the time of day (tests/test_demo.py counts them).
DEMO_COUNTS = {
    "companies": 2,
    "users": 6,
    "customers": 60,
    "services": 10,
    "staff": 14,
    "bookings": 80,
}
MODELS = {
    "companies": Company,
    "users": User,
    "customers": Customer,
    "services": Service,
    "staff": Staff,
    "bookings": Booking,
    "events": Event,
}
# (email, role, company name) of every demo login in DESIGN §7.
DEMO_LOGINS = [
    ("admin@everfresh.test", "admin", "EverFresh Demo"),
    ("staff@everfresh.test", "staff", "EverFresh Demo"),
    ("customer@everfresh.test", "customer", "EverFresh Demo"),
    ("admin@brighthome.test", "admin", "BrightHome Demo"),
    ("staff@brighthome.test", "staff", "BrightHome Demo"),
    ("superadmin@everfresh.test", "superadmin", None),
]


@pytest.fixture
def counts(app: Flask) -> Callable[[], dict[str, int]]:
    """Return a function counting the rows of every table the demo data touches."""

    def count() -> dict[str, int]:
        with app.app_context():
            return {
                name: db.session.scalar(db.select(db.func.count()).select_from(model))
                for name, model in MODELS.items()
            }

    return count


@pytest.fixture
def empty_database(app: Flask) -> Flask:
    """Delete every row, demo data included, leaving the schema."""
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
    return app


@pytest.fixture
def fresh_app(tmp_path) -> Iterator[Flask]:
    """Create an app on a SQLite file that does not exist yet: no schema at all."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"},
        environment="testing",
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def login(client: FlaskClient, email: str, password: str = DEMO_PASSWORD) -> dict:
    """Log in and return the user, failing the test unless the login succeeds."""
    response = client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, (email, response.get_json())
    return response.get_json()["user"]


# --- init-db --------------------------------------------------------------------------------


def test_init_db_creates_the_schema_and_is_idempotent(fresh_app):
    runner = fresh_app.test_cli_runner()

    first = runner.invoke(args=["init-db"])
    with fresh_app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        db.session.add(Company(name="Survivor"))
        db.session.commit()
    second = runner.invoke(args=["init-db"])

    assert (first.exit_code, first.output) == (0, "Database schema is up to date.\n")
    assert (second.exit_code, second.output) == (0, "Database schema is up to date.\n")
    assert SCHEMA_TABLES <= tables
    with fresh_app.app_context():
        assert db.session.scalars(db.select(Company.name)).all() == ["Survivor"]


def test_init_db_keeps_existing_data(runner, counts):
    before = counts()

    result = runner.invoke(args=["init-db"])
    again = runner.invoke(args=["init-db"])

    assert (result.exit_code, again.exit_code) == (0, 0), result.output + again.output
    assert counts() == before == BARE_DEMO_COUNTS


# --- seed-demo ------------------------------------------------------------------------------


def test_seed_demo_is_idempotent(empty_database, runner, counts):
    first = runner.invoke(args=["seed-demo"])
    after_first = counts()
    second = runner.invoke(args=["seed-demo"])

    assert (first.exit_code, first.output) == (0, "Demo data is in place: 80 bookings added.\n")
    assert (second.exit_code, second.output) == (0, "Demo data is in place.\n")
    assert {name: after_first[name] for name in DEMO_COUNTS} == DEMO_COUNTS
    assert after_first["events"] > after_first["bookings"]
    assert counts() == after_first


def test_seed_demo_fills_in_what_is_missing(app, runner, counts):
    with app.app_context():
        db.session.execute(db.delete(Service).where(Service.name == "Deep clean"))
        db.session.commit()

    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 0
    assert {name: counts()[name] for name in DEMO_COUNTS} == DEMO_COUNTS


@pytest.mark.parametrize(("email", "role", "company"), DEMO_LOGINS)
def test_demo_logins_work_after_seeding_twice(empty_database, runner, client, email, role, company):
    runner.invoke(args=["seed-demo"])
    runner.invoke(args=["seed-demo"])

    user = login(client, email)

    assert (user["email"], user["role"]) == (email, role)
    with empty_database.app_context():
        company_name = (
            db.session.get(Company, user["company_id"]).name if user["company_id"] else None
        )
    assert company_name == company


def test_demo_data_matches_the_contract(app, runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0

    with app.app_context():
        companies = {c.id: c.name for c in db.session.scalars(db.select(Company))}
        by_email = {u.email: u for u in db.session.scalars(db.select(User))}
        services = sorted(
            (companies[s.company_id], s.name) for s in db.session.scalars(db.select(Service))
        )
        customers = db.session.scalars(db.select(Customer)).all()
        staff_links = {
            s.user_id: companies[s.company_id]
            for s in db.session.scalars(db.select(Staff).where(Staff.user_id.is_not(None)))
        }

        customer_user = by_email["customer@everfresh.test"]
        linked = db.session.get(Customer, customer_user.customer_id)
        assert companies[linked.company_id] == "EverFresh Demo"
    assert sorted(companies.values()) == ["BrightHome Demo", "EverFresh Demo"]
    assert services == [
        ("BrightHome Demo", "Deep clean"),
        ("BrightHome Demo", "Kitchen refresh"),
        ("BrightHome Demo", "Laundry and linens"),
        ("BrightHome Demo", "Move-out clean"),
        ("BrightHome Demo", "Standard clean"),
        ("EverFresh Demo", "Deep clean"),
        ("EverFresh Demo", "End of tenancy clean"),
        ("EverFresh Demo", "Oven clean"),
        ("EverFresh Demo", "Standard clean"),
        ("EverFresh Demo", "Window clean (inside)"),
    ]
    assert Counter(companies[c.company_id] for c in customers) == {
        "BrightHome Demo": 30,
        "EverFresh Demo": 30,
    }
    assert staff_links == {
        by_email["staff@everfresh.test"].id: "EverFresh Demo",
        by_email["staff@brighthome.test"].id: "BrightHome Demo",
    }
    assert by_email["superadmin@everfresh.test"].company_id is None


def test_seed_demo_refuses_in_production(empty_database, runner, counts):
    empty_database.config["ENV_NAME"] = "production"

    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 1
    assert result.output == "Error: Refusing to load demo logins into a production database.\n"
    assert counts() == dict.fromkeys(MODELS, 0)


# --- create-company ---------------------------------------------------------------------------


@pytest.mark.parametrize(("arguments", "currency"), [([], "GBP"), (["--currency", "EUR"], "EUR")])
def test_create_company_prices_in_a_currency(app, runner, arguments, currency):
    result = runner.invoke(args=["create-company", "Acme Cleaning", *arguments])

    assert result.exit_code == 0, result.output
    with app.app_context():
        company = db.session.scalars(
            db.select(Company).where(Company.name == "Acme Cleaning")
        ).one()
        assert company.currency == currency


def test_create_company_refuses_an_unknown_currency(app, runner):
    result = runner.invoke(args=["create-company", "Acme Cleaning", "--currency", "eur"])

    assert result.exit_code == 2
    assert "Unknown currency: use an ISO 4217 code such as GBP, EUR or USD." in result.output
    with app.app_context():
        assert (
            db.session.scalars(db.select(Company).where(Company.name == "Acme Cleaning")).first()
            is None
        )


# --- remove-demo ----------------------------------------------------------------------------


def test_remove_demo_deactivates_every_login_of_the_demo_companies_only(app, runner):
    with app.app_context():
        other = Company(name="Real Cleaners")
        db.session.add(other)
        db.session.flush()
        for email, company_id in (
            ("new.staff@everfresh.test", _company_id("EverFresh Demo")),
            ("owner@realcleaners.test", other.id),
        ):
            db.session.add(
                User(
                    email=email,
                    name=email,
                    role="admin",
                    company_id=company_id,
                    password_hash="x",
                )
            )
        db.session.commit()

    first = runner.invoke(args=["remove-demo"])
    again = runner.invoke(args=["remove-demo"])

    assert (first.exit_code, first.output) == (
        0,
        "Deactivated 7 demo logins; none is left active.\n",
    )
    assert (again.exit_code, again.output) == (
        0,
        "Deactivated 0 demo logins; none is left active.\n",
    )
    with app.app_context():
        active = {user.email: user.active for user in db.session.scalars(db.select(User))}
    assert active == {
        **{email: False for email, _, _ in DEMO_LOGINS},
        "new.staff@everfresh.test": False,
        "owner@realcleaners.test": True,
    }


def _company_id(name: str) -> str:
    return db.session.scalars(db.select(Company.id).where(Company.name == name)).one()


# --- create-user ----------------------------------------------------------------------------


def create_user(runner, *options: str):
    """Invoke create-user with the given options."""
    return runner.invoke(args=["create-user", *options])


def test_create_user_makes_a_user_who_can_log_in(app, runner, client, tenants):
    result = create_user(
        runner,
        "--email",
        "New.Admin@EverFresh.test",
        "--name",
        "New Admin",
        "--role",
        "admin",
        "--company",
        "EverFresh Demo",
        "--password",
        "correct-horse",
    )

    assert result.exit_code == 0, result.output
    user = login(client, "new.admin@everfresh.test", "correct-horse")
    assert result.output == f"Created admin new.admin@everfresh.test ({user['id']}).\n"
    assert (user["name"], user["role"], user["company_id"], user["active"]) == (
        "New Admin",
        "admin",
        tenants["everfresh"].company_id,
        True,
    )


def test_create_user_accepts_a_company_id(runner, client, tenants):
    company_id = tenants["brighthome"].company_id

    result = create_user(
        runner,
        *("--email", "cleaner@brighthome.test", "--name", "Cleaner", "--role", "staff"),
        *("--company", company_id, "--password", "long-enough"),
    )

    assert result.exit_code == 0, result.output
    assert login(client, "cleaner@brighthome.test", "long-enough")["company_id"] == company_id


def test_create_user_makes_a_superadmin_without_company(runner, client):
    result = create_user(
        runner,
        *("--email", "root@everfresh.test", "--name", "Root", "--role", "superadmin"),
        *("--password", "long-enough"),
    )

    assert result.exit_code == 0, result.output
    user = login(client, "root@everfresh.test", "long-enough")
    assert (user["role"], user["company_id"]) == ("superadmin", None)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ("--role", "staff", "--company", "Nope Ltd", "--password", "long-enough"),
            "Invalid value for --company: no company 'Nope Ltd'",
        ),
        (
            ("--role", "staff", "--password", "long-enough"),
            "Invalid value for --company: name the staff's company",
        ),
        (
            ("--role", "customer", "--company", "EverFresh Demo", "--password", "long-enough"),
            "Invalid value for --customer: a customer user, and only one, books for a Customer",
        ),
        (
            ("--role", "staff", "--company", "EverFresh Demo", "--customer", "cust_x")
            + ("--password", "long-enough"),
            "Invalid value for --customer: a customer user, and only one, books for a Customer",
        ),
        (
            ("--role", "customer", "--company", "EverFresh Demo", "--customer", "cust_x")
            + ("--password", "long-enough"),
            "Invalid value: no customer 'cust_x' in that company",
        ),
        (
            ("--role", "staff", "--company", "EverFresh Demo", "--password", "short"),
            "Invalid value for --password: use at least 8 characters",
        ),
        (
            ("--role", "superadmin", "--company", "EverFresh Demo", "--password", "long-enough"),
            "Invalid value for --company: a superadmin belongs to no company",
        ),
        (
            ("--role", "owner", "--company", "EverFresh Demo", "--password", "long-enough"),
            "Invalid value for '--role'",
        ),
    ],
    ids=[
        "unknown-company",
        "no-company",
        "customer-without-customer",
        "staff-with-customer",
        "unknown-customer",
        "short-password",
        "superadmin-company",
        "bad-role",
    ],
)
def test_create_user_refuses_bad_options(app, runner, options, message):
    result = create_user(runner, "--email", "someone@everfresh.test", "--name", "Someone", *options)

    assert result.exit_code == 2
    assert message in result.output
    with app.app_context():
        assert (
            db.session.scalars(
                db.select(User).where(User.email == "someone@everfresh.test")
            ).first()
            is None
        )


def test_create_user_refuses_a_taken_email(runner, counts):
    before = counts()

    result = create_user(
        runner,
        *("--email", "STAFF@everfresh.test", "--name", "Twin", "--role", "staff"),
        *("--company", "EverFresh Demo", "--password", "long-enough"),
    )

    assert result.exit_code == 1
    assert result.output == "Error: A user with email staff@everfresh.test already exists.\n"
    assert counts() == before


def test_create_user_refuses_a_malformed_email(app, runner):
    result = create_user(
        runner,
        *("--email", "not-an-email", "--name", "X", "--role", "staff"),
        *("--company", "EverFresh Demo", "--password", "long-enough"),
    )
    assert result.exit_code == 2
    assert "Invalid value for --email" in result.output


def test_create_user_links_a_customer_user_to_the_customer_it_books_for(runner, client, tenants):
    tenant = tenants["everfresh"]
    result = create_user(
        runner,
        *("--email", "home@everfresh.test", "--name", "Home", "--role", "customer"),
        *("--company", "EverFresh Demo", "--customer", tenant.customer_id),
        *("--password", "long-enough"),
    )
    assert result.exit_code == 0, result.output
    token = client.post(
        "/auth/login", json={"email": "home@everfresh.test", "password": "long-enough"}
    ).json["access_token"]
    booked = client.post(
        "/bookings",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "service_id": tenant.service_id,
            "scheduled_date": in_days(3),
            "scheduled_time_start": "12:00",
        },
    )
    assert booked.status_code == 201
    assert booked.json["customer_id"] == tenant.customer_id


# --- prune ----------------------------------------------------------------------------------


@pytest.fixture
def add_event(app: Flask, tenants) -> Callable[[timedelta], int]:
    """Return a function logging an event of the given age and returning its id."""

    def add(age: timedelta) -> int:
        with app.app_context():
            event = Event.record(tenants["everfresh"].company_id, "booking_created", {"n": 1})
            event.created_at = datetime.now(UTC) - age
            db.session.commit()
            return event.id

    return add


@pytest.fixture
def event_ids(app: Flask) -> Callable[[], list[int]]:
    """Return a function listing the ids left in the event log."""

    def ids() -> list[int]:
        with app.app_context():
            return list(db.session.scalars(db.select(Event.id).order_by(Event.id)))

    return ids


@pytest.mark.parametrize("hours", [24, 2])
def test_prune_deletes_events_older_than_the_replay_window(
    app, runner, add_event, event_ids, hours
):
    app.config["SSE_REPLAY_HOURS"] = hours
    # Days wholly past the window, which PostgreSQL drops whole (see test_retention.py).
    gone = [add_event(timedelta(days=3)), add_event(timedelta(hours=hours + 24))]
    kept = [add_event(timedelta(hours=hours, minutes=-1)), add_event(timedelta(0))]

    result = runner.invoke(args=["prune"])

    assert result.exit_code == 0, result.output
    assert result.output == "Pruned 2 events, 0 idempotency keys and 0 revoked tokens.\n"
    assert event_ids() == kept
    assert not set(gone) & set(event_ids())


def test_prune_with_nothing_to_do(runner, add_event, event_ids):
    kept = [add_event(timedelta(minutes=5))]

    result = runner.invoke(args=["prune"])

    assert result.output == "Pruned 0 events, 0 idempotency keys and 0 revoked tokens.\n"
    assert event_ids() == kept


def test_prune_deletes_idempotency_keys_after_a_day(app, runner, client, login_as, tenants):
    body = {
        "customer_id": tenants["everfresh"].customer_id,
        "service_id": tenants["everfresh"].service_id,
        "scheduled_date": in_days(1),
        "scheduled_time_start": "10:00",
    }
    for key in ("old", "new"):
        response = client.post(
            "/bookings", headers={**login_as("staff"), "Idempotency-Key": key}, json=body
        )
        assert response.status_code == 201
    with app.app_context():
        old = db.session.scalars(db.select(IdempotencyKey).where(IdempotencyKey.key == "old")).one()
        old.created_at = datetime.now(UTC) - timedelta(hours=25)
        db.session.commit()

    result = runner.invoke(args=["prune"])

    assert result.output == "Pruned 0 events, 1 idempotency keys and 0 revoked tokens.\n"
    with app.app_context():
        assert db.session.scalars(db.select(IdempotencyKey.key)).all() == ["new"]
        assert db.session.scalar(db.select(db.func.count()).select_from(Booking)) == 2
        payloads = [json.loads(p) for p in db.session.scalars(db.select(Event.payload))]
    assert len(payloads) == 2
