"""Test that every failure leaves as one JSON error shape, keeping its headers, never a trace."""

from __future__ import annotations

import logging

import pytest
from flask import Flask, abort
from pydantic import EmailStr
from werkzeug.exceptions import InternalServerError, TooManyRequests

from everfresh.errors import ValidationFailed
from everfresh.web.validation import RequestModel, parse_body

SECRET_DETAIL = "connection to db-primary:5432 failed for user everfresh"


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    """Add throwaway routes that fail in each of the ways a view can fail."""

    @app.get("/_test/crash")
    def crash():
        raise RuntimeError(SECRET_DETAIL)

    @app.get("/_test/key-error")
    def key_error():
        return {}["missing"]

    @app.get("/_test/rate-limited")
    def rate_limited():
        raise TooManyRequests("Slow down.", retry_after=30)

    @app.get("/_test/not-found")
    def not_found():
        abort(404, "Widget not found.")

    @app.get("/_test/invalid")
    def invalid():
        raise ValidationFailed({"size": "Too big."})

    class Contact(RequestModel):
        email: EmailStr

    @app.post("/_test/contact")
    def contact():
        return {"email": parse_body(Contact).email}

    return app


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nope"), ("POST", "/does/not/exist"), ("GET", "/bookings/a/b"), ("GET", "/users/")],
)
def test_unknown_route_is_404_json(client, method, path):
    response = client.open(path, method=method)

    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.get_json() == {
        "error": {
            "code": 404,
            "name": "Not Found",
            "message": "The requested URL was not found on the server. If you entered the URL "
            "manually please check your spelling and try again.",
        }
    }


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/bookings", {"GET", "HEAD", "OPTIONS", "POST"}),
        ("PUT", "/bookings/01J0000000000000000000000X", {"GET", "HEAD", "OPTIONS", "PATCH"}),
        ("GET", "/auth/login", {"OPTIONS", "POST"}),
        ("PATCH", "/companies", {"GET", "HEAD", "OPTIONS", "POST"}),
    ],
)
def test_wrong_method_is_405_json_with_allow(client, method, path, allowed):
    response = client.open(path, method=method)

    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert response.get_json() == {
        "error": {
            "code": 405,
            "name": "Method Not Allowed",
            "message": "The method is not allowed for the requested URL.",
        }
    }
    assert {method.strip() for method in response.headers["Allow"].split(",")} == allowed


@pytest.mark.parametrize("path", ["/_test/crash", "/_test/key-error"])
def test_unexpected_exception_is_500_json_without_trace(failing_app, caplog, path):
    client = failing_app.test_client()

    with caplog.at_level(logging.ERROR, logger="everfresh.errors"):
        response = client.get(path)

    assert response.status_code == 500
    assert response.mimetype == "application/json"
    assert response.get_json() == {
        "error": {
            "code": 500,
            "name": "Internal Server Error",
            "message": InternalServerError.description,
        }
    }
    text = response.get_data(as_text=True)
    for leak in ("Traceback", 'File "', SECRET_DETAIL, "missing", "RuntimeError", "KeyError"):
        assert leak not in text
    # The operator still gets the whole story in the log.
    logged = [record for record in caplog.records if record.name == "everfresh.errors"]
    assert [record.getMessage() for record in logged] == ["Unhandled error"]
    assert logged[0].exc_info is not None


def test_http_error_keeps_its_headers(failing_app):
    response = failing_app.test_client().get("/_test/rate-limited")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    assert response.get_json() == {
        "error": {"code": 429, "name": "Too Many Requests", "message": "Slow down."}
    }


def test_abort_message_reaches_the_client(failing_app):
    response = failing_app.test_client().get("/_test/not-found")

    assert response.status_code == 404
    assert response.get_json() == {
        "error": {"code": 404, "name": "Not Found", "message": "Widget not found."}
    }


def test_validation_failure_lists_its_fields(failing_app):
    response = failing_app.test_client().get("/_test/invalid")

    assert response.status_code == 422
    assert response.get_json() == {
        "error": {
            "code": 422,
            "name": "Unprocessable Entity",
            "message": "The request has invalid fields.",
            "fields": {"size": "Too big."},
        }
    }


def test_library_value_errors_are_422_too(failing_app):
    # pydantic's own value errors (EmailStr's) carry a reason, not our validators' error.
    response = failing_app.test_client().post("/_test/contact", json={"email": "no-at-sign"})

    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {
        "email": "value is not a valid email address: An email address must have an @-sign."
    }


def test_missing_token_is_401_json_not_422(client):
    response = client.get("/bookings")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="everfresh"'
    assert response.get_json() == {
        "error": {
            "code": 401,
            "name": "Unauthorized",
            "message": "Missing or malformed access token.",
        }
    }
