"""Log users in and out, refresh their tokens, and let them change their password."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, request
from flask_jwt_extended import (
    decode_token,
    get_jwt,
    get_jwt_request_location,
    jwt_required,
    unset_jwt_cookies,
)
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import PyJWTError

from everfresh.auth import schemas
from everfresh.auth.access import ANY_ROLE, caller
from everfresh.auth.denylist import revoke
from everfresh.auth.models import User
from everfresh.auth.passwords import (
    hash_password,
    require_acceptable_password,
    verify_password,
    words_of,
)
from everfresh.auth.ratelimits import limit_login_attempts, limit_password_attempts
from everfresh.auth.tokens import issue_access_token, issue_tokens, session_response
from everfresh.errors import ValidationFailed
from everfresh.extensions import db
from everfresh.metrics import count_login
from everfresh.web.endpoints import PUBLIC, Parameter, endpoint
from everfresh.web.responses import serialise
from everfresh.web.validation import parse_body

bp = Blueprint("auth", __name__)


def authenticate(credentials: schemas.LoginRequest) -> User:
    """Return the active user these credentials belong to, or fail with 401."""
    user = db.session.scalars(
        db.select(User).where(User.email == credentials.email.lower())
    ).one_or_none()
    password_hash = user.password_hash if user is not None else None
    # Give the connection back before the slow hash check, so other requests can use it.
    db.session.rollback()
    if not verify_password(password_hash, credentials.password) or not user.active:
        count_login("bad_credentials")
        abort(401, "Invalid email or password.")
    count_login("success")
    return user


@bp.post("/auth/login")
@endpoint("Auth", body=schemas.LoginRequest, response=schemas.TokenPair, errors=(401, 429))
@limit_login_attempts
def login():
    """Exchange an email and password for an access and a refresh token."""
    user = authenticate(parse_body(schemas.LoginRequest))
    return serialise(schemas.TokenPair, {**issue_tokens(user), "user": user})


@bp.post("/auth/session")
@endpoint(
    "Board session",
    body=schemas.LoginRequest,
    response=schemas.BoardSession,
    errors=(401, 429),
    description=(
        "Sets the HttpOnly `access_token_cookie` and `refresh_token_cookie`, plus the "
        "readable `csrf_access_token` and `csrf_refresh_token` whose values unsafe "
        "requests authenticated by cookie must send back in `X-CSRF-TOKEN`."
    ),
)
@limit_login_attempts
def start_session():
    """Log the board in: check the password and keep the tokens in HttpOnly cookies."""
    return session_response(authenticate(parse_body(schemas.LoginRequest)))


@bp.post("/auth/session/refresh")
@endpoint(
    "Board session",
    response=schemas.BoardSession,
    security=("refreshCookie",),
    parameters=(
        Parameter(
            "X-CSRF-TOKEN",
            "header",
            "The value of the `csrf_refresh_token` cookie.",
            required=True,
        ),
    ),
)
@jwt_required(refresh=True, locations=["cookies"])
def refresh_session():
    """Renew the board's access cookie with its refresh cookie (CSRF header required)."""
    return session_response(caller(), refresh=False)


@bp.delete("/auth/session")
@endpoint(
    "Board session",
    status=204,
    response_description="The cookies' tokens are revoked and the cookies cleared.",
    security=PUBLIC,
)
def end_session():
    """Log the board out: revoke the tokens in its cookies and clear them; this always works."""
    # No CSRF check: a forged request could only log the board out, never act as it.
    for setting in ("JWT_ACCESS_COOKIE_NAME", "JWT_REFRESH_COOKIE_NAME"):
        token = request.cookies.get(current_app.config[setting])
        try:
            claims = decode_token(token, allow_expired=True) if token else None
        except (PyJWTError, JWTExtendedException):
            claims = None
        if claims is not None:
            revoke(claims)
    db.session.commit()
    response = Response(status=204)
    unset_jwt_cookies(response)
    return response


@bp.post("/auth/refresh")
@endpoint(
    "Auth",
    response=schemas.AccessToken,
    security=("refreshBearer",),
    description="Send the refresh token, not the access token, as the Bearer token.",
)
@jwt_required(refresh=True)
def refresh():
    """Exchange a refresh token for a new access token."""
    return serialise(schemas.AccessToken, issue_access_token(caller()))


@bp.get("/auth/me")
@endpoint("Auth", roles=ANY_ROLE, before_password_change=True, response=schemas.User)
def me():
    """Return the authenticated user."""
    return serialise(schemas.User, caller())


def _own_refresh_token(token: str) -> dict[str, Any]:
    # Only a genuine refresh token of the caller's may be revoked by their logout.
    try:
        claims = decode_token(token, allow_expired=True)
    except (PyJWTError, JWTExtendedException):
        claims = {}
    if claims.get("type") != "refresh" or claims.get("sub") != caller().id:
        raise ValidationFailed({"refresh_token": "Not a refresh token of yours."})
    return claims


@bp.post("/auth/logout")
@endpoint(
    "Auth",
    roles=ANY_ROLE,
    before_password_change=True,
    status=204,
    response_description="The tokens are revoked until they expire.",
    body=schemas.LogoutRequest,
    body_required=False,
)
def logout():
    """Revoke the access token presented and, if the body holds one, the caller's refresh token."""
    refresh_token = parse_body(schemas.LogoutRequest).refresh_token if request.get_data() else None
    if refresh_token is not None:
        revoke(_own_refresh_token(refresh_token))
    revoke(get_jwt())
    db.session.commit()
    return Response(status=204)


@bp.post("/auth/password")
@endpoint(
    "Auth",
    roles=ANY_ROLE,
    before_password_change=True,
    body=schemas.ChangePasswordRequest,
    response=schemas.NewSession,
    errors=(403, 429),
    description=(
        "Every token issued to the caller before ends (their other devices and open streams "
        "included); the answer carries the caller's new session: a token pair for a Bearer "
        "caller, new HttpOnly cookies (and the `BoardSession` answer) for the board, whose "
        "unsafe requests send `X-CSRF-TOKEN`. A wrong `current_password` is 403 (the token "
        "is fine; the password is not) and counts as a login attempt."
    ),
)
@limit_password_attempts
def change_password():
    """Replace the caller's password; their other sessions end and theirs goes on, renewed."""
    fields = parse_body(schemas.ChangePasswordRequest)
    user = caller()
    password_hash, known_words = user.password_hash, words_of(user.email, user.name)
    # Give the connection back before the slow hash check, so other requests can use it.
    db.session.rollback()
    if not verify_password(password_hash, fields.current_password):
        abort(403, "The current password is wrong.")
    if fields.new_password == fields.current_password:
        raise ValidationFailed({"new_password": "Choose a password other than the current one."})
    require_acceptable_password(
        fields.new_password, "new_password", [*known_words, fields.current_password]
    )
    user.set_password_hash(hash_password(fields.new_password))
    db.session.commit()
    if get_jwt_request_location() == "cookies":
        return session_response(user)
    return serialise(schemas.TokenPair, {**issue_tokens(user), "user": user})
