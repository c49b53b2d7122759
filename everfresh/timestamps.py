"""Produce and format the timezone-aware UTC timestamps stored on every row."""

from datetime import UTC, date, datetime

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Return `moment` as aware UTC; naive values (SQLite drops the zone) are taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """Format `moment` as ISO 8601 UTC with milliseconds and a ``Z``, as the event contract says."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_midnight_utc(day: date) -> str:
    """Format a calendar date as its UTC midnight, e.g. ``2026-12-01T00:00:00.000Z``."""
    return f"{day.isoformat()}T00:00:00.000Z"


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp column that always hands back aware UTC datetimes, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store every timestamp as UTC."""
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return stored timestamps as aware UTC."""
        return None if value is None else as_utc(value)
