"""Check CORS: the listed SPA origins may call the API and read the stream; nobody else may."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from everfresh import create_app
from everfresh.extensions import db
from everfresh.sse.frames import connection_established_frame
from tests.live import prepare_database

SPA = "https://spa.everfresh.test"
ELSEWHERE = "https://evil.example"
ALLOWED_HEADERS = ["Authorization", "Content-Type", "Last-Event-ID", "Idempotency-Key"]


@pytest.fixture
def cors_app(tmp_path) -> Iterator[Flask]:
    """Create the app with one SPA origin listed, on a fresh demo database."""
    database_url = f"sqlite:///{tmp_path / 'cors.sqlite3'}"
    prepare_database(database_url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "CORS_ORIGINS": [SPA]})
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def spa(cors_app: Flask) -> FlaskClient:
    """Return a client of the app that lists the SPA origin."""
    return cors_app.test_client()


def bearer(client: FlaskClient) -> dict[str, str]:
    answer = client.post(
        "/auth/login", json={"email": "staff@everfresh.test", "password": "everfresh-demo"}
    )
    return {"Authorization": f"Bearer {answer.json['access_token']}"}


def preflight(client: FlaskClient, path: str, method: str, origin: str, headers: list[str]):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": ", ".join(headers),
        },
    )


def cors_headers(response) -> list[str]:
    return [name for name in response.headers.keys() if name.startswith("Access-Control-")]


def allowed_headers(response) -> set[str]:
    raw = response.headers.get("Access-Control-Allow-Headers", "")
    return {name.strip().lower() for name in raw.split(",") if name.strip()}


@pytest.mark.parametrize(
    ("path", "method"), [("/sse/events", "GET"), ("/bookings", "POST"), ("/auth/login", "POST")]
)
def test_preflight_from_a_listed_origin_allows_the_api_headers(spa, path, method):
    response = preflight(spa, path, method, SPA, ALLOWED_HEADERS)

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SPA
    assert allowed_headers(response) == {name.lower() for name in ALLOWED_HEADERS}
    assert method in response.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_preflight_does_not_allow_headers_outside_the_list(spa):
    response = preflight(spa, "/bookings", "POST", SPA, ["Authorization", "X-Debug"])

    assert allowed_headers(response) == {"authorization"}


def test_preflight_from_an_unlisted_origin_gets_no_cors_headers(spa):
    response = preflight(spa, "/sse/events", "GET", ELSEWHERE, ["Authorization"])

    assert not cors_headers(response)


def test_the_stream_is_readable_from_a_listed_origin(spa):
    headers = {**bearer(spa), "Origin": SPA, "Accept": "text/event-stream"}

    response = spa.get("/sse/events", headers=headers, buffered=False)

    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Access-Control-Allow-Origin"] == SPA
    assert next(iter(response.response)) == connection_established_frame(0)
    response.close()


def test_an_unlisted_origin_gets_no_cors_headers_on_the_stream(spa):
    headers = {**bearer(spa), "Origin": ELSEWHERE}

    response = spa.get("/sse/events", headers=headers, buffered=False)

    assert "Access-Control-Allow-Origin" not in response.headers
    response.close()


def test_errors_are_readable_from_a_listed_origin_with_their_headers_exposed(spa):
    response = spa.get("/auth/me", headers={"Origin": SPA})

    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == SPA
    exposed = response.headers["Access-Control-Expose-Headers"].lower()
    assert "retry-after" in exposed
    assert "www-authenticate" in exposed


def test_without_cors_origins_no_response_has_cors_headers(client):
    answers = [
        preflight(client, "/sse/events", "GET", SPA, ["Authorization"]),
        client.get("/auth/me", headers={"Origin": SPA}),
    ]

    for response in answers:
        assert not cors_headers(response)
