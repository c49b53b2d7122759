"""Describe the request bodies the companies endpoints accept."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from everfresh.companies.timezones import DEFAULT_TIMEZONE, check_timezone
from everfresh.web.validation import NotNull, RequestModel, UpdateRequest

CompanyName = Annotated[str, Field(min_length=1, max_length=200)]
TimezoneName = Annotated[str, Field(max_length=64), AfterValidator(check_timezone)]


class CreateCompanyRequest(RequestModel):
    """A new tenant for `POST /companies`."""

    name: CompanyName
    timezone: TimezoneName = DEFAULT_TIMEZONE


class UpdateCompanyRequest(UpdateRequest):
    """Changes for `PATCH /companies/<id>`; only the fields sent are changed."""

    name: Annotated[CompanyName | None, NotNull] = None
    timezone: Annotated[TimezoneName | None, NotNull] = None
