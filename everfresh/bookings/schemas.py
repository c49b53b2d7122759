"""Describe the request bodies and query strings the bookings endpoints accept."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated

from pydantic import BeforeValidator, Field

from everfresh.bookings.models import BookingStatus
from everfresh.web.pagination import PageQuery
from everfresh.web.validation import NotNull, RequestModel, UpdateRequest

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def _calendar_date(value: object) -> date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ValueError("Use a date written YYYY-MM-DD.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("Not a real calendar date.") from None


def _clock_time(value: object) -> time:
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        raise ValueError("Use a 24-hour time written HH:MM.")
    return time.fromisoformat(value)


CalendarDate = Annotated[date, BeforeValidator(_calendar_date)]
ClockTime = Annotated[time, BeforeValidator(_clock_time)]
EntityId = Annotated[str, Field(min_length=1, max_length=40)]
Notes = Annotated[str, Field(max_length=2000)]


class CreateBookingRequest(RequestModel):
    """A new booking for `POST /bookings`."""

    customer_id: EntityId | None = None
    service_id: EntityId
    staff_id: EntityId | None = None
    scheduled_date: CalendarDate
    scheduled_time_start: ClockTime
    notes: Notes | None = None


class UpdateBookingRequest(UpdateRequest):
    """Changes for `PATCH /bookings/<id>`; only the fields sent are changed."""

    status: Annotated[BookingStatus | None, NotNull] = None
    staff_id: EntityId | None = None
    scheduled_date: Annotated[CalendarDate | None, NotNull] = None
    scheduled_time_start: Annotated[ClockTime | None, NotNull] = None
    notes: Notes | None = None


class BookingListQuery(PageQuery):
    """Filters for `GET /bookings`, on top of paging."""

    status: BookingStatus | None = None
    date_from: CalendarDate | None = None
    date_to: CalendarDate | None = None
