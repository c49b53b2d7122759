"""Describe the request bodies the login and logout endpoints accept."""

from __future__ import annotations

from pydantic import Field

from everfresh.web.validation import RequestModel


class LoginRequest(RequestModel):
    """Credentials for `POST /auth/login`."""

    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class LogoutRequest(RequestModel):
    """The optional body of `POST /auth/logout`: a refresh token to revoke as well."""

    refresh_token: str | None = Field(default=None, min_length=1, max_length=4096)
