"""Booking dates counted from today, so that no test depends on a fixed calendar day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

# The zone whose day begins first (UTC+14): a date after its today has begun in no zone yet.
FIRST_ZONE_TO_START_A_DAY = ZoneInfo("Pacific/Kiritimati")


def in_days(days: int) -> str:
    """Return, as YYYY-MM-DD, the date `days` after today where the day begins first.

    From 1 on, every time of that date is still to come in every company's time zone, so a
    booking there is never refused as past.
    """
    return (datetime.now(FIRST_ZONE_TO_START_A_DAY).date() + timedelta(days=days)).isoformat()


def midnight_utc(day: str) -> str:
    """Return a YYYY-MM-DD date as the event contract writes it: its UTC midnight."""
    return f"{date.fromisoformat(day).isoformat()}T00:00:00.000Z"
