"""Describe what the login, logout and password endpoints accept, and the users and tokens."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, RootModel

from everfresh.auth.models import Role
from everfresh.web.responses import Answer, UtcTimestamp
from everfresh.web.validation import Password, RequestModel


class LoginRequest(RequestModel):
    """Credentials for `POST /auth/login`."""

    email: str = Field(min_length=1, max_length=254)
    password: Password = Field(min_length=1, max_length=1024)


class LogoutRequest(RequestModel):
    """The optional body of `POST /auth/logout`: a refresh token to revoke as well."""

    refresh_token: str | None = Field(default=None, min_length=1, max_length=4096)


class ChangePasswordRequest(RequestModel):
    """The caller's current password and the new one, for `POST /auth/password`."""

    current_password: Password = Field(min_length=1, max_length=1024)
    new_password: Password = Field(
        min_length=1,
        max_length=1024,
        description="At least 12 characters, and not easy to guess (judged by zxcvbn).",
    )


class User(Answer):
    """A person who logs in; never with the password hash."""

    id: str = Field(examples=["user_01JD4Z6M3Q5Y7C9V2B4N6R8T0W"])
    email: str
    name: str
    role: Role
    company_id: str | None = Field(description="Null only for a superadmin.")
    customer_id: str | None = Field(description="The Customer a `customer` user books for.")
    active: bool
    must_change_password: bool = Field(
        description="The password was reset: every call but `GET /auth/me`, "
        "`POST /auth/password`, refreshing and logging out is refused until a new one is chosen."
    )
    created_at: UtcTimestamp


class AccessToken(Answer):
    """A new access token, from `POST /auth/refresh`."""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Seconds the access token stays valid.")


class TokenPair(Answer):
    """Tokens for an API client, from `POST /auth/login`."""

    access_token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    refresh_token: str = Field(description="Send as Bearer to `POST /auth/refresh`.")
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Seconds the access token stays valid.")
    user: User


class BoardSession(Answer):
    """The board's login: the tokens themselves travel in HttpOnly cookies, not here."""

    user: User
    expires_in: int = Field(description="Seconds the access cookie stays valid.")


class NewSession(RootModel[TokenPair | BoardSession]):
    """The caller's session after a password change: new tokens, or new cookies for the board.

    A caller authenticated by Bearer token gets a new token pair; the board, authenticated
    by cookie, gets new HttpOnly cookies and the `BoardSession` answer.
    """
