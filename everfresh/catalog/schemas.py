"""Describe the request bodies the catalogue endpoints accept."""

from __future__ import annotations

from pydantic import Field

from everfresh.web.validation import EmailAddress, RequestModel


class CreateCustomerRequest(RequestModel):
    """A new customer for `POST /customers`."""

    name: str = Field(min_length=1, max_length=200)
    email: EmailAddress | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, min_length=3, max_length=40, pattern=r"^[0-9+()\-. ]+$")
    company_id: str | None = None


class CreateServiceRequest(RequestModel):
    """A new service for `POST /services`."""

    name: str = Field(min_length=1, max_length=200)
    duration_minutes: int = Field(gt=0, le=24 * 60, strict=True)
    price_cents: int = Field(ge=0, le=100_000_000, strict=True)
    company_id: str | None = None


class CreateStaffRequest(RequestModel):
    """A new staff member for `POST /staff`."""

    name: str = Field(min_length=1, max_length=200)
    company_id: str | None = None
