"""Describe what the bookings endpoints accept and answer, and the `booking_created` payload."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema

from everfresh.bookings.models import BookingStatus
from everfresh.bookings.workflow import Action
from everfresh.web.pagination import PageQuery
from everfresh.web.responses import Answer, Page, UtcTimestamp
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


CalendarDate = Annotated[
    date,
    BeforeValidator(_calendar_date),
    WithJsonSchema(
        {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
    ),
]
ClockTime = Annotated[
    time,
    BeforeValidator(_clock_time),
    WithJsonSchema({"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$"}),
]
EntityId = Annotated[str, Field(min_length=1, max_length=40)]
Notes = Annotated[str, Field(max_length=2000)]
# A time of day as answers write it: hours and minutes, no seconds.
ClockTimeOut = Annotated[
    time,
    PlainSerializer(lambda moment: moment.strftime("%H:%M"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$"}),
    Field(examples=["10:00"]),
]


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


class Booking(Answer):
    """A cleaning scheduled for a customer."""

    booking_id: str = Field(
        validation_alias="id", description="A ULID.", examples=["01JD4Z6M3Q5Y7C9V2B4N6R8T0W"]
    )
    booking_number: str = Field(examples=["BK-1001"])
    company_id: str
    customer_id: str
    service_id: str
    staff_id: str | None
    scheduled_date: date
    scheduled_time_start: ClockTimeOut
    status: BookingStatus
    notes: str | None
    created_at: UtcTimestamp
    updated_at: UtcTimestamp
    allowed_actions: list[Action] = Field(
        description="What the caller may do with the booking next, sorted: `assign` (anyone "
        "or no one), `assign_self` (the caller, to an unassigned booking), `cancel`, "
        "`complete`, `confirm`, `edit_notes`, `reschedule`, `start`. Empty for a final "
        "(completed or cancelled) booking and for customers. Clients draw their buttons from it.",
        examples=[["assign_self", "confirm", "edit_notes"]],
    )


class BookingPage(Page[Booking]):
    """A page of bookings, ordered by creation."""


# `Booking.to_event_payload` writes this payload once, into the event log, and every stream
# and replay sends that text unchanged, byte for byte; this model only describes it.
class BookingCreatedEvent(Answer):
    """The data of a `booking_created` frame, whose `id:` is the event's place in the log."""

    booking_id: str = Field(examples=["01JD4Z6M3Q5Y7C9V2B4N6R8T0W"])
    booking_number: str = Field(examples=["BK-1001"])
    customer_id: str
    service_id: str
    staff_id: str | None
    scheduled_date: str = Field(
        description="The date at UTC midnight.", examples=["2026-12-01T00:00:00.000Z"]
    )
    scheduled_time_start: ClockTimeOut
    status: BookingStatus
    created_at: str = Field(
        description="UTC, ISO 8601 with milliseconds and `Z`.",
        examples=["2026-11-26T14:30:00.123Z"],
    )
    company_id: str


class BookingUpdatedEvent(BookingCreatedEvent):
    """The data of a `booking_updated` frame: the booking after the change, and what changed."""

    updated_at: str = Field(
        description="When the change was committed: UTC, ISO 8601 with milliseconds and `Z`.",
        examples=["2026-11-26T15:02:11.480Z"],
    )
    changes: list[
        Literal["notes", "scheduled_date", "scheduled_time_start", "staff_id", "status"]
    ] = Field(
        description="The names of the fields that changed, sorted; never empty.",
        min_length=1,
        examples=[["staff_id", "status"]],
    )
