"""Seed the demo companies, users, customers and services described in the product contract."""

from __future__ import annotations

from dataclasses import dataclass

from everfresh.auth.models import Role, User
from everfresh.auth.passwords import hash_password
from everfresh.catalog.models import Customer, Service, Staff
from everfresh.companies.models import Company
from everfresh.extensions import db

DEMO_PASSWORD = "everfresh-demo"


@dataclass(frozen=True)
class DemoCompany:
    """One demo tenant and what it holds."""

    name: str
    domain: str
    timezone: str
    customers: tuple[str, ...]
    services: tuple[tuple[str, int, int], ...]
    with_customer_login: bool


DEMO_COMPANIES = (
    DemoCompany(
        name="EverFresh Demo",
        domain="everfresh.test",
        timezone="Europe/London",
        customers=("Ada Lovelace",),
        services=(("Standard clean", 120, 9000), ("Deep clean", 240, 18000)),
        with_customer_login=True,
    ),
    DemoCompany(
        name="BrightHome Demo",
        domain="brighthome.test",
        timezone="America/New_York",
        customers=("Grace Hopper",),
        services=(("Standard clean", 120, 8500),),
        with_customer_login=False,
    ),
)


def _company(spec: DemoCompany) -> Company:
    company = db.session.scalars(db.select(Company).where(Company.name == spec.name)).first()
    if company is None:
        company = Company(name=spec.name, timezone=spec.timezone)
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
    _user("superadmin@everfresh.test", "EverFresh Superadmin", Role.SUPERADMIN, None, password_hash)
    db.session.commit()
