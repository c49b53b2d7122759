"""Refuse bad tokens on the event stream as on REST, and keep `?token=` to the stream and off logs.

tests/test_auth.py holds every malformed, forged and expired token against `GET /auth/me`;
here the same tokens go to `GET /sse/events`, and the kinds it does not cover go to both.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import jwt as pyjwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token, decode_token
from werkzeug.test import TestResponse

from everfresh.auth.models import User
from everfresh.extensions import db
from everfresh.sse.frames import connection_established_frame
from tests import test_auth
from tests.assertions import assert_error
from tests.test_auth import BAD_TOKENS

# The bad-token factory and user loader of tests/test_auth.py, as fixtures of this module too.
forge = test_auth.forge
user_row = test_auth.user_row


def assert_unauthorized(response: TestResponse, message: str) -> None:
    """Check a 401 in the JSON error shape that tells the client how to authenticate."""
    assert_error(response, 401, "Unauthorized", message)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="everfresh"'


# Routes that read a token: REST reads and writes, and the stream.
TOKEN_ROUTES = [
    ("GET", "/auth/me"),
    ("GET", "/bookings"),
    ("POST", "/bookings"),
    ("GET", "/sse/events"),
]


def open_route(
    client: FlaskClient, method: str, path: str, headers: dict[str, str]
) -> TestResponse:
    """Send a request that might open a stream, without waiting for the stream to end."""
    body = {} if method == "POST" else None
    return client.open(path, method=method, headers=headers, json=body, buffered=False)


@pytest.mark.parametrize(("kind", "message"), BAD_TOKENS, ids=[kind for kind, _ in BAD_TOKENS])
def test_bad_token_on_the_stream_is_401_json(client, forge, kind, message):
    response = client.get("/sse/events", headers=forge(kind))

    assert_unauthorized(response, message)
    assert response.mimetype == "application/json"


@pytest.fixture
def bad_access_token(app: Flask, user_row) -> Callable[[str], str]:
    """Return a function making the kinds of bad access token tests/test_auth.py leaves out."""
    admin = user_row("admin@everfresh.test")
    claims = {"role": "admin", "company_id": admin.company_id}

    def make(kind: str) -> str:
        with app.app_context():
            good = decode_token(create_access_token(identity=admin.id, additional_claims=claims))
            key = app.config["JWT_SECRET_KEY"]
            without = {name: value for name, value in good.items() if name != kind[len("no-") :]}
            return {
                "not-yet-valid": lambda: pyjwt.encode(
                    {**good, "nbf": int(time.time()) + 300}, key, "HS256"
                ),
                "issued-in-the-future": lambda: pyjwt.encode(
                    {**good, "iat": int(time.time()) + 300}, key, "HS256"
                ),
                "other-hmac-algorithm": lambda: pyjwt.encode(good, key, "HS384"),
                "no-exp": lambda: pyjwt.encode(without, key, "HS256"),
                "no-jti": lambda: pyjwt.encode(without, key, "HS256"),
            }[kind]()

    return make


MORE_BAD_TOKENS = [
    "not-yet-valid",
    "issued-in-the-future",
    "other-hmac-algorithm",
    "no-exp",
    "no-jti",
]


@pytest.mark.parametrize("kind", MORE_BAD_TOKENS)
@pytest.mark.parametrize(("method", "path"), TOKEN_ROUTES)
def test_more_bad_tokens_are_401_json_on_rest_and_stream(
    client, bad_access_token, kind, method, path
):
    headers = {"Authorization": f"Bearer {bad_access_token(kind)}"}

    response = open_route(client, method, path, headers)

    assert_unauthorized(response, "Invalid token.")


@pytest.mark.parametrize(("method", "path"), TOKEN_ROUTES)
def test_a_deactivated_users_token_is_401_on_rest_and_stream(app, client, login_as, method, path):
    headers = login_as("admin")
    with app.app_context():
        user = db.session.scalars(db.select(User).where(User.email == "admin@everfresh.test")).one()
        user.active = False
        db.session.commit()

    response = open_route(client, method, path, headers)

    assert_unauthorized(response, "The token's user is unknown or deactivated.")


@pytest.mark.parametrize(("method", "path"), TOKEN_ROUTES)
def test_a_refresh_token_is_not_an_access_token_on_rest_or_stream(client, method, path):
    login = client.post(
        "/auth/login", json={"email": "admin@everfresh.test", "password": "everfresh-demo"}
    )
    headers = {"Authorization": f"Bearer {login.get_json()['refresh_token']}"}

    response = open_route(client, method, path, headers)

    assert_unauthorized(response, "Invalid token.")


# --- `?token=` ------------------------------------------------------------------------------


def _token(app: Flask, email: str) -> str:
    with app.app_context():
        user = db.session.scalars(db.select(User).where(User.email == email)).one()
        return create_access_token(
            identity=user.id,
            additional_claims={"role": str(user.role), "company_id": user.company_id},
        )


def test_query_token_opens_the_stream_when_enabled(app, client):
    app.config["SSE_QUERY_TOKEN"] = True
    token = _token(app, "staff@everfresh.test")

    response = client.get(f"/sse/events?token={token}", buffered=False)

    assert response.status_code == 200
    assert next(iter(response.response)).startswith(connection_established_frame(0))
    response.close()


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/auth/me"), ("GET", "/bookings"), ("POST", "/bookings"), ("GET", "/users")],
)
def test_rest_routes_ignore_a_query_token_even_when_enabled(app, client, method, path):
    app.config["SSE_QUERY_TOKEN"] = True
    token = _token(app, "admin@everfresh.test")

    response = open_route(client, method, f"{path}?token={token}", {})

    assert_unauthorized(response, "Missing or malformed access token.")


def test_query_token_is_refused_on_the_stream_by_default(app, client):
    token = _token(app, "staff@everfresh.test")

    response = client.get(f"/sse/events?token={token}")

    assert_unauthorized(response, "Missing or malformed access token.")


@pytest.mark.live
def test_a_query_token_never_reaches_the_access_log_or_server_log(live_server, tmp_path: Path):
    access_log = tmp_path / "access.log"
    server = live_server(SSE_QUERY_TOKEN="true", ACCESS_LOG=str(access_log), LOG_LEVEL="debug")
    token = server.login("admin@everfresh.test")
    refresh = server.request(
        "POST", "/auth/login", {"email": "staff@everfresh.test", "password": "everfresh-demo"}
    ).body["refresh_token"]

    with server.stream(path=f"/sse/events?token={token}&lastEventId=0") as stream:
        assert stream.status == 200
        assert stream.next_frame(timeout=5).data is not None
        server.create_booking(token)
        assert stream.next_event(timeout=5).event == "booking_created"
    answers = [
        server.request("GET", f"/auth/me?token={token}").status,
        server.request("GET", f"/bookings?token={token}", token=token).status,
        server.request("GET", f"/nowhere?token={token}").status,
        server.request("POST", f"/auth/refresh?token={refresh}").status,
        server.request("GET", f"/sse/events?token={token}x").status,
    ]
    server.signal(signal.SIGTERM)
    server.wait(timeout=15)

    assert answers == [401, 200, 404, 401, 401]
    logged = access_log.read_text()
    assert logged.count('"GET /sse/events HTTP/1.1" 200') == 1
    assert logged.count('"GET /bookings HTTP/1.1" 200') == 1
    for secret in (token, refresh, token.split(".")[2], refresh.split(".")[2]):
        assert secret not in logged
        assert secret not in server.log()
