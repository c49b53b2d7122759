"""Store the people who log in, with their role and company."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from everfresh.extensions import db
from everfresh.ids import prefixed_id
from everfresh.timestamps import UTCDateTime, utcnow


class Role(StrEnum):
    """What a user may do; every user has exactly one."""

    CUSTOMER = "customer"
    STAFF = "staff"
    ADMIN = "admin"
    SUPERADMIN = "superadmin"


class User(db.Model):
    """Someone who logs in: a customer, a staff member, a company admin or a superadmin."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(
        String(40), primary_key=True, default=lambda: prefixed_id("user")
    )
    # Stored lower-cased, so uniqueness and login are case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(String(20))
    # Null only for a superadmin, who belongs to no company.
    company_id: Mapped[str | None] = mapped_column(ForeignKey("companies.id"), index=True)
    # The Customer a `customer` user books for.
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
