"""Store companies, the tenants every other row belongs to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, update
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column

from everfresh.companies.timezones import DEFAULT_TIMEZONE
from everfresh.extensions import db
from everfresh.ids import prefixed_id
from everfresh.timestamps import UTCDateTime, iso_utc, utcnow

FIRST_BOOKING_NUMBER = 1001


class Company(db.Model):
    """A tenant: a cleaning business with its own customers, services, staff and bookings."""

    __tablename__ = "companies"

    id: Mapped[str] = mapped_column(
        String(40), primary_key=True, default=lambda: prefixed_id("comp")
    )
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # The IANA zone the company works in: bookings' dates and times are wall-clock times there.
    timezone: Mapped[str] = mapped_column(
        String(64), default=DEFAULT_TIMEZONE, server_default=DEFAULT_TIMEZONE
    )
    # The last booking number handed out; bumped under a row lock so numbers never repeat.
    last_booking_number: Mapped[int] = mapped_column(default=FIRST_BOOKING_NUMBER - 1)
    # The last event sequence number; bumped under the same lock, so a company's events
    # are numbered 1, 2, 3, ... in commit order.
    last_event_sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_json(self) -> dict[str, Any]:
        """Serialise the company for the API."""
        return {
            "id": self.id,
            "name": self.name,
            "timezone": self.timezone,
            "created_at": iso_utc(self.created_at),
        }


def claim_next(company_id: str, counter: InstrumentedAttribute[int]) -> int:
    """Bump one of the company's counters in the current transaction and return its new value.

    The UPDATE locks the company row until commit, so concurrent writers (in any worker or
    host) queue behind each other, and a rollback gives the value back: counters stay
    unique, gap-free and in commit order.
    """
    return db.session.execute(
        update(Company)
        .where(Company.id == company_id)
        .values({counter: counter + 1})
        .returning(counter)
        .execution_options(synchronize_session=False)
    ).scalar_one()
