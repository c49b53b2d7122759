"""Describe what the companies endpoints accept and answer."""

from __future__ import annotations

from pydantic import Field

from everfresh.web.responses import Answer, Page, UtcTimestamp
from everfresh.web.validation import RequestModel


class CreateCompanyRequest(RequestModel):
    """A new tenant for `POST /companies`."""

    name: str = Field(min_length=1, max_length=200)


class Company(Answer):
    """A tenant."""

    id: str = Field(examples=["comp_01JD4Z6M3Q5Y7C9V2B4N6R8T0W"])
    name: str
    created_at: UtcTimestamp


class CompanyPage(Page[Company]):
    """A page of companies."""
