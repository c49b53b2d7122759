"""Issue JWTs and make every token problem a 401 in the one JSON error shape."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Response, current_app, jsonify
from flask_jwt_extended import (
    create_access_token,
    create_refresh_token,
    set_access_cookies,
    set_refresh_cookies,
)
from sqlalchemy import bindparam, select

from everfresh.auth.connect_checks import checked_user
from everfresh.auth.models import User, issued_before_sessions_ended
from everfresh.auth.schemas import BoardSession
from everfresh.errors import error_response
from everfresh.extensions import db, jwt
from everfresh.web.responses import serialise

REQUIRED_ACCESS_CLAIMS = ("sub", "role", "company_id", "exp", "jti", "type")


def _lifetime_claims(setting: str) -> dict[str, float]:
    # A sub-second `iat` (a JWT NumericDate may be fractional): a token issued just after its
    # user's sessions were ended must not share their whole second and be refused with them.
    # `exp` follows from the same instant, so `exp - iat` is exactly the lifetime.
    issued_at = time.time()
    return {
        "iat": issued_at,
        "exp": issued_at + current_app.config[setting].total_seconds(),
    }


def issue_refresh_token(user: User) -> str:
    """Return a fresh refresh token for `user`."""
    return create_refresh_token(
        identity=user.id, additional_claims=_lifetime_claims("JWT_REFRESH_TOKEN_EXPIRES")
    )


def issue_tokens(user: User) -> dict[str, Any]:
    """Return a fresh access and refresh token pair for `user`, as the login endpoint answers."""
    return {**issue_access_token(user), "refresh_token": issue_refresh_token(user)}


def issue_access_token(user: User) -> dict[str, Any]:
    """Return a fresh access token for `user` with its type and lifetime."""
    lifetime = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    token = create_access_token(
        identity=user.id,
        additional_claims={
            "role": str(user.role),
            "company_id": user.company_id,
            **_lifetime_claims("JWT_ACCESS_TOKEN_EXPIRES"),
        },
    )
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": int(lifetime.total_seconds()),
    }


def session_response(user: User, refresh: bool = True) -> Response:
    """Answer with `user` and the access lifetime, putting the tokens in HttpOnly cookies.

    Page scripts cannot read the tokens; flask-jwt-extended adds the readable CSRF cookies
    that a cookie-authenticated unsafe request must echo in `X-CSRF-TOKEN`.
    """
    access = issue_access_token(user)
    response = jsonify(serialise(BoardSession, {"user": user, "expires_in": access["expires_in"]}))
    set_access_cookies(response, access["access_token"])
    if refresh:
        set_refresh_cookies(response, issue_refresh_token(user))
    return response


# Built once: every authenticated request runs it, and building and keying a fresh select
# (as `Session.get` does) costs about as much CPU as the round trip.
_USER_BY_ID = select(User).where(User.id == bindparam("user_id"))


def load_user(_header: dict[str, Any], claims: dict[str, Any]) -> User | None:
    """Load the token's user; a deleted or deactivated user, or ended sessions, void the token."""
    already_read, user = checked_user(claims["sub"])
    if not already_read:
        user = db.session.execute(_USER_BY_ID, {"user_id": claims["sub"]}).scalar_one_or_none()
    if user is None or not user.active or _session_ended(user, claims):
        return None
    return user


def _session_ended(user: User, claims: dict[str, Any]) -> bool:
    return issued_before_sessions_ended(user.sessions_valid_after, float(claims.get("iat", 0)))


def has_required_claims(_header: dict[str, Any], claims: dict[str, Any]) -> bool:
    """Refuse tokens that could not be revoked (no `jti`), and incomplete access tokens."""
    # flask-jwt-extended fills a missing `jti` with None rather than refusing the token.
    if not isinstance(claims.get("jti"), str):
        return False
    if claims.get("type") != "access":
        return True
    return all(name in claims for name in REQUIRED_ACCESS_CLAIMS)


def missing_token(reason: str) -> Response:
    """Answer a request without a usable token."""
    return error_response(401, "Missing or malformed access token.")


def invalid_token(reason: str) -> Response:
    """Answer a token that fails to decode or verify, or is of the wrong type."""
    return error_response(401, "Invalid token.")


def expired_token(_header: dict[str, Any], _claims: dict[str, Any]) -> Response:
    """Answer an expired token."""
    return error_response(401, "Token has expired.")


def revoked_token(_header: dict[str, Any], _claims: dict[str, Any]) -> Response:
    """Answer a token that has been revoked."""
    return error_response(401, "Token has been revoked.")


def unknown_user(_header: dict[str, Any], claims: dict[str, Any]) -> Response:
    """Answer a token whose user no longer exists or is deactivated, or whose session ended."""
    # The identity map still holds the user `load_user` read: this costs no query.
    user = db.session.get(User, claims["sub"])
    if user is not None and user.active:
        return error_response(401, "The session of this token has been ended.")
    return error_response(401, "The token's user is unknown or deactivated.")


def claims_missing(_header: dict[str, Any], _claims: dict[str, Any]) -> Response:
    """Answer a token missing the claims access control needs."""
    return error_response(401, "Invalid token.")


def init_app(app: Flask) -> None:
    """Bind JWT checks to `app` and route every token problem to the one error shape."""
    jwt.init_app(app)
    jwt.user_lookup_loader(load_user)
    jwt.token_verification_loader(has_required_claims)
    jwt.unauthorized_loader(missing_token)
    jwt.invalid_token_loader(invalid_token)
    jwt.expired_token_loader(expired_token)
    jwt.revoked_token_loader(revoked_token)
    jwt.user_lookup_error_loader(unknown_user)
    jwt.token_verification_failed_loader(claims_missing)
