"""Describe what the catalogue endpoints accept and answer."""

from __future__ import annotations

from pydantic import Field

from everfresh.web.responses import Answer, Page, UtcTimestamp
from everfresh.web.validation import EmailAddress, RequestModel, WholeNumber


class CreateCustomerRequest(RequestModel):
    """A new customer for `POST /customers`."""

    name: str = Field(min_length=1, max_length=200)
    email: EmailAddress | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, min_length=3, max_length=40, pattern=r"^[0-9+()\-. ]+$")
    company_id: str | None = None


class CreateServiceRequest(RequestModel):
    """A new service for `POST /services`."""

    name: str = Field(min_length=1, max_length=200)
    duration_minutes: WholeNumber = Field(gt=0, le=24 * 60)
    price_cents: WholeNumber = Field(ge=0, le=100_000_000)
    company_id: str | None = None


class CreateStaffRequest(RequestModel):
    """A new staff member for `POST /staff`."""

    name: str = Field(min_length=1, max_length=200)
    company_id: str | None = None


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


class CustomerPage(Page[Customer]):
    """A page of customers."""


class ServicePage(Page[Service]):
    """A page of services."""


class StaffPage(Page[Staff]):
    """A page of staff members."""
