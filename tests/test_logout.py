"""Log out: `POST /auth/logout` revokes the access token and, if sent, the refresh token.

Revoked token ids live in the database, or in Redis when `REDIS_URL` is set, for the rest of
the token's lifetime; `flask prune` deletes the rows of tokens that have expired anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_refresh_token, decode_token
from werkzeug.test import TestResponse

from everfresh import create_app
from everfresh.auth.denylist import RedisDenylist, RevokedToken
from everfresh.extensions import db
from everfresh.timestamps import as_utc, utcnow
from tests.assertions import assert_error, invalid_fields
from tests.live import reset_to_demo
from tests.test_security_tokens import assert_unauthorized

DEMO_PASSWORD = "everfresh-demo"


def log_in(client: FlaskClient, email: str = "staff@everfresh.test") -> dict[str, Any]:
    """Log in through the API and return its answer."""
    response = client.post("/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 200
    return response.get_json()


def bearer(token: str) -> dict[str, str]:
    """Return the Authorization header carrying `token`."""
    return {"Authorization": f"Bearer {token}"}


def log_out(client: FlaskClient, access: str, body: dict[str, Any] | None = None) -> TestResponse:
    """Post to /auth/logout with `access` as Bearer and an optional JSON body."""
    return client.post("/auth/logout", headers=bearer(access), json=body)


def revoked_rows(app: Flask) -> list[tuple[str, Any]]:
    """Return (jti, expires_at) of every row of the database denylist."""
    with app.app_context():
        rows = db.session.execute(db.select(RevokedToken.jti, RevokedToken.expires_at)).all()
        return sorted((row.jti, as_utc(row.expires_at)) for row in rows)


def claims_of(app: Flask, token: str) -> dict[str, Any]:
    """Decode one of the app's tokens."""
    with app.app_context():
        return decode_token(token)


def test_logout_revokes_the_access_token_everywhere(client):
    tokens = log_in(client)

    response = log_out(client, tokens["access_token"])

    assert response.status_code == 204
    assert response.get_data() == b""
    assert_unauthorized(
        client.get("/auth/me", headers=bearer(tokens["access_token"])), "Token has been revoked."
    )
    assert_unauthorized(
        client.get("/sse/events", headers=bearer(tokens["access_token"])),
        "Token has been revoked.",
    )
    assert_unauthorized(log_out(client, tokens["access_token"]), "Token has been revoked.")


def test_logout_leaves_other_tokens_and_sessions_alone(client):
    first, second = log_in(client), log_in(client)

    log_out(client, first["access_token"])

    assert client.get("/auth/me", headers=bearer(second["access_token"])).status_code == 200
    # The refresh token was not sent, so it still mints access tokens.
    refreshed = client.post("/auth/refresh", headers=bearer(first["refresh_token"]))
    assert refreshed.status_code == 200


def test_logout_with_the_refresh_token_revokes_it_too(app, client):
    tokens = log_in(client)

    response = log_out(client, tokens["access_token"], {"refresh_token": tokens["refresh_token"]})

    assert response.status_code == 204
    assert_unauthorized(
        client.post("/auth/refresh", headers=bearer(tokens["refresh_token"])),
        "Token has been revoked.",
    )
    access, refresh = (claims_of(app, tokens[name]) for name in ("access_token", "refresh_token"))
    assert revoked_rows(app) == sorted(
        (claims["jti"], datetime.fromtimestamp(claims["exp"], UTC)) for claims in (access, refresh)
    )


@pytest.mark.parametrize(
    "which",
    ["garbage", "access-token", "another-users", "empty"],
)
def test_logout_refuses_a_refresh_token_that_is_not_the_callers(app, client, which):
    mine, theirs = log_in(client), log_in(client, "admin@everfresh.test")
    refresh_token = {
        "garbage": "not-a-token",
        "access-token": mine["access_token"],
        "another-users": theirs["refresh_token"],
        "empty": "",
    }[which]

    response = log_out(client, mine["access_token"], {"refresh_token": refresh_token})

    message = "String should have at least 1 character" if which == "empty" else None
    assert invalid_fields(response) == {"refresh_token": message or "Not a refresh token of yours."}
    # Nothing was revoked: neither the caller's token nor the one named.
    assert revoked_rows(app) == []
    assert client.get("/auth/me", headers=bearer(mine["access_token"])).status_code == 200


def test_logout_needs_an_access_token(client):
    tokens = log_in(client)

    assert_unauthorized(client.post("/auth/logout"), "Missing or malformed access token.")
    assert_unauthorized(log_out(client, tokens["refresh_token"]), "Invalid token.")


def test_logout_body_must_be_json_when_sent(client):
    tokens = log_in(client)

    response = client.post(
        "/auth/logout", headers=bearer(tokens["access_token"]), data="refresh_token=x"
    )

    assert_error(
        response,
        415,
        "Unsupported Media Type",
        "Did not attempt to load JSON data because the request Content-Type was not "
        "'application/json'.",
    )


def test_an_expired_refresh_token_is_accepted_but_not_stored(app, client):
    tokens = log_in(client)
    with app.app_context():
        expired = create_refresh_token(
            identity=claims_of(app, tokens["access_token"])["sub"],
            expires_delta=timedelta(seconds=-5),
        )

    response = log_out(client, tokens["access_token"], {"refresh_token": expired})

    assert response.status_code == 204
    assert [jti for jti, _ in revoked_rows(app)] == [claims_of(app, tokens["access_token"])["jti"]]


# --- flask prune ------------------------------------------------------------------------------


def test_prune_deletes_only_revocations_of_expired_tokens(app, runner):
    now = utcnow()
    with app.app_context():
        for jti, lifetime in (("gone-1", -60), ("gone-2", -1), ("kept", 60)):
            db.session.add(RevokedToken(jti=jti, expires_at=now + timedelta(seconds=lifetime)))
        db.session.commit()

    result = runner.invoke(args=["prune"])

    assert result.exit_code == 0, result.output
    assert result.output == "Pruned 0 events, 0 idempotency keys and 2 revoked tokens.\n"
    assert [jti for jti, _ in revoked_rows(app)] == ["kept"]


# --- Redis ------------------------------------------------------------------------------------


@pytest.fixture
def redis_app(database_url: str, redis_url: str, redis_prefix: str) -> Iterator[Flask]:
    """Create the app with Redis configured, over the demo data."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": redis_url,
            "REDIS_PREFIX": redis_prefix,
        },
        environment="testing",
    )
    with app.app_context():
        reset_to_demo()
    yield app
    keys = redis.Redis.from_url(redis_url)
    for key in keys.scan_iter(f"{redis_prefix}:*"):
        keys.delete(key)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_with_redis_revoked_tokens_are_keys_that_expire_with_the_token(
    redis_app, redis_url, redis_prefix
):
    client = redis_app.test_client()
    tokens = log_in(client)
    access = claims_of(redis_app, tokens["access_token"])
    refresh = claims_of(redis_app, tokens["refresh_token"])

    log_out(client, tokens["access_token"], {"refresh_token": tokens["refresh_token"]})

    keys = redis.Redis.from_url(redis_url)
    now = utcnow().timestamp()
    for claims in (access, refresh):
        key = f"{redis_prefix}:revoked-token:{claims['jti']}"
        assert keys.exists(key) == 1
        assert claims["exp"] - now - 2 <= keys.ttl(key) <= claims["exp"] - now + 1
    assert revoked_rows(redis_app) == []
    assert_unauthorized(
        client.get("/auth/me", headers=bearer(tokens["access_token"])), "Token has been revoked."
    )
    # Every worker shares the denylist: a second app on the same Redis refuses it too.
    other_worker = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": redis_app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": redis_url,
            "REDIS_PREFIX": redis_prefix,
        },
        environment="testing",
    )
    assert_unauthorized(
        other_worker.test_client().post("/auth/refresh", headers=bearer(tokens["refresh_token"])),
        "Token has been revoked.",
    )
    with other_worker.app_context():
        db.engine.dispose()


def test_while_redis_is_unreachable_access_works_but_refresh_and_logout_wait(app, client, caplog):
    tokens = log_in(client)
    # Nothing listens on port 9 (discard) of the loopback interface.
    app.extensions["everfresh.denylist"] = RedisDenylist("redis://127.0.0.1:9/0", "unreachable")

    me = client.get("/auth/me", headers=bearer(tokens["access_token"]))
    refreshed = client.post("/auth/refresh", headers=bearer(tokens["refresh_token"]))
    logged_out = log_out(client, tokens["access_token"])

    # Bookings and streams go on through an outage on short-lived access tokens.
    assert me.status_code == 200
    assert "Denylist unreachable; accepting access token unchecked" in caplog.text
    assert_error(
        refreshed, 503, "Service Unavailable", "Token checks are unavailable; try again shortly."
    )
    assert_error(
        logged_out, 503, "Service Unavailable", "Logging out is unavailable; try again shortly."
    )
