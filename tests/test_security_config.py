"""Refuse unsafe production settings, and send security headers and safe cookies everywhere."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from flask import Flask, Response

from everfresh import create_app
from everfresh.auth.models import Role, User
from everfresh.auth.passwords import hash_password
from everfresh.auth.tokens import issue_access_token
from everfresh.demo import DEMO_LOGIN_REFUSAL, remove_demo, seed_demo
from everfresh.extensions import db
from everfresh.signing_key import InsecureConfiguration, refuse_weak_key
from everfresh.web.security_headers import DEFAULT_PAGE_POLICY, HEADERS
from tests.faults import worker_pids
from tests.live import (
    DEMO_PASSWORD,
    JWT_TEST_KEY,
    ROOT,
    LiveServer,
    prepare_database,
    run_flask,
)
from tests.polling import wait_for

STRONG_KEY = JWT_TEST_KEY
SHORT_KEY = "is shorter than the 32 bytes a signing key needs"
GUESSABLE_KEY = "is too easy to guess"


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
        ({"JWT_SECRET_KEY": ""}, f"JWT_SECRET_KEY {SHORT_KEY}"),
        ({"JWT_SECRET_KEY": "x" * 31}, f"JWT_SECRET_KEY {SHORT_KEY}"),
        ({"JWT_SECRET_KEY": "x" * 32}, f"JWT_SECRET_KEY {GUESSABLE_KEY}"),
        ({"JWT_SECRET_KEY": "ab" * 32}, f"JWT_SECRET_KEY {GUESSABLE_KEY}"),
        ({"JWT_SECRET_KEY": "abcd" * 16}, f"JWT_SECRET_KEY {GUESSABLE_KEY}"),
        (
            {"JWT_SECRET_KEY": STRONG_KEY, "SSE_QUERY_TOKEN": True, "LOG_QUERY_STRINGS": True},
            "SSE_QUERY_TOKEN=true puts access tokens in URLs and LOG_QUERY_STRINGS=true",
        ),
    ],
    ids=[
        "no-key",
        "short-key",
        "one-character-repeated",
        "two-characters-repeated",
        "four-characters-repeated",
        "query-token-with-logged-query-strings",
    ],
)
def test_production_refuses_to_start_unsafe(production, settings, refusal):
    with pytest.raises(InsecureConfiguration, match=refusal):
        production(**settings)


@pytest.mark.parametrize(
    "settings",
    [
        {"JWT_SECRET_KEY": "9f86d081884c7d659a2feaa0c55ad0159f0b4d6ad4b2e3c5c1c0e4d1a7f2b8c3"},
        {"JWT_SECRET_KEY": "Zx0hYl3cN9qPr5-Tm2VwK7bLu1sDf8GjEa4oIe6ZyQc"},
        {"JWT_SECRET_KEY": STRONG_KEY, "SSE_QUERY_TOKEN": True, "LOG_QUERY_STRINGS": False},
        {"JWT_SECRET_KEY": STRONG_KEY, "SSE_QUERY_TOKEN": False, "LOG_QUERY_STRINGS": True},
    ],
    ids=[
        "64-hex-digits",
        "urlsafe-base64",
        "query-token-kept-out-of-logs",
        "logged-query-strings-without-tokens",
    ],
)
def test_production_starts_with_safe_settings(production, settings):
    assert production(**settings).config["ENV_NAME"] == "production"


KEY_ADVICE = (
    'Set it to a random value, e.g. `python -c "import secrets; print(secrets.token_hex(32))"`.'
)


@pytest.mark.parametrize(
    "key",
    [
        "your-256-bit-secret-your-256-bit-secret",
        "0123456789abcdef" * 4,
        "everfresh-demo-everfresh-demo-everfresh",
        "my-super-secret-jwt-signing-key-for-production",
        # 128 random bits: half of what an HS256 key should hold.
        "9f86d081884c7d659a2feaa0c55ad015",
    ],
    ids=["jwt-io-example", "hex-sequence", "demo-password", "dictionary-words", "32-hex-digits"],
)
def test_production_refuses_guessable_signing_keys(production, key):
    with pytest.raises(InsecureConfiguration) as refused:
        production(JWT_SECRET_KEY=key)

    message = str(refused.value)
    assert message.startswith("JWT_SECRET_KEY is too easy to guess: about 10^"), message
    assert "under the 10^38 a signing key needs" in message
    assert message.endswith(KEY_ADVICE)


def test_production_refuses_a_guessable_previous_key(production):
    with pytest.raises(InsecureConfiguration) as refused:
        production(
            JWT_SECRET_KEY=STRONG_KEY,
            JWT_PREVIOUS_SECRET_KEY="your-256-bit-secret-your-256-bit-secret",
        )

    message = str(refused.value)
    assert message.startswith("JWT_PREVIOUS_SECRET_KEY is too easy to guess"), message
    assert message.endswith(
        "Leave it empty: every session it signed then ends (users log in again)."
    )


@pytest.mark.parametrize(
    "make_key",
    [secrets.token_hex, secrets.token_urlsafe],
    ids=["token_hex(32)", "token_urlsafe(32)"],
)
def test_keys_made_as_the_refusal_says_pass(production, make_key):
    # Fresh keys each run: the estimate must hold for any draw, not for one chosen key.
    for _ in range(20):
        refuse_weak_key("JWT_SECRET_KEY", make_key(32))
    key = make_key(32)

    assert production(JWT_SECRET_KEY=key).config["JWT_SECRET_KEY"] == key


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


# --- Demo logins ------------------------------------------------------------------------------

DEMO_REFUSAL = (
    "Refusing to run in production while demo logins can sign in with the published password "
    "(admin@brighthome.test, admin@everfresh.test, customer@everfresh.test, staff@brighthome.test, "
    "staff@everfresh.test, superadmin@everfresh.test). Remove them with "
    "`flask --app wsgi remove-demo`."
)


@pytest.fixture
def demo_database(tmp_path: Path) -> str:
    """Return the URL of a SQLite database holding the demo data, as `flask seed-demo` leaves it."""
    database_url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    prepare_database(database_url)
    return database_url


def flask_command(database_url: str, *arguments: str) -> subprocess.CompletedProcess:
    """Run `flask --app wsgi <arguments>` as EVERFRESH_ENV=production against `database_url`."""
    environment = {
        **os.environ,
        "EVERFRESH_ENV": "production",
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": JWT_TEST_KEY,
        "REDIS_URL": "",
    }
    return run_flask(*arguments, env=environment)


def production_server(database_url: str) -> LiveServer:
    """Return a gunicorn server (not started) running as EVERFRESH_ENV=production."""
    return LiveServer(database_url, {"EVERFRESH_ENV": "production"})


@pytest.mark.process
def test_gunicorn_refuses_production_while_demo_logins_are_active(demo_database):
    server = production_server(demo_database)
    try:
        with pytest.raises(RuntimeError, match="gunicorn exited with 2"):
            server.start()
        output = server.log()
    finally:
        server.stop()

    refusals = [line for line in output.splitlines() if "Refusing" in line]
    assert len(refusals) == 1
    assert refusals[0].endswith(f"EverFresh: {DEMO_REFUSAL}")
    assert "Traceback" not in output


@pytest.mark.process
@pytest.mark.parametrize("command", [["prune"], ["routes"]])
def test_flask_commands_refuse_production_while_demo_logins_are_active(demo_database, command):
    result = flask_command(demo_database, *command)

    assert (result.returncode, result.stderr) == (2, f"Error: {DEMO_REFUSAL}\n")


@pytest.mark.process
def test_remove_demo_lets_production_start(demo_database):
    first = flask_command(demo_database, "remove-demo")
    again = flask_command(demo_database, "remove-demo")
    prune = flask_command(demo_database, "prune")
    server = production_server(demo_database)
    try:
        server.start()
        login = server.request(
            "POST", "/auth/login", {"email": "admin@everfresh.test", "password": DEMO_PASSWORD}
        )
    finally:
        server.stop()

    assert (first.returncode, first.stdout) == (
        0,
        "Deactivated 6 demo logins; none is left active.\n",
    )
    assert (again.returncode, again.stdout) == (
        0,
        "Deactivated 0 demo logins; none is left active.\n",
    )
    assert prune.returncode == 0, prune.stderr
    assert (login.status, login.body["error"]["message"]) == (403, DEMO_LOGIN_REFUSAL)


@pytest.mark.process
def test_outside_production_demo_logins_are_welcome(demo_database):
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "prune"],
        cwd=ROOT,
        env={**os.environ, "EVERFRESH_ENV": "development", "DATABASE_URL": demo_database},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr


@pytest.mark.live
def _set_demo_logins_active(database_url: str, active: bool) -> None:
    # As a restore from an old backup would: the demo logins active again behind the server.
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url}, environment="testing")
    with app.app_context():
        if active:
            db.session.execute(db.update(User).values(active=True))
            db.session.commit()
        else:
            remove_demo()
        db.engine.dispose()


def test_a_worker_booted_while_the_database_was_down_refuses_demo_logins(private_postgres):
    prepare_database(private_postgres.url)
    _set_demo_logins_active(private_postgres.url, False)
    server = production_server(private_postgres.url)
    try:
        server.start()
        _set_demo_logins_active(private_postgres.url, True)
        private_postgres.stop()
        (first,) = worker_pids(server)
        os.kill(first, signal.SIGKILL)
        # Its replacement boots while the database is down: its start-up check cannot look,
        # so it warns and serves.
        wait_for(lambda: "Could not check the database for demo logins" in server.log(), 30)
        private_postgres.start()
        logins = [
            server.request("POST", path, {"email": email, "password": DEMO_PASSWORD})
            for path in ("/auth/login", "/auth/session")
            for email in ("superadmin@everfresh.test", " Admin@EverFresh.test ")
        ]
        ready = server.request("GET", "/readyz")
    finally:
        server.stop()

    assert ready.status == 200, ready.body
    assert [(login.status, login.body) for login in logins] == [
        (403, {"error": {"code": 403, "name": "Forbidden", "message": DEMO_LOGIN_REFUSAL}})
    ] * 4


def _production_superadmin(app: Flask) -> dict[str, str]:
    # Production's own superadmin, made as `flask create-user` would.
    with app.app_context():
        user = User(
            email="root@acme.example",
            name="Root",
            role=Role.SUPERADMIN,
            password_hash=hash_password("a-production-password"),
        )
        db.session.add(user)
        db.session.commit()
        return {"Authorization": f"Bearer {issue_access_token(user)['access_token']}"}


def test_production_refuses_to_reactivate_a_demo_login(production):
    app = production(JWT_SECRET_KEY=STRONG_KEY)
    with app.app_context():
        db.create_all()
        seed_demo()
        remove_demo()
        demo_admin = db.session.scalars(
            db.select(User.id).where(User.email == "admin@everfresh.test")
        ).one()
    headers = _production_superadmin(app)

    response = app.test_client().patch(
        f"/users/{demo_admin}", headers=headers, json={"active": True}
    )

    assert response.status_code == 409
    assert response.get_json() == {
        "error": {
            "code": 409,
            "name": "Conflict",
            "message": DEMO_LOGIN_REFUSAL,
            "fields": {"active": DEMO_LOGIN_REFUSAL},
        }
    }
    with app.app_context():
        assert db.session.get(User, demo_admin).active is False


def test_outside_production_a_demo_login_may_be_reactivated(client, login_as, user_id):
    path, headers = f"/users/{user_id('admin@everfresh.test')}", login_as("superadmin")

    answers = [client.patch(path, headers=headers, json={"active": flag}) for flag in (False, True)]

    assert [(answer.status_code, answer.get_json()["active"]) for answer in answers] == [
        (200, False),
        (200, True),
    ]


# --- Cookies ----------------------------------------------------------------------------------


def _session_cookies(app: Flask) -> dict[str, dict[str, str | bool]]:
    # Not a demo login: production refuses those at login.
    with app.app_context():
        db.create_all()
        seed_demo()
        db.session.add(
            User(
                email="cookie@acme.example",
                name="Cookie",
                role=Role.STAFF,
                company_id=db.session.scalars(db.select(User.company_id)).first(),
                password_hash=hash_password("a-production-password"),
            )
        )
        db.session.commit()
    response = app.test_client().post(
        "/auth/session", json={"email": "cookie@acme.example", "password": "a-production-password"}
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
