"""Describe what the user-management endpoints accept and answer."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo

from everfresh.auth.models import Role
from everfresh.auth.passwords import password_problem, words_of
from everfresh.auth.schemas import User
from everfresh.web.display_names import DisplayName
from everfresh.web.responses import Answer, Page
from everfresh.web.validation import (
    EmailAddress,
    NotNull,
    Password,
    RequestModel,
    UpdateRequest,
)


class UpdateUserRequest(UpdateRequest):
    """Changes for `PATCH /users/<id>`; only the fields sent are changed."""

    name: Annotated[DisplayName | None, NotNull] = None
    role: Annotated[Role | None, NotNull] = None
    active: Annotated[Annotated[bool, Field(strict=True)] | None, NotNull] = None


def _acceptable_password(password: str, info: ValidationInfo) -> str:
    # The email and name come first, so the guesser's words include them once they are valid.
    problem = password_problem(password, words_of(info.data.get("email"), info.data.get("name")))
    if problem is not None:
        raise ValueError(problem)
    return password


class CreateUserRequest(RequestModel):
    """A new account for `POST /users`."""

    email: EmailAddress = Field(max_length=254)
    name: DisplayName
    password: Annotated[Password, AfterValidator(_acceptable_password)] = Field(
        min_length=1,
        max_length=1024,
        description="At least 12 characters, and not easy to guess (judged by zxcvbn).",
    )
    role: Role
    company_id: str | None = None
    customer_id: str | None = None
    staff_id: str | None = None


class UserPage(Page[User]):
    """A page of users."""


class PasswordReset(Answer):
    """A reset's one-time password, for the admin to hand to the user."""

    temporary_password: str = Field(
        description="Valid until the user chooses a new password, which they must do "
        "(`POST /auth/password`) before anything else."
    )
