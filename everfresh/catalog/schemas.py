"""Describe what the catalogue endpoints accept and answer."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from everfresh.web.pagination import PageQuery
from everfresh.web.plain_text import multi_line, single_line
from everfresh.web.responses import Answer, Page, UtcTimestamp
from everfresh.web.validation import (
    EmailAddress,
    NotNull,
    RequestModel,
    UpdateRequest,
    WholeNumber,
)

Name = single_line(200)
Email = Annotated[EmailAddress, Field(max_length=254)]
Phone = Annotated[str, Field(min_length=3, max_length=40, pattern=r"^[0-9+()\-. ]+$")]
AddressLine = single_line(200)
City = single_line(100)
# Letters and digits, with spaces or hyphens between them: "SW1A 1AA", "10001-1234", "D02 X285".
Postcode = Annotated[
    str, Field(min_length=2, max_length=16, pattern=r"^[A-Za-z0-9]+(?:[ -][A-Za-z0-9]+)*$")
]
AccessNotes = multi_line(2000)
DurationMinutes = Annotated[WholeNumber, Field(gt=0, le=24 * 60)]
PriceCents = Annotated[WholeNumber, Field(ge=0, le=100_000_000)]
Active = Annotated[bool, Field(strict=True)]


class CatalogueQuery(PageQuery):
    """Paging for the catalogue lists, and whether deactivated rows are listed too."""

    include_inactive: bool = Field(
        default=False, description="List deactivated rows too (by default only active ones)."
    )


class CreateCustomerRequest(RequestModel):
    """A new customer for `POST /customers`."""

    name: Name
    email: Email | None = None
    phone: Phone | None = None
    address_line1: AddressLine | None = None
    address_line2: AddressLine | None = None
    city: City | None = None
    postcode: Postcode | None = None
    access_notes: AccessNotes | None = Field(
        default=None, description="How to get in: key safe, alarm, pets. Line breaks allowed."
    )
    company_id: str | None = None


class UpdateCustomerRequest(UpdateRequest):
    """Changes for `PATCH /customers/<id>`; only the fields sent change, null clears one."""

    name: Annotated[Name | None, NotNull] = None
    email: Email | None = None
    phone: Phone | None = None
    address_line1: AddressLine | None = None
    address_line2: AddressLine | None = None
    city: City | None = None
    postcode: Postcode | None = None
    access_notes: AccessNotes | None = None
    active: Annotated[Active | None, NotNull] = Field(
        default=None, description="False: no new bookings for the customer (admins only)."
    )


class CreateServiceRequest(RequestModel):
    """A new service for `POST /services`."""

    name: Name
    duration_minutes: DurationMinutes
    price_cents: PriceCents = Field(description="In the minor unit of the company's currency.")
    company_id: str | None = None


class UpdateServiceRequest(UpdateRequest):
    """Changes for `PATCH /services/<id>`; only the fields sent change."""

    name: Annotated[Name | None, NotNull] = None
    duration_minutes: Annotated[DurationMinutes | None, NotNull] = Field(
        default=None,
        description="A longer service may not make a staff member's coming bookings overlap.",
    )
    price_cents: Annotated[PriceCents | None, NotNull] = None
    active: Annotated[Active | None, NotNull] = Field(
        default=None, description="False: the service can no longer be booked."
    )


class CreateStaffRequest(RequestModel):
    """A new staff member for `POST /staff`."""

    name: Name
    company_id: str | None = None


class UpdateStaffRequest(UpdateRequest):
    """Changes for `PATCH /staff/<id>`; only the fields sent change."""

    name: Annotated[Name | None, NotNull] = None
    active: Annotated[Active | None, NotNull] = Field(
        default=None, description="False: no new bookings for the staff member."
    )


class Customer(Answer):
    """A household that books cleanings from one company."""

    id: str = Field(examples=["cust_01JD4Z6M3Q5Y7C9V2B4N6R8T0W"])
    company_id: str
    name: str
    email: str | None
    phone: str | None
    address_line1: str | None = Field(examples=["Flat 3"])
    address_line2: str | None = Field(examples=["14 Elm Grove"])
    city: str | None = Field(examples=["London"])
    postcode: str | None = Field(examples=["N1 7GU"])
    access_notes: str | None = Field(
        description="How to get in (key safe, alarm, pets): for the company's staff and admins "
        "and the customer themselves.",
        examples=["Key safe by the door, code 4821. Friendly cat, keep the kitchen door shut."],
    )
    active: bool = Field(description="False: deactivated, no new bookings.")
    created_at: UtcTimestamp


class Service(Answer):
    """A kind of cleaning a company sells."""

    id: str = Field(examples=["serv_01JD4Z6M3Q5Y7C9V2B4N6R8T0W"])
    company_id: str
    name: str
    duration_minutes: int
    price_cents: int = Field(
        description="The price in the minor unit of the company's `currency` (pence, cents)."
    )
    active: bool = Field(description="False: deactivated, no new bookings.")
    created_at: UtcTimestamp


class Staff(Answer):
    """A cleaner bookings can be assigned to."""

    id: str = Field(examples=["staff_01JD4Z6M3Q5Y7C9V2B4N6R8T0W"])
    company_id: str
    name: str
    user_id: str | None = Field(description="The user who logs in as this staff member.")
    active: bool = Field(description="False: deactivated, no new bookings.")
    created_at: UtcTimestamp


class CustomerPage(Page[Customer]):
    """A page of customers."""


class ServicePage(Page[Service]):
    """A page of services."""


class StaffPage(Page[Staff]):
    """A page of staff members."""
