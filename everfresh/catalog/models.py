"""Store each company's customers, services and staff members."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from everfresh.extensions import db
from everfresh.ids import prefixed_id
from everfresh.timestamps import UTCDateTime, iso_utc, utcnow


class Customer(db.Model):
    """A household that books cleanings from one company."""

    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(
        String(40), primary_key=True, default=lambda: prefixed_id("cust")
    )
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_json(self) -> dict[str, Any]:
        """Serialise the customer for the API."""
        return {
            "id": self.id,
            "company_id": self.company_id,
            "name": self.name,
            "email": self.email,
            "phone": self.phone,
            "created_at": iso_utc(self.created_at),
        }


class Service(db.Model):
    """A kind of cleaning a company sells, with its length and price."""

    __tablename__ = "services"

    id: Mapped[str] = mapped_column(
        String(40), primary_key=True, default=lambda: prefixed_id("serv")
    )
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    duration_minutes: Mapped[int]
    price_cents: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_json(self) -> dict[str, Any]:
        """Serialise the service for the API."""
        return {
            "id": self.id,
            "company_id": self.company_id,
            "name": self.name,
            "duration_minutes": self.duration_minutes,
            "price_cents": self.price_cents,
            "created_at": iso_utc(self.created_at),
        }


class Staff(db.Model):
    """A cleaner bookings can be assigned to; optionally a user who can log in."""

    __tablename__ = "staff"

    id: Mapped[str] = mapped_column(
        String(40), primary_key=True, default=lambda: prefixed_id("staff")
    )
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_json(self) -> dict[str, Any]:
        """Serialise the staff member for the API."""
        return {
            "id": self.id,
            "company_id": self.company_id,
            "name": self.name,
            "user_id": self.user_id,
            "created_at": iso_utc(self.created_at),
        }
