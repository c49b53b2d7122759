"""Limit login attempts per client IP and per account, and account creation per admin.

Every login limit counts every attempt, successful or not, on `POST /auth/login`,
`POST /auth/session` and `POST /auth/password` together (a password change checks the
current password, so it is one more way to guess it). An account gets a few attempts a
minute from each address, and a much higher ceiling from all addresses together: a stranger
who guesses wrong from one address rests only that address's attempts, never the owner's
from another. The creation limit counts every `POST /users` of one admin, so that probing
which emails are taken is slow. The counts live in Redis when `REDIS_URL` is set (shared by
every worker), in each worker's memory otherwise.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, current_app, request
from flask_jwt_extended import current_user, get_jwt_identity
from flask_limiter import RateLimitExceeded
from limits import parse_many
from werkzeug.exceptions import HTTPException, TooManyRequests

from config import SettingsError
from everfresh.errors import handle_http_exception
from everfresh.extensions import limiter
from everfresh.metrics import count_login
from everfresh.redis_clients import limits_storage_uri

ViewT = TypeVar("ViewT", bound=Callable[..., object])

LIMIT_SETTINGS = (
    "LOGIN_RATE_LIMIT_PER_IP",
    "LOGIN_RATE_LIMIT_PER_ACCOUNT_AND_IP",
    "LOGIN_RATE_LIMIT_PER_ACCOUNT",
    "ACCOUNT_CREATION_RATE_LIMIT",
)
# The views `limit_login_attempts` guards, whose refusals count as rate-limited logins.
LOGIN_ENDPOINTS = frozenset({"auth.login", "auth.start_session"})
MESSAGE = "Too many login attempts. Try again later."
ACCOUNT_CREATION_MESSAGE = "Too many accounts created. Try again later."


def client_ip_key() -> str:
    """Return the bucket of the caller's IP: the socket's, or the proxy's word (PROXY_FIX_X_FOR)."""
    return request.remote_addr or "unknown"


def account_key() -> str:
    """Return the bucket of the email being logged into, or "" (not limited) if there is none."""
    try:
        body = request.get_json(silent=True)
    except HTTPException:
        # A body over MAX_CONTENT_LENGTH: the view answers 413. Raising here would make the
        # limiter take it for a storage outage and fall back to memory.
        return ""
    email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str) or not email.strip():
        return ""
    return _account_bucket(email)


def _account_bucket(email: str) -> str:
    # The login view strips and lower-cases the email too, so every spelling shares a bucket.
    # Hashed so keys stay short whatever is sent and Redis holds no addresses.
    normalised = email.strip().lower().encode("utf-8", "surrogatepass")
    return hashlib.sha256(normalised).hexdigest()


def caller_account_key() -> str:
    """Return the bucket of the authenticated caller's own account, as their logins count it."""
    return _account_bucket(current_user.email)


def account_and_ip_key() -> str:
    """Return the bucket of the account being logged into from the caller's IP, or "" if none."""
    account = account_key()
    return f"{account}:{client_ip_key()}" if account else ""


def caller_account_and_ip_key() -> str:
    """Return the bucket of the caller's own account from the caller's IP."""
    return f"{caller_account_key()}:{client_ip_key()}"


def limit_login_attempts(view: ViewT) -> ViewT:
    """Count a call of `view` against the caller's IP, the account, and the two together."""
    return _limit_password_guesses(view, account_key, account_and_ip_key)


def limit_password_attempts(view: ViewT) -> ViewT:
    """Count a call of `view` as a login to the caller's account (apply inside the role check)."""
    return _limit_password_guesses(view, caller_account_key, caller_account_and_ip_key)


def _limit_password_guesses(
    view: ViewT, account: Callable[[], str], account_and_ip: Callable[[], str]
) -> ViewT:
    # The same scopes and keys for every view that checks a password: they share the counts.
    per_account = limiter.shared_limit(
        lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ACCOUNT"],
        scope="login-account",
        key_func=account,
        error_message=MESSAGE,
    )
    per_account_and_ip = limiter.shared_limit(
        lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ACCOUNT_AND_IP"],
        scope="login-account-ip",
        key_func=account_and_ip,
        error_message=MESSAGE,
    )
    per_ip = limiter.shared_limit(
        lambda: current_app.config["LOGIN_RATE_LIMIT_PER_IP"],
        scope="login-ip",
        key_func=client_ip_key,
        error_message=MESSAGE,
    )
    return per_ip(per_account_and_ip(per_account(view)))


def caller_key() -> str:
    """Return the bucket of the authenticated caller; the view must have verified the token."""
    return str(get_jwt_identity())


def limit_account_creation(view: ViewT) -> ViewT:
    """Count every call of `view` against the calling admin (apply inside the role check)."""
    return limiter.shared_limit(
        lambda: current_app.config["ACCOUNT_CREATION_RATE_LIMIT"],
        scope="account-creation",
        key_func=caller_key,
        error_message=ACCOUNT_CREATION_MESSAGE,
    )(view)


def too_many_attempts(error: RateLimitExceeded) -> Response:
    """Answer a breached limit with 429 and a Retry-After, in the one JSON error shape."""
    if request.endpoint in LOGIN_ENDPOINTS:
        count_login("rate_limited")
    breached = limiter.current_limit
    wait = breached.reset_at - time.time() if breached is not None else 60
    return handle_http_exception(
        TooManyRequests(error.description, retry_after=max(1, math.ceil(wait)))
    )


def init_app(app: Flask) -> None:
    """Check the limit settings and count attempts in Redis when there is one, else in memory."""
    for name in LIMIT_SETTINGS:
        try:
            parse_many(app.config[name])
        except ValueError:
            raise SettingsError(
                f'{name} must be a rate such as "5/minute" or "100/hour", got {app.config[name]!r}'
            ) from None
    redis_url, cluster = app.config["REDIS_URL"], app.config["REDIS_CLUSTER"]
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI",
        limits_storage_uri(redis_url, cluster) if redis_url else "memory://",
    )
    if redis_url:
        # Short timeouts: during an outage logins fall back to memory, they do not hang.
        # Each limit is one key (a moving window), so a cluster needs no shared slot.
        options = {
            "key_prefix": f"{app.config['REDIS_PREFIX']}:login-limits",
            "socket_connect_timeout": 1,
            "socket_timeout": 1,
        }
        if cluster and redis_url.startswith("rediss://"):
            options["ssl"] = True
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", options)
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, too_many_attempts)
