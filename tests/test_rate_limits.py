"""Limit login attempts per IP and per account, and give away nothing about which emails exist.

The testing settings set the limits far above what other tests need; these tests lower them on
their own app (the limits are read per request), or build apps that count in Redis.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from config import Settings
from everfresh import create_app
from everfresh.auth import passwords
from everfresh.auth.models import User
from everfresh.auth.ratelimits import LIMIT_SETTINGS
from everfresh.extensions import db
from everfresh.web import proxy
from tests.assertions import assert_error
from tests.live import reset_to_demo
from tests.test_security_tokens import assert_unauthorized

DEMO_PASSWORD = "everfresh-demo"
TOO_MANY = "Too many login attempts. Try again later."
LOGIN_ROUTES = ["/auth/login", "/auth/session"]


def attempt(
    client: FlaskClient,
    email: str,
    password: str = "wrong-password",
    path: str = "/auth/login",
    ip: str = "192.0.2.1",
    headers: dict[str, str] | None = None,
) -> TestResponse:
    """Try to log in from `ip` (the socket's address)."""
    return client.post(
        path,
        json={"email": email, "password": password},
        headers=headers or {},
        environ_base={"REMOTE_ADDR": ip},
    )


def assert_too_many(response: TestResponse) -> None:
    """Check a 429 in the JSON error shape, saying when to come back within the minute."""
    assert_error(response, 429, "Too Many Requests", TOO_MANY)
    assert 1 <= int(response.headers["Retry-After"]) <= 61


@pytest.fixture
def limits(app: Flask) -> Callable[..., None]:
    """Return a function setting the app's login limits."""

    def set_limits(
        per_ip: str = "1000/minute",
        per_account: str = "1000/minute",
        per_account_and_ip: str = "1000/minute",
    ) -> None:
        app.config["LOGIN_RATE_LIMIT_PER_IP"] = per_ip
        app.config["LOGIN_RATE_LIMIT_PER_ACCOUNT"] = per_account
        app.config["LOGIN_RATE_LIMIT_PER_ACCOUNT_AND_IP"] = per_account_and_ip

    return set_limits


@pytest.mark.parametrize("path", LOGIN_ROUTES)
def test_an_account_gets_a_few_attempts_a_minute_from_anywhere(client, limits, path):
    limits(per_account="3/minute")
    spellings = ["admin@everfresh.test", "ADMIN@everfresh.test", " Admin@EverFresh.test "]

    answers = [
        attempt(client, email, path=path, ip=f"192.0.2.{number}").status_code
        for number, email in enumerate(spellings, start=1)
    ]

    assert answers == [401, 401, 401]
    # The right password from a new address does not help: the account is resting.
    assert_too_many(attempt(client, "admin@everfresh.test", DEMO_PASSWORD, path, "192.0.2.99"))
    # Other accounts are not affected.
    assert attempt(client, "staff@everfresh.test", DEMO_PASSWORD, path).status_code == 200


@pytest.mark.parametrize("path", LOGIN_ROUTES)
def test_a_stranger_rests_the_account_only_at_their_own_address(client, limits, path):
    limits(per_account_and_ip="3/minute")
    spellings = ["admin@everfresh.test", "ADMIN@everfresh.test", " Admin@EverFresh.test "]

    answers = [attempt(client, email, path=path).status_code for email in spellings]

    assert answers == [401, 401, 401]
    assert_too_many(attempt(client, "admin@everfresh.test", DEMO_PASSWORD, path))
    # The owner, from their own address, logs in; the stranger may still try other accounts.
    assert (
        attempt(client, "admin@everfresh.test", DEMO_PASSWORD, path, "198.51.100.7").status_code
        == 200
    )
    assert attempt(client, "staff@everfresh.test", DEMO_PASSWORD, path).status_code == 200


def test_with_the_default_limits_strangers_cannot_lock_the_owner_out(app, client):
    for name in LIMIT_SETTINGS:
        app.config[name] = Settings.model_fields[name.lower()].default
    # Several strangers, each guessing from an address of their own until turned away.
    strangers = [f"192.0.2.{number}" for number in range(1, 4)]

    answers = {
        ip: [attempt(client, "admin@everfresh.test", ip=ip).status_code for _ in range(6)]
        for ip in strangers
    }

    assert answers == dict.fromkeys(strangers, [401, 401, 401, 401, 401, 429])
    assert (
        attempt(client, "admin@everfresh.test", DEMO_PASSWORD, ip="198.51.100.7").status_code == 200
    )


def test_login_and_session_share_the_count(client, limits):
    limits(per_account="2/minute", per_ip="3/minute")

    answers = [
        attempt(client, "admin@everfresh.test", path="/auth/login").status_code,
        attempt(client, "admin@everfresh.test", path="/auth/session").status_code,
    ]

    assert answers == [401, 401]
    assert_too_many(attempt(client, "admin@everfresh.test", path="/auth/login"))
    assert attempt(client, "staff@everfresh.test", path="/auth/session").status_code == 401
    assert_too_many(attempt(client, "customer@everfresh.test", path="/auth/login"))


@pytest.mark.parametrize("path", LOGIN_ROUTES)
def test_an_address_gets_a_few_attempts_a_minute_whatever_the_account(client, limits, path):
    limits(per_ip="3/minute")
    emails = ["admin@everfresh.test", "nobody@everfresh.test", "staff@everfresh.test"]

    answers = [attempt(client, email, path=path).status_code for email in emails]

    assert answers == [401, 401, 401]
    assert_too_many(attempt(client, "customer@everfresh.test", DEMO_PASSWORD, path))
    # Malformed attempts count against the address too.
    assert_too_many(client.post(path, json={}, environ_base={"REMOTE_ADDR": "192.0.2.1"}))
    assert (
        attempt(client, "customer@everfresh.test", DEMO_PASSWORD, path, "192.0.2.2").status_code
        == 200
    )


def test_forwarded_for_is_ignored_without_a_trusted_proxy(client, limits):
    limits(per_ip="2/minute")

    answers = [
        attempt(client, email, headers={"X-Forwarded-For": f"198.51.100.{number}"}).status_code
        for number, email in enumerate(["a@x.test", "b@x.test", "c@x.test"], start=1)
    ]

    assert answers == [401, 401, 429]


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(app, client, limits):
    app.config["PROXY_FIX_X_FOR"] = 1
    proxy.init_app(app)
    limits(per_ip="2/minute")

    def via_proxy(email: str, forwarded_for: str) -> int:
        return attempt(
            client, email, ip="127.0.0.1", headers={"X-Forwarded-For": forwarded_for}
        ).status_code

    # The proxy appends the address it saw; what the client wrote before it is not trusted.
    assert [
        via_proxy("a@x.test", "203.0.113.7"),
        via_proxy("b@x.test", "1.1.1.1, 203.0.113.7"),
    ] == [
        401,
        401,
    ]
    assert via_proxy("c@x.test", "2.2.2.2, 203.0.113.7") == 429
    assert via_proxy("d@x.test", "203.0.113.8") == 401


def test_limits_can_be_switched_off(make_app):
    client = make_app(
        RATELIMIT_ENABLED=False,
        LOGIN_RATE_LIMIT_PER_IP="1/minute",
        LOGIN_RATE_LIMIT_PER_ACCOUNT="1/minute",
        LOGIN_RATE_LIMIT_PER_ACCOUNT_AND_IP="1/minute",
    ).test_client()

    answers = [attempt(client, "admin@everfresh.test").status_code for _ in range(3)]

    assert answers == [401, 401, 401]


@pytest.mark.parametrize("name", LIMIT_SETTINGS)
def test_a_malformed_limit_stops_the_app_from_starting(name):
    with pytest.raises(ValueError, match=f"{name} must be a rate such as"):
        create_app({name: "lots"}, environment="testing")


# --- Redis ------------------------------------------------------------------------------------


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., Flask]]:
    """Return a function creating an app with extra settings; the first one seeds the demo data."""
    created: list[Flask] = []

    def build(**settings: object) -> Flask:
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": database_url, **settings}, environment="testing"
        )
        if not created:
            with app.app_context():
                reset_to_demo()
        created.append(app)
        return app

    yield build
    for app in created:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def redis_workers(
    make_app: Callable[..., Flask], redis_url: str, redis_prefix: str
) -> Iterator[Callable[[], Flask]]:
    """Return a function creating an app (one worker) that counts attempts in Redis."""
    yield lambda: make_app(
        REDIS_URL=redis_url, REDIS_PREFIX=redis_prefix, LOGIN_RATE_LIMIT_PER_ACCOUNT="3/minute"
    )
    keys = redis.Redis.from_url(redis_url)
    for key in keys.scan_iter(f"{redis_prefix}:*"):
        keys.delete(key)


def test_with_redis_every_worker_shares_the_count(redis_workers, redis_url, redis_prefix):
    first = redis_workers().test_client()
    assert [attempt(first, "admin@everfresh.test").status_code for _ in range(2)] == [401, 401]

    # A new worker counts in the same place (a worker counting in memory would start at 0).
    second = redis_workers().test_client()

    assert attempt(second, "admin@everfresh.test").status_code == 401
    assert_too_many(attempt(second, "admin@everfresh.test"))
    keys = [key.decode() for key in redis.Redis.from_url(redis_url).scan_iter(f"{redis_prefix}:*")]
    assert keys and all(key.startswith(f"{redis_prefix}:login-limits") for key in keys)
    assert not any("admin@everfresh.test" in key for key in keys)


# --- Same answer, same work, for unknown emails and wrong passwords ---------------------------


@pytest.fixture
def hash_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count the password hash checks login performs, recording which hash each was against."""
    checked: list[str] = []
    real_check = passwords.check_password_hash

    def counting_check(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return real_check(password_hash, password)

    monkeypatch.setattr(passwords, "check_password_hash", counting_check)
    return checked


@pytest.mark.parametrize("path", LOGIN_ROUTES)
def test_unknown_email_and_wrong_password_look_alike_and_cost_one_hash_each(
    app, client, hash_checks, path
):
    answers = {}
    checks = {}
    for case, email in (
        ("wrong-password", "admin@everfresh.test"),
        ("unknown-email", "nobody@everfresh.test"),
    ):
        hash_checks.clear()
        response = attempt(client, email, path=path)
        answers[case] = (response.status_code, response.get_data(), sorted(response.headers.keys()))
        checks[case] = len(hash_checks)
        assert_unauthorized(response, "Invalid email or password.")

    assert answers["wrong-password"] == answers["unknown-email"]
    assert checks == {"wrong-password": 1, "unknown-email": 1}


def test_a_deactivated_account_also_costs_one_hash_and_looks_the_same(app, client, hash_checks):
    with app.app_context():
        user = db.session.scalars(db.select(User).where(User.email == "staff@everfresh.test")).one()
        user.active = False
        db.session.commit()

    response = attempt(client, "staff@everfresh.test", DEMO_PASSWORD)

    assert_unauthorized(response, "Invalid email or password.")
    assert len(hash_checks) == 1


def test_through_gunicorn_strangers_cannot_lock_the_owner_out(live_server):
    server = live_server(PROXY_FIX_X_FOR="1")

    def login_from(ip: str, password: str) -> int:
        body = {"email": "admin@everfresh.test", "password": password}
        return server.request("POST", "/auth/login", body, headers={"X-Forwarded-For": ip}).status

    strangers = [f"192.0.2.{number}" for number in range(1, 4)]
    answers = {ip: [login_from(ip, "wrong-password") for _ in range(6)] for ip in strangers}

    assert answers == dict.fromkeys(strangers, [401, 401, 401, 401, 401, 429])
    assert login_from("198.51.100.7", DEMO_PASSWORD) == 200
