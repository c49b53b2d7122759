"""Describe what the user-management endpoints accept and answer."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from everfresh.auth.models import Role
from everfresh.auth.schemas import User
from everfresh.web.responses import Page
from everfresh.web.validation import (
    EmailAddress,
    NotNull,
    Password,
    RequestModel,
    UpdateRequest,
)


class UpdateUserRequest(UpdateRequest):
    """Changes for `PATCH /users/<id>`; only the fields sent are changed."""

    name: Annotated[Annotated[str, Field(min_length=1, max_length=200)] | None, NotNull] = None
    role: Annotated[Role | None, NotNull] = None
    active: Annotated[Annotated[bool, Field(strict=True)] | None, NotNull] = None


class CreateUserRequest(RequestModel):
    """A new account for `POST /users`."""

    email: EmailAddress = Field(max_length=254)
    password: Password = Field(min_length=8, max_length=1024)
    name: str = Field(min_length=1, max_length=200)
    role: Role
    company_id: str | None = None
    customer_id: str | None = None
    staff_id: str | None = None


class UserPage(Page[User]):
    """A page of users."""
