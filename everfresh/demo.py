"""Seed the demo: two companies with their logins, staff, customers, services and a busy day.

Their logins share one published password, so production refuses to run while any of them
can still sign in, and `flask remove-demo` switches them off. Production also refuses them at
login itself, whatever the database held when the worker started.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

import click
from flask import Flask, abort, appcontext_pushed, current_app, request
from gevent import monkey
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from config import CONFIGURATION_ERROR_EXIT_STATUS
from everfresh.auth.models import Role, User
from everfresh.auth.passwords import hash_password
from everfresh.auth.ratelimits import LOGIN_ENDPOINTS
from everfresh.bookings.models import Booking
from everfresh.catalog.models import Customer, Service, Staff
from everfresh.companies.models import Company
from everfresh.demo_catalogue import (
    BRIGHTHOME_CUSTOMERS,
    BRIGHTHOME_SERVICES,
    BRIGHTHOME_STAFF,
    EVERFRESH_CUSTOMERS,
    EVERFRESH_SERVICES,
    EVERFRESH_STAFF,
    DemoCustomer,
    DemoService,
)
from everfresh.demo_day import write_demo_days
from everfresh.extensions import db
from everfresh.signing_key import InsecureConfiguration
from everfresh.timestamps import utcnow

log = logging.getLogger(__name__)

CallbackT = TypeVar("CallbackT", bound=Callable[..., object])

DEMO_PASSWORD = "everfresh-demo"
SUPERADMIN_EMAIL = "superadmin@everfresh.test"
# Commands that must run while demo logins exist: the one that removes them, and the schema
# upgrades that may have to come first.
COMMANDS_ALLOWED_WITH_DEMO_LOGINS = frozenset({"remove-demo", "init-db", "db"})
DEMO_LOGIN_REFUSAL = "Demo logins are refused in production: their password is published."


@dataclass(frozen=True)
class DemoCompany:
    """One demo tenant and what it holds."""

    name: str
    domain: str
    timezone: str
    currency: str
    # The first customer is the one a customer login books for (when the company has one).
    customers: tuple[DemoCustomer, ...]
    services: tuple[DemoService, ...]
    # Staff members without a login; the company's staff login is one more.
    staff: tuple[str, ...]
    with_customer_login: bool
    # How many of `services` the bare demo holds, beside the first customer.
    bare_services: int


DEMO_COMPANIES = (
    DemoCompany(
        name="EverFresh Demo",
        domain="everfresh.test",
        timezone="Europe/London",
        currency="GBP",
        customers=EVERFRESH_CUSTOMERS,
        services=EVERFRESH_SERVICES,
        staff=EVERFRESH_STAFF,
        with_customer_login=True,
        bare_services=2,
    ),
    DemoCompany(
        name="BrightHome Demo",
        domain="brighthome.test",
        timezone="America/New_York",
        currency="USD",
        customers=BRIGHTHOME_CUSTOMERS,
        services=BRIGHTHOME_SERVICES,
        staff=BRIGHTHOME_STAFF,
        with_customer_login=False,
        bare_services=1,
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


CatalogueRow = TypeVar("CatalogueRow", Customer, Service)


def _by_name(
    model: type[CatalogueRow], company: Company, wanted: Sequence[DemoCustomer | DemoService]
) -> list[CatalogueRow]:
    # By name, in the order of `wanted`: a row the demo once made is not made twice.
    existing = {
        row.name: row
        for row in db.session.scalars(db.select(model).where(model.company_id == company.id))
    }
    for spec in wanted:
        if spec.name not in existing:
            existing[spec.name] = model(company_id=company.id, **asdict(spec))
            db.session.add(existing[spec.name])
    return [existing[spec.name] for spec in wanted]


def _staff(company: Company, login: User, names: Sequence[str]) -> list[Staff]:
    # The staff login's own row first: the member a staff user sees as themselves.
    existing = db.session.scalars(db.select(Staff).where(Staff.company_id == company.id)).all()
    linked = next((staff for staff in existing if staff.user_id == login.id), None)
    if linked is None:
        linked = Staff(company_id=company.id, name=login.name, user_id=login.id)
        db.session.add(linked)
    by_name = {staff.name: staff for staff in existing if staff.user_id is None}
    for name in names:
        if name not in by_name:
            by_name[name] = Staff(company_id=company.id, name=name)
            db.session.add(by_name[name])
    return [linked, *(by_name[name] for name in names)]


def _logins(spec: DemoCompany, company: Company, password_hash: str) -> tuple[User, User | None]:
    _user(f"admin@{spec.domain}", f"{spec.name} Admin", Role.ADMIN, company.id, password_hash)
    staff_login = _user(
        f"staff@{spec.domain}", f"{spec.name} Staff", Role.STAFF, company.id, password_hash
    )
    customer_login = None
    if spec.with_customer_login:
        customer_login = _user(
            f"customer@{spec.domain}",
            spec.customers[0].name,
            Role.CUSTOMER,
            company.id,
            password_hash,
        )
    return staff_login, customer_login


def seed_demo_logins() -> None:
    """Create whatever is missing of the bare demo: the companies, their logins and the rows
    those link to (a staff member, a customer), and a service or two; never twice.

    The test suite starts from this; `seed_demo` fills in the rest.
    """
    password_hash = hash_password(DEMO_PASSWORD)
    for spec in DEMO_COMPANIES:
        company = _company(spec)
        staff_login, customer_login = _logins(spec, company, password_hash)
        customers = _by_name(Customer, company, spec.customers[:1])
        _by_name(Service, company, spec.services[: spec.bare_services])
        _staff(company, staff_login, ())
        if customer_login is not None:
            db.session.flush()
            customer_login.customer_id = customers[0].id
    _user(SUPERADMIN_EMAIL, "EverFresh Superadmin", Role.SUPERADMIN, None, password_hash)
    db.session.commit()


def seed_demo(now: datetime | None = None) -> int:
    """Create whatever is missing of the whole demo and return how many bookings it added.

    Beyond the bare demo's logins: each company's staff, customers with their addresses and
    services, and, unless the company already has bookings from its today on, a day of
    bookings for today and tomorrow laid out around `now` (default: this moment). Running it
    again adds nothing.
    """
    now = now or utcnow()
    seed_demo_logins()
    added = 0
    for spec in DEMO_COMPANIES:
        company = _company(spec)
        staff_login = db.session.scalars(
            db.select(User).where(User.email == f"staff@{spec.domain}")
        ).one()
        customers = _by_name(Customer, company, spec.customers)
        services = _by_name(Service, company, spec.services)
        staff = _staff(company, staff_login, spec.staff)
        db.session.flush()
        # What an admin has deactivated takes no new booking, from the demo either.
        customers, services, staff = (
            [row for row in rows if row.active] for rows in (customers, services, staff)
        )
        if customers and services and not _has_bookings_from_today(company, now):
            added += write_demo_days(company, now, staff, customers, services)
    db.session.commit()
    return added


def _has_bookings_from_today(company: Company, now: datetime) -> bool:
    today = now.astimezone(ZoneInfo(company.timezone)).date()
    return (
        db.session.scalars(
            db.select(Booking.id)
            .where(Booking.company_id == company.id, Booking.scheduled_date >= today)
            .limit(1)
        ).first()
        is not None
    )


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


def refuse_demo_login_attempts() -> None:
    """In production, answer 403 to a login as a demo account, before any password is checked.

    The start-up check cannot be the only guard: a worker that boots while the database is
    unreachable cannot look, and a demo login may be reactivated or restored afterwards.
    """
    if request.endpoint not in LOGIN_ENDPOINTS or current_app.config["ENV_NAME"] != "production":
        return
    try:
        body = request.get_json(silent=True)
    except HTTPException:
        # Too large: the view's own reading of the body answers 413.
        return
    email = body.get("email") if isinstance(body, dict) else None
    # The login view strips and lower-cases the email too.
    if isinstance(email, str) and email.strip().lower() in demo_emails():
        abort(403, DEMO_LOGIN_REFUSAL)


def init_app(app: Flask) -> None:
    """Refuse demo logins in production: Flask's own `flask` commands, and each login."""
    appcontext_pushed.connect(_refuse_demo_logins_before_command, app)
    app.before_request(refuse_demo_login_attempts)
