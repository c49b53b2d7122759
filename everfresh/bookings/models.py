"""Store bookings and the idempotency keys that make their creation safe to retry."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from everfresh.extensions import db
from everfresh.ids import new_ulid
from everfresh.timestamps import UTCDateTime, iso_midnight_utc, iso_utc, utcnow


class BookingStatus(StrEnum):
    """Where a booking is in its life; every booking starts `pending`."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Booking(db.Model):
    """A cleaning scheduled for a customer, maybe assigned to a staff member."""

    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("company_id", "booking_number", name="uq_bookings_company_number"),
        Index("ix_bookings_company_id_id", "company_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_ulid)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    booking_number: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"))
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    scheduled_date: Mapped[date] = mapped_column(Date)
    scheduled_time_start: Mapped[time] = mapped_column(Time)
    status: Mapped[BookingStatus] = mapped_column(String(20), default=BookingStatus.PENDING)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by the change itself, never on UPDATE: locking the row is a no-op UPDATE, and the
    # event of a change carries exactly the value stored.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_event_payload(self) -> dict[str, Any]:
        """Serialise the booking as the customer's `booking_created` contract spells it."""
        return {
            "booking_id": self.id,
            "booking_number": self.booking_number,
            "customer_id": self.customer_id,
            "service_id": self.service_id,
            "staff_id": self.staff_id,
            "scheduled_date": iso_midnight_utc(self.scheduled_date),
            "scheduled_time_start": self.scheduled_time_start.strftime("%H:%M"),
            "status": str(self.status),
            "created_at": iso_utc(self.created_at),
            "company_id": self.company_id,
        }


class IdempotencyKey(db.Model):
    """The first answer to a `POST /bookings` sent with an `Idempotency-Key`, kept for retries."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the canonical request body, so a reused key with another body is caught.
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"))
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
