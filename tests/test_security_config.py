"""Refuse unsafe production settings, and send security headers and safe cookies everywhere."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from flask import Flask, Response

from everfresh import create_app
from everfresh.demo import seed_demo
from everfresh.extensions import db
from everfresh.signing_key import InsecureConfiguration
from everfresh.web.security_headers import DEFAULT_PAGE_POLICY, HEADERS

STRONG_KEY = "a-production-signing-key-of-more-than-32-bytes"


@pytest.fixture
def production(tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Return a function creating the app in the production environment with extra settings."""
    created: list[Flask] = []

    def build(**settings: object) -> Flask:
        database_url = f"sqlite:///{tmp_path / 'production.sqlite3'}"
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": database_url, **settings}, environment="production"
        )
        created.append(app)
        return app

    yield build
    for app in created:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize(
    ("settings", "refusal"),
    [
        ({"JWT_SECRET_KEY": ""}, "Set JWT_SECRET_KEY to a random value of at least 32 bytes"),
        ({"JWT_SECRET_KEY": "x" * 31}, "Set JWT_SECRET_KEY to a random value of at least 32 bytes"),
        (
            {"JWT_SECRET_KEY": STRONG_KEY, "SSE_QUERY_TOKEN": True, "LOG_QUERY_STRINGS": True},
            "SSE_QUERY_TOKEN=true puts access tokens in URLs and LOG_QUERY_STRINGS=true",
        ),
    ],
    ids=["no-key", "short-key", "query-token-with-logged-query-strings"],
)
def test_production_refuses_to_start_unsafe(production, settings, refusal):
    with pytest.raises(InsecureConfiguration, match=refusal):
        production(**settings)


@pytest.mark.parametrize(
    "settings",
    [
        {"JWT_SECRET_KEY": "x" * 32},
        {"JWT_SECRET_KEY": STRONG_KEY, "SSE_QUERY_TOKEN": True, "LOG_QUERY_STRINGS": False},
        {"JWT_SECRET_KEY": STRONG_KEY, "SSE_QUERY_TOKEN": False, "LOG_QUERY_STRINGS": True},
    ],
    ids=["32-byte-key", "query-token-kept-out-of-logs", "logged-query-strings-without-tokens"],
)
def test_production_starts_with_safe_settings(production, settings):
    assert production(**settings).config["ENV_NAME"] == "production"


def test_outside_production_query_tokens_with_logged_query_strings_start(database_url):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SSE_QUERY_TOKEN": True,
            "LOG_QUERY_STRINGS": True,
        },
        environment="testing",
    )

    assert app.config["ENV_NAME"] == "testing"


# --- Cookies ----------------------------------------------------------------------------------


def _session_cookies(app: Flask) -> dict[str, dict[str, str | bool]]:
    with app.app_context():
        db.create_all()
        seed_demo()
    response = app.test_client().post(
        "/auth/session", json={"email": "staff@everfresh.test", "password": "everfresh-demo"}
    )
    assert response.status_code == 200
    cookies = {}
    for header in response.headers.getlist("Set-Cookie"):
        morsel = next(iter(SimpleCookie(header).values()))
        cookies[morsel.key] = {
            "httponly": bool(morsel["httponly"]),
            "secure": bool(morsel["secure"]),
            "samesite": morsel["samesite"],
        }
    return cookies


def test_production_session_cookies_are_secure_httponly_and_same_site(production):
    app = production(JWT_SECRET_KEY=STRONG_KEY)

    cookies = _session_cookies(app)

    tokens = {"httponly": True, "secure": True, "samesite": "Strict"}
    # The CSRF values are meant to be read by the page's script, and echoed in a header.
    csrf = {"httponly": False, "secure": True, "samesite": "Strict"}
    assert cookies == {
        app.config["JWT_ACCESS_COOKIE_NAME"]: tokens,
        app.config["JWT_ACCESS_CSRF_COOKIE_NAME"]: csrf,
        app.config["JWT_REFRESH_COOKIE_NAME"]: tokens,
        app.config["JWT_REFRESH_CSRF_COOKIE_NAME"]: csrf,
    }


def test_token_cookies_are_httponly_and_same_site_outside_production_too(app):
    cookies = _session_cookies(app)

    assert {name: cookie["httponly"] for name, cookie in cookies.items()} == {
        app.config["JWT_ACCESS_COOKIE_NAME"]: True,
        app.config["JWT_ACCESS_CSRF_COOKIE_NAME"]: False,
        app.config["JWT_REFRESH_COOKIE_NAME"]: True,
        app.config["JWT_REFRESH_CSRF_COOKIE_NAME"]: False,
    }
    assert {cookie["samesite"] for cookie in cookies.values()} == {"Strict"}


# --- Security headers -------------------------------------------------------------------------


@pytest.fixture
def pages(app: Flask) -> Flask:
    """Add throwaway HTML routes: one without a policy of its own, one with."""

    @app.get("/_test/bare-page")
    def bare_page():
        return Response("<p>hello</p>", content_type="text/html; charset=utf-8")

    @app.get("/_test/own-policy")
    def own_policy():
        response = Response("<p>hello</p>", content_type="text/html")
        response.headers["Content-Security-Policy"] = "default-src 'self'"
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return response

    return app


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("GET", "/auth/me", 401),
        ("GET", "/nowhere", 404),
        ("PUT", "/bookings", 405),
        ("POST", "/auth/login", 415),
        ("OPTIONS", "/bookings", 200),
        ("GET", "/metrics", 200),
        ("GET", "/board/static/board.css", 200),
    ],
)
def test_every_kind_of_answer_carries_the_security_headers(client, method, path, status):
    response = client.open(path, method=method)

    assert response.status_code == status
    assert {name: response.headers.get(name) for name in HEADERS} == HEADERS


def test_the_event_stream_carries_them_too(client, login_as):
    response = client.get("/sse/events", headers=login_as("staff"), buffered=False)

    assert response.mimetype == "text/event-stream"
    assert {name: response.headers.get(name) for name in HEADERS} == HEADERS
    response.close()


def test_a_page_without_its_own_policy_gets_the_strict_default(pages):
    response = pages.test_client().get("/_test/bare-page")

    assert response.headers["Content-Security-Policy"] == DEFAULT_PAGE_POLICY
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_page_with_its_own_policy_keeps_it(pages):
    response = pages.test_client().get("/_test/own-policy")

    assert response.headers["Content-Security-Policy"] == "default-src 'self'"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


@pytest.mark.parametrize("path", ["/", "/docs"])
def test_the_served_pages_have_strict_policies(client, path):
    response = client.get(path)

    assert response.mimetype == "text/html"
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'none'"
    for source in policy.values():
        assert "'unsafe-inline'" not in source and "'unsafe-eval'" not in source
        assert "*" not in source and "http" not in source
