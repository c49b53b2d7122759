"""Describe the JSON the endpoints answer, as pydantic models the API document is built from.

The views serialise with each model's `to_json()`; these models only describe that output.
`tests/test_openapi.py` validates real answers against them, so they cannot drift unseen.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from everfresh.auth.models import Role
from everfresh.bookings.models import BookingStatus

ItemT = TypeVar("ItemT")

ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["10:00"])]
UtcTimestamp = Annotated[datetime, Field(description="UTC, ISO 8601 with milliseconds and `Z`.")]


class Answer(BaseModel):
    """Base of every described answer: a field not listed here is a bug."""

    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Answer):
    """What went wrong, in the shape every failure shares."""

    code: int = Field(description="The HTTP status code.", examples=[404])
    name: str = Field(description="The status code's standard phrase.", examples=["Not Found"])
    message: str = Field(description="A sentence for a person.", examples=["Booking not found."])
    fields: dict[str, str] | None = Field(
        default=None,
        description="On 422: each failing field and what is wrong with it. On 409: the field "
        "whose value clashes with stored data (`staff_id` of a staff member already booked).",
    )
    checks: dict[str, str] | None = Field(
        default=None, description="On 503 from /readyz only: the state of each dependency."
    )


class ErrorResponse(Answer):
    """The body of every error answer."""

    error: ErrorDetail


class User(Answer):
    """A person who logs in; never with the password hash."""

    id: str = Field(examples=["user_01JD4Z6M3Q5Y7C9V2B4N6R8T0W"])
    email: str
    name: str
    role: Role
    company_id: str | None = Field(description="Null only for a superadmin.")
    customer_id: str | None = Field(description="The Customer a `customer` user books for.")
    active: bool
    created_at: UtcTimestamp


class TokenPair(Answer):
    """Tokens for an API client, from `POST /auth/login`."""

    access_token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    refresh_token: str = Field(description="Send as Bearer to `POST /auth/refresh`.")
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Seconds the access token stays valid.")
    user: User


class AccessToken(Answer):
    """A new access token, from `POST /auth/refresh`."""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Seconds the access token stays valid.")


class BoardSession(Answer):
    """The board's login: the tokens themselves travel in HttpOnly cookies, not here."""

    user: User
    expires_in: int = Field(description="Seconds the access cookie stays valid.")


class Company(Answer):
    """A tenant."""

    id: str = Field(examples=["comp_01JD4Z6M3Q5Y7C9V2B4N6R8T0W"])
    name: str
    timezone: str = Field(
        description="IANA time zone; bookings' dates and times are wall-clock times there.",
        examples=["Europe/London"],
    )
    created_at: UtcTimestamp


class Customer(Answer):
    """A household that books cleanings from one company."""

    id: str = Field(examples=["cust_01JD4Z6M3Q5Y7C9V2B4N6R8T0W"])
    company_id: str
    name: str
    email: str | None
    phone: str | None
    created_at: UtcTimestamp


class Service(Answer):
    """A kind of cleaning a company sells."""

    id: str = Field(examples=["serv_01JD4Z6M3Q5Y7C9V2B4N6R8T0W"])
    company_id: str
    name: str
    duration_minutes: int
    price_cents: int
    created_at: UtcTimestamp


class Staff(Answer):
    """A cleaner bookings can be assigned to."""

    id: str = Field(examples=["staff_01JD4Z6M3Q5Y7C9V2B4N6R8T0W"])
    company_id: str
    name: str
    user_id: str | None = Field(description="The user who logs in as this staff member.")
    created_at: UtcTimestamp


class Booking(Answer):
    """A cleaning scheduled for a customer."""

    booking_id: str = Field(description="A ULID.", examples=["01JD4Z6M3Q5Y7C9V2B4N6R8T0W"])
    booking_number: str = Field(examples=["BK-1001"])
    company_id: str
    customer_id: str
    service_id: str
    staff_id: str | None
    scheduled_date: date
    scheduled_time_start: ClockTime
    status: BookingStatus
    notes: str | None
    created_at: UtcTimestamp
    updated_at: UtcTimestamp


class Page(Answer, Generic[ItemT]):
    """One page of a list; pass `next_cursor` as `?cursor=` for the next one."""

    items: list[ItemT]
    next_cursor: str | None = Field(description="Null on the last page.")


class UserPage(Page[User]):
    """A page of users."""


class CompanyPage(Page[Company]):
    """A page of companies."""


class CustomerPage(Page[Customer]):
    """A page of customers."""


class ServicePage(Page[Service]):
    """A page of services."""


class StaffPage(Page[Staff]):
    """A page of staff members."""


class BookingPage(Page[Booking]):
    """A page of bookings, ordered by creation."""


class ConnectionEstablished(Answer):
    """The first frame of every stream: an unnamed message, so `onmessage` receives it."""

    type: Literal["connection_established"]
    message: Literal["Connected to SSE server"]


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
    scheduled_time_start: ClockTime
    status: BookingStatus
    created_at: str = Field(
        description="UTC, ISO 8601 with milliseconds and `Z`.",
        examples=["2026-11-26T14:30:00.123Z"],
    )
    company_id: str


class ServerShutdown(Answer):
    """The data of the `server_shutdown` frame, sent to every stream before the server stops."""

    message: Literal["Server shutting down"]


class Health(Answer):
    """The process is alive."""

    status: Literal["ok"]


class Readiness(Answer):
    """Every dependency answered."""

    status: Literal["ok"]
    checks: dict[str, str] = Field(examples=[{"database": "ok", "redis": "ok"}])
