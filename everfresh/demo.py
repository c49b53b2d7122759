"""Seed the demo companies, users, customers and services described in the product contract.

Their logins share one published password, so production refuses to run while any of them
can still sign in, and `flask remove-demo` switches them off.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import click
from flask import Flask, appcontext_pushed, current_app
from gevent import monkey
from sqlalchemy.exc import SQLAlchemyError

from config import CONFIGURATION_ERROR_EXIT_STATUS
from everfresh.auth.models import Role, User
from everfresh.auth.passwords import hash_password
from everfresh.catalog.models import Customer, Service, Staff
from everfresh.companies.models import Company
from everfresh.extensions import db
from everfresh.signing_key import InsecureConfiguration

log = logging.getLogger(__name__)

CallbackT = TypeVar("CallbackT", bound=Callable[..., object])

DEMO_PASSWORD = "everfresh-demo"
SUPERADMIN_EMAIL = "superadmin@everfresh.test"
# Commands that must run while demo logins exist: the one that removes them, and the schema
# upgrades that may have to come first.
COMMANDS_ALLOWED_WITH_DEMO_LOGINS = frozenset({"remove-demo", "init-db", "db"})


@dataclass(frozen=True)
class DemoCompany:
    """One demo tenant and what it holds."""

    name: str
    domain: str
    timezone: str
    currency: str
    customers: tuple[str, ...]
    services: tuple[tuple[str, int, int], ...]
    with_customer_login: bool


DEMO_COMPANIES = (
    DemoCompany(
        name="EverFresh Demo",
        domain="everfresh.test",
        timezone="Europe/London",
        currency="GBP",
        customers=("Ada Lovelace",),
        services=(("Standard clean", 120, 9000), ("Deep clean", 240, 18000)),
        with_customer_login=True,
    ),
    DemoCompany(
        name="BrightHome Demo",
        domain="brighthome.test",
        timezone="America/New_York",
        currency="USD",
        customers=("Grace Hopper",),
        services=(("Standard clean", 120, 8500),),
        with_customer_login=False,
    ),
)


def _company(spec: DemoCompany) -> Company:
    company = db.session.scalars(db.select(Company).where(Company.name == spec.name)).first()
    if company is None:
        company = Company(name=spec.name, timezone=spec.timezone, currency=spec.currency)
        db.session.add(company)
        db.session.flush()
    return company


def _user(email: str, name: str, role: Role, company_id: str | None, password_hash: str) -> User:
    user = db.session.scalars(db.select(User).where(User.email == email)).first()
    if user is None:
        user = User(
            email=email, name=name, role=role, company_id=company_id, password_hash=password_hash
        )
        db.session.add(user)
        db.session.flush()
    return user


def seed_demo() -> None:
    """Create whatever part of the demo data is missing; running it twice changes nothing."""
    password_hash = hash_password(DEMO_PASSWORD)
    for spec in DEMO_COMPANIES:
        company = _company(spec)
        existing_customers = {
            c.name: c
            for c in db.session.scalars(
                db.select(Customer).where(Customer.company_id == company.id)
            )
        }
        for customer_name in spec.customers:
            if customer_name not in existing_customers:
                existing_customers[customer_name] = Customer(
                    company_id=company.id,
                    name=customer_name,
                    email=f"{customer_name.split()[0].lower()}@example.com",
                    phone="+1 555 0100",
                )
                db.session.add(existing_customers[customer_name])
        existing_services = set(
            db.session.scalars(db.select(Service.name).where(Service.company_id == company.id))
        )
        for service_name, minutes, cents in spec.services:
            if service_name not in existing_services:
                db.session.add(
                    Service(
                        company_id=company.id,
                        name=service_name,
                        duration_minutes=minutes,
                        price_cents=cents,
                    )
                )
        db.session.flush()

        _user(f"admin@{spec.domain}", f"{spec.name} Admin", Role.ADMIN, company.id, password_hash)
        staff_user = _user(
            f"staff@{spec.domain}", f"{spec.name} Staff", Role.STAFF, company.id, password_hash
        )
        if (
            db.session.scalars(db.select(Staff).where(Staff.user_id == staff_user.id)).first()
            is None
        ):
            db.session.add(
                Staff(company_id=company.id, name=staff_user.name, user_id=staff_user.id)
            )
        if spec.with_customer_login:
            customer_user = _user(
                f"customer@{spec.domain}",
                spec.customers[0],
                Role.CUSTOMER,
                company.id,
                password_hash,
            )
            customer_user.customer_id = existing_customers[spec.customers[0]].id
    _user(SUPERADMIN_EMAIL, "EverFresh Superadmin", Role.SUPERADMIN, None, password_hash)
    db.session.commit()


def demo_emails() -> list[str]:
    """Return the email of every login `seed_demo` creates."""
    emails = [SUPERADMIN_EMAIL]
    for spec in DEMO_COMPANIES:
        emails += [f"admin@{spec.domain}", f"staff@{spec.domain}"]
        if spec.with_customer_login:
            emails.append(f"customer@{spec.domain}")
    return sorted(emails)


def active_demo_logins() -> list[str]:
    """Return the emails of the demo logins that can still sign in, in order."""
    query = (
        db.select(User.email)
        .where(User.email.in_(demo_emails()), User.active.is_(True))
        .order_by(User.email)
    )
    # Its own connection, so a schema not created yet fails here and leaves no session behind.
    with db.engine.connect() as connection:
        return list(connection.scalars(query))


def remove_demo() -> int:
    """Deactivate the demo logins and every login of the demo companies; return how many."""
    demo_companies = db.select(Company.id).where(
        Company.name.in_([spec.name for spec in DEMO_COMPANIES])
    )
    users = db.session.scalars(
        db.select(User).where(
            User.active.is_(True),
            User.email.in_(demo_emails()) | User.company_id.in_(demo_companies),
        )
    ).all()
    for user in users:
        user.active = False
    db.session.commit()
    return len(users)


class DemoLoginsInProduction(InsecureConfiguration):
    """Raised at start-up in production while a demo login can still sign in."""


def refuse_demo_logins_in_production() -> None:
    """In production, raise DemoLoginsInProduction while any demo login is active."""
    if current_app.config["ENV_NAME"] != "production":
        return
    try:
        emails = active_demo_logins()
    except SQLAlchemyError as error:
        # No schema yet has no demo logins; an unreachable database is /readyz's to report.
        log.warning("Could not check the database for demo logins (%s)", error)
        return
    if emails:
        raise DemoLoginsInProduction(
            f"Refusing to run in production while demo logins can sign in with the published "
            f"password ({', '.join(emails)}). Remove them with `flask --app wsgi remove-demo`."
        )


def refused_with_demo_logins_in_production(command: CallbackT) -> CallbackT:
    """Make a `flask` command refuse to run in production while demo logins are active.

    For the app's own commands: Flask pushes their app context before it knows which
    command will run, so the check cannot wait for that, as it does for Flask's own.
    """

    @functools.wraps(command)
    def checked(*args: object, **kwargs: object) -> object:
        _refuse_for_command()
        return command(*args, **kwargs)

    return checked  # type: ignore[return-value]


def _refuse_for_command() -> None:
    try:
        refuse_demo_logins_in_production()
    except DemoLoginsInProduction as error:
        refusal = click.ClickException(str(error))
        # The status every configuration refusal exits with (config.refuse_to_start).
        refusal.exit_code = CONFIGURATION_ERROR_EXIT_STATUS
        raise refusal from None


def _refuse_demo_logins_before_command(_app: Flask, **_extra: object) -> None:
    # Flask's own and plugin commands (shell, routes, db) push the app context from their
    # own click context; API requests have none and were checked when the worker booted.
    # A gevent worker runs no command, and looking there would give each connection's
    # greenlet a click context stack of its own for life: 440 bytes per open stream.
    if monkey.is_module_patched("threading"):
        return
    command = click.get_current_context(silent=True)
    if command is None or command.parent is None:
        return
    if command.info_name in COMMANDS_ALLOWED_WITH_DEMO_LOGINS:
        return
    _refuse_for_command()


def init_app(app: Flask) -> None:
    """Make Flask's own `flask` commands refuse production while demo logins are active."""
    appcontext_pushed.connect(_refuse_demo_logins_before_command, app)
