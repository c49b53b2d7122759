"""Describe the request bodies the companies endpoints accept."""

from __future__ import annotations

from pydantic import Field

from everfresh.web.validation import RequestModel


class CreateCompanyRequest(RequestModel):
    """A new tenant for `POST /companies`."""

    name: str = Field(min_length=1, max_length=200)
