"""Describe what the companies endpoints accept and answer."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, WithJsonSchema

from everfresh.companies.currencies import DEFAULT_CURRENCY, check_currency, known_currencies
from everfresh.companies.timezones import DEFAULT_TIMEZONE, check_timezone, known_timezones
from everfresh.web.responses import Answer, Page, UtcTimestamp
from everfresh.web.validation import NotNull, RequestModel, UpdateRequest

CompanyName = Annotated[str, Field(min_length=1, max_length=200)]
TimezoneName = Annotated[
    str,
    Field(max_length=64),
    AfterValidator(check_timezone),
    WithJsonSchema({"type": "string", "enum": sorted(known_timezones())}),
]
CurrencyCode = Annotated[
    str,
    Field(max_length=3),
    AfterValidator(check_currency),
    WithJsonSchema({"type": "string", "enum": sorted(known_currencies())}),
]


class CreateCompanyRequest(RequestModel):
    """A new tenant for `POST /companies`."""

    name: CompanyName
    timezone: TimezoneName = DEFAULT_TIMEZONE
    currency: CurrencyCode = DEFAULT_CURRENCY


class UpdateCompanyRequest(UpdateRequest):
    """Changes for `PATCH /companies/<id>`; only the fields sent are changed."""

    name: Annotated[CompanyName | None, NotNull] = None
    timezone: Annotated[TimezoneName | None, NotNull] = None
    currency: Annotated[CurrencyCode | None, NotNull] = None


class Company(Answer):
    """A tenant."""

    id: str = Field(examples=["comp_01JD4Z6M3Q5Y7C9V2B4N6R8T0W"])
    name: str
    timezone: str = Field(
        description="IANA time zone: bookings' dates and times are wall-clock times there.",
        examples=["Europe/London"],
    )
    currency: str = Field(
        description="ISO 4217 code: services' `price_cents` are in its minor unit.",
        examples=["GBP"],
    )
    created_at: UtcTimestamp


class CompanyPage(Page[Company]):
    """A page of companies."""
