"""Store companies, the tenants every other row belongs to."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import String, Update, bindparam, select, update
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column

from everfresh.companies.currencies import DEFAULT_CURRENCY
from everfresh.companies.timezones import DEFAULT_TIMEZONE
from everfresh.extensions import db
from everfresh.ids import prefixed_id
from everfresh.timestamps import UTCDateTime, utcnow

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
    # The ISO 4217 code of the currency its services' `price_cents` are in (its minor units).
    currency: Mapped[str] = mapped_column(
        String(3), default=DEFAULT_CURRENCY, server_default=DEFAULT_CURRENCY
    )
    # The last booking number handed out; bumped under a row lock so numbers never repeat.
    last_booking_number: Mapped[int] = mapped_column(default=FIRST_BOOKING_NUMBER - 1)
    # The last event sequence number; bumped under the same lock, so a company's events
    # are numbered 1, 2, 3, ... in commit order.
    last_event_sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def load_company(company_id: str) -> Company:
    """Return the company `company_id`, which must exist: a row's own company always does."""
    return db.session.execute(_COMPANY_BY_ID, {"company_id": company_id}).scalar_one()


# Built once: every booking written reads its company, and building and keying a fresh
# select each time (as `Session.get` does) costs about as much CPU as the round trip.
_COMPANY_BY_ID = select(Company).where(Company.id == bindparam("company_id"))


def claim_next(company_id: str, *counters: InstrumentedAttribute[int]) -> tuple[int, ...]:
    """Bump some of the company's counters in the current transaction; return their new values.

    The UPDATE locks the company row until commit, so concurrent writers (in any worker or
    host) queue behind each other, and a rollback gives the values back: counters stay
    unique, gap-free and in commit order. Claiming several at once costs one round trip.
    """
    row = db.session.execute(
        _claim_statement(tuple(counter.key for counter in counters)), {"company_id": company_id}
    ).one()
    return tuple(row)


@cache
def _claim_statement(names: tuple[str, ...]) -> Update:
    # Built once per set of counters and run as Core: building, keying and running an
    # ORM bulk UPDATE each time cost more CPU than the round trip itself.
    table = Company.__table__
    columns = [table.c[name] for name in names]
    return (
        update(table)
        .where(table.c.id == bindparam("company_id"))
        .values({column: column + 1 for column in columns})
        .returning(*columns)
    )
