"""Test logging in, refreshing tokens, every bad-token answer, and managing user accounts."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt as pyjwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from werkzeug.test import TestResponse

from everfresh.auth.models import User
from everfresh.catalog.models import Customer, Staff
from everfresh.extensions import db
from tests.assertions import ISO_UTC_MS, assert_error

DEMO_PASSWORD = "everfresh-demo"
USER_ID = re.compile(r"user_[0-7][0-9A-HJKMNP-TV-Z]{25}")
USER_KEYS = [
    "id",
    "email",
    "name",
    "role",
    "company_id",
    "customer_id",
    "active",
    "must_change_password",
    "created_at",
]
AUTHENTICATE = 'Bearer realm="everfresh"'


def assert_unauthorized(response: TestResponse, message: str) -> None:
    """Check a 401 in the JSON error shape that tells the client how to authenticate."""
    assert_error(response, 401, "Unauthorized", message)
    assert response.headers["WWW-Authenticate"] == AUTHENTICATE


def validation_fields(response: TestResponse) -> list[str]:
    """Check a 422 in the JSON error shape and return the names of the failing fields."""
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert {k: v for k, v in error.items() if k != "fields"} == {
        "code": 422,
        "name": "Unprocessable Entity",
        "message": "The request has invalid fields.",
    }
    return sorted(error["fields"])


@pytest.fixture
def user_row(app: Flask) -> Callable[[str], User]:
    """Return a function loading a user by email, detached for reading outside the app context."""

    def load(email: str) -> User:
        with app.app_context():
            user = db.session.scalars(db.select(User).where(User.email == email)).one()
            db.session.expunge(user)
            return user

    return load


@pytest.fixture
def deactivate(app: Flask) -> Callable[[str], None]:
    """Return a function switching off the account with the given email."""

    def switch_off(email: str) -> None:
        with app.app_context():
            user = db.session.scalars(db.select(User).where(User.email == email)).one()
            user.active = False
            db.session.commit()

    return switch_off


@pytest.fixture
def login(client: FlaskClient) -> Callable[..., TestResponse]:
    """Return a function posting credentials to `/auth/login`."""

    def post(email: str, password: str = DEMO_PASSWORD) -> TestResponse:
        return client.post("/auth/login", json={"email": email, "password": password})

    return post


# --- POST /auth/login -------------------------------------------------------------------------


def test_login_answers_tokens_and_the_user(app, login, user_row, tenants):
    response = login("admin@everfresh.test")

    assert response.status_code == 200
    body = response.get_json()
    assert sorted(body) == ["access_token", "expires_in", "refresh_token", "token_type", "user"]
    assert body["token_type"] == "Bearer"
    lifetime = app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    assert (type(body["expires_in"]), body["expires_in"]) == (int, lifetime.total_seconds())
    admin = user_row("admin@everfresh.test")
    assert list(body["user"]) == USER_KEYS
    assert body["user"] == {
        "id": admin.id,
        "email": "admin@everfresh.test",
        "name": "EverFresh Demo Admin",
        "role": "admin",
        "company_id": tenants["everfresh"].company_id,
        "customer_id": None,
        "active": True,
        "must_change_password": False,
        "created_at": body["user"]["created_at"],
    }
    assert USER_ID.fullmatch(admin.id)
    assert ISO_UTC_MS.fullmatch(body["user"]["created_at"])
    with app.app_context():
        access = decode_token(body["access_token"])
        refresh = decode_token(body["refresh_token"])
    assert access["type"] == "access"
    assert access["sub"] == admin.id
    assert access["role"] == "admin"
    assert access["company_id"] == tenants["everfresh"].company_id
    assert access["exp"] - access["iat"] == body["expires_in"]
    assert refresh["type"] == "refresh"
    assert refresh["sub"] == admin.id


def test_login_tokens_work(client, login):
    body = login("staff@everfresh.test").get_json()

    me = client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})

    assert me.status_code == 200
    assert me.get_json() == body["user"]


def test_customer_login_names_their_customer(login, tenants):
    user = login("customer@everfresh.test").get_json()["user"]

    assert user["role"] == "customer"
    assert user["customer_id"] == tenants["everfresh"].customer_id


def test_superadmin_login_has_no_company(app, login):
    body = login("superadmin@everfresh.test").get_json()

    assert body["user"]["role"] == "superadmin"
    assert body["user"]["company_id"] is None
    with app.app_context():
        assert decode_token(body["access_token"])["company_id"] is None


@pytest.mark.parametrize(
    "email",
    ["ADMIN@EVERFRESH.TEST", "Admin@EverFresh.Test", "  admin@everfresh.test  "],
)
def test_login_email_is_case_insensitive(login, email):
    response = login(email)

    assert response.status_code == 200
    assert response.get_json()["user"]["email"] == "admin@everfresh.test"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("admin@everfresh.test", "wrong-password"),
        ("admin@everfresh.test", "EVERFRESH-DEMO"),
        ("nobody@everfresh.test", DEMO_PASSWORD),
        ("admin@everfresh", DEMO_PASSWORD),
    ],
    ids=["wrong-password", "password-case", "unknown-email", "partial-email"],
)
def test_login_refuses_bad_credentials(login, email, password):
    assert_unauthorized(login(email, password), "Invalid email or password.")


def test_login_refuses_deactivated_user(login, deactivate):
    deactivate("staff@everfresh.test")

    assert_unauthorized(login("staff@everfresh.test"), "Invalid email or password.")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["email", "password"]),
        ({"email": "admin@everfresh.test"}, ["password"]),
        ({"email": "", "password": DEMO_PASSWORD}, ["email"]),
        ({"email": 5, "password": DEMO_PASSWORD}, ["email"]),
        (
            {"email": "admin@everfresh.test", "password": DEMO_PASSWORD, "remember": True},
            ["remember"],
        ),
        ([], ["body"]),
    ],
)
def test_login_validates_body(client, body, fields):
    response = client.post("/auth/login", json=body)

    assert validation_fields(response) == fields


def test_login_refuses_form_posts(client):
    response = client.post(
        "/auth/login", data={"email": "admin@everfresh.test", "password": DEMO_PASSWORD}
    )

    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == 415


# --- POST /auth/refresh -----------------------------------------------------------------------


def test_refresh_gives_a_working_access_token(app, client, login, user_row):
    refresh_token = login("staff@everfresh.test").get_json()["refresh_token"]

    response = client.post("/auth/refresh", headers={"Authorization": f"Bearer {refresh_token}"})

    assert response.status_code == 200
    body = response.get_json()
    assert sorted(body) == ["access_token", "expires_in", "token_type"]
    assert body["token_type"] == "Bearer"
    lifetime = app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    assert (type(body["expires_in"]), body["expires_in"]) == (int, lifetime.total_seconds())
    staff = user_row("staff@everfresh.test")
    with app.app_context():
        claims = decode_token(body["access_token"])
    assert (claims["type"], claims["sub"], claims["role"], claims["company_id"]) == (
        "access",
        staff.id,
        "staff",
        staff.company_id,
    )
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.get_json()["email"] == "staff@everfresh.test"


def test_refresh_refuses_an_access_token(client, login):
    access_token = login("staff@everfresh.test").get_json()["access_token"]

    response = client.post("/auth/refresh", headers={"Authorization": f"Bearer {access_token}"})

    assert_unauthorized(response, "Invalid token.")


def test_refresh_token_is_not_an_access_token(client, login):
    refresh_token = login("staff@everfresh.test").get_json()["refresh_token"]

    response = client.get("/auth/me", headers={"Authorization": f"Bearer {refresh_token}"})

    assert_unauthorized(response, "Invalid token.")


def test_refresh_needs_a_token(client):
    assert_unauthorized(client.post("/auth/refresh"), "Missing or malformed access token.")


def test_refresh_refuses_deactivated_user(client, login, deactivate):
    refresh_token = login("staff@everfresh.test").get_json()["refresh_token"]
    deactivate("staff@everfresh.test")

    response = client.post("/auth/refresh", headers={"Authorization": f"Bearer {refresh_token}"})

    assert_unauthorized(response, "The token's user is unknown or deactivated.")


# --- GET /auth/me -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "company", "email"),
    [
        ("customer", "everfresh", "customer@everfresh.test"),
        ("staff", "everfresh", "staff@everfresh.test"),
        ("admin", "everfresh", "admin@everfresh.test"),
        ("staff", "brighthome", "staff@brighthome.test"),
        ("admin", "brighthome", "admin@brighthome.test"),
        ("superadmin", None, "superadmin@everfresh.test"),
    ],
)
def test_me_returns_the_caller(client, login_as, user_row, role, company, email):
    response = client.get("/auth/me", headers=login_as(role, company))

    assert response.status_code == 200
    user = user_row(email)
    assert response.get_json() == {
        "id": user.id,
        "email": email,
        "name": user.name,
        "role": role,
        "company_id": user.company_id,
        "customer_id": user.customer_id,
        "active": True,
        "must_change_password": False,
        "created_at": response.get_json()["created_at"],
    }
    assert "password_hash" not in response.get_data(as_text=True)


def test_me_refuses_a_deactivated_users_token(client, login_as, deactivate):
    headers = login_as("admin")
    deactivate("admin@everfresh.test")

    response = client.get("/auth/me", headers=headers)

    assert_unauthorized(response, "The token's user is unknown or deactivated.")


# --- Every JWT problem is a 401 in the JSON shape -----------------------------------------


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _unb64(segment: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


@pytest.fixture
def forge(app: Flask, user_row: Callable[[str], User]) -> Callable[[str], dict[str, str]]:
    """Return a function building the Authorization headers of a named kind of bad token."""
    admin = user_row("admin@everfresh.test")
    claims = {"role": "admin", "company_id": admin.company_id}

    def build(kind: str) -> dict[str, str]:
        with app.app_context():
            good = create_access_token(identity=admin.id, additional_claims=claims)
            good_claims = decode_token(good)
            key = app.config["JWT_SECRET_KEY"]
            header, payload, signature = good.split(".")
            tokens = {
                "garbage": lambda: "not-a-jwt",
                "three-garbage-segments": lambda: "a.b.c",
                "other-key": lambda: pyjwt.encode(
                    good_claims, "another-key-entirely-at-least-32-bytes-long", "HS256"
                ),
                "expired": lambda: create_access_token(
                    identity=admin.id,
                    additional_claims=claims,
                    expires_delta=timedelta(seconds=-30),
                ),
                "alg-none": lambda: pyjwt.encode(good_claims, None, algorithm="none"),
                "alg-none-unsigned": lambda: f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
                "tampered-payload": lambda: (
                    f"{header}.{_b64({**_unb64(payload), 'role': 'superadmin'})}.{signature}"
                ),
                "missing-role": lambda: create_access_token(
                    identity=admin.id, additional_claims={"company_id": admin.company_id}
                ),
                "missing-company": lambda: create_access_token(
                    identity=admin.id, additional_claims={"role": "admin"}
                ),
                "missing-sub": lambda: pyjwt.encode(
                    {k: v for k, v in good_claims.items() if k != "sub"}, key, "HS256"
                ),
                "refresh-token": lambda: create_refresh_token(identity=admin.id),
                "unknown-user": lambda: create_access_token(
                    identity="user_01J000000000000000000000000", additional_claims=claims
                ),
            }
            if kind in tokens:
                return {"Authorization": f"Bearer {tokens[kind]()}"}
        return {
            "missing-header": {},
            "empty-header": {"Authorization": ""},
            "basic-scheme": {"Authorization": "Basic YWRtaW46cGFzcw=="},
            "bearer-without-token": {"Authorization": "Bearer"},
            "bearer-two-words": {"Authorization": f"Bearer {good} extra"},
            "no-space-after-bearer": {"Authorization": f"Bearer{good}"},
        }[kind]

    return build


BAD_TOKENS = [
    ("missing-header", "Missing or malformed access token."),
    ("empty-header", "Missing or malformed access token."),
    ("basic-scheme", "Missing or malformed access token."),
    ("bearer-without-token", "Invalid token."),
    ("bearer-two-words", "Invalid token."),
    ("no-space-after-bearer", "Missing or malformed access token."),
    ("garbage", "Invalid token."),
    ("three-garbage-segments", "Invalid token."),
    ("other-key", "Invalid token."),
    ("expired", "Token has expired."),
    ("alg-none", "Invalid token."),
    ("alg-none-unsigned", "Invalid token."),
    ("tampered-payload", "Invalid token."),
    ("missing-role", "Invalid token."),
    ("missing-company", "Invalid token."),
    ("missing-sub", "Invalid token."),
    ("refresh-token", "Invalid token."),
    ("unknown-user", "The token's user is unknown or deactivated."),
]


@pytest.mark.parametrize(("kind", "message"), BAD_TOKENS, ids=[kind for kind, _ in BAD_TOKENS])
def test_bad_token_is_401_json(client, forge, kind, message):
    assert_unauthorized(client.get("/auth/me", headers=forge(kind)), message)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("missing-header", "Missing or malformed access token."),
        ("expired", "Token has expired."),
    ],
)
@pytest.mark.parametrize(("method", "path"), [("GET", "/customers"), ("POST", "/bookings")])
def test_bad_token_is_401_json_everywhere(client, forge, kind, message, method, path):
    response = client.open(path, method=method, headers=forge(kind), json={})

    assert_unauthorized(response, message)


# --- GET /users ---------------------------------------------------------------------------


def _emails(response: TestResponse) -> list[str]:
    assert response.status_code == 200
    body = response.get_json()
    assert sorted(body) == ["items", "next_cursor"]
    assert body["next_cursor"] is None
    return sorted(item["email"] for item in body["items"])


EVERFRESH_EMAILS = ["admin@everfresh.test", "customer@everfresh.test", "staff@everfresh.test"]
BRIGHTHOME_EMAILS = ["admin@brighthome.test", "staff@brighthome.test"]


def test_admin_lists_own_company_users(client, login_as):
    assert _emails(client.get("/users", headers=login_as("admin"))) == EVERFRESH_EMAILS
    assert (
        _emails(client.get("/users", headers=login_as("admin", "brighthome"))) == BRIGHTHOME_EMAILS
    )


def test_user_list_items_are_users(client, login_as, user_row):
    items = client.get("/users", headers=login_as("admin")).get_json()["items"]

    for item in items:
        assert list(item) == USER_KEYS
        assert item["id"] == user_row(item["email"]).id


def test_superadmin_lists_every_user_or_one_company(client, login_as, tenants):
    headers = login_as("superadmin")
    everyone = sorted([*EVERFRESH_EMAILS, *BRIGHTHOME_EMAILS, "superadmin@everfresh.test"])

    assert _emails(client.get("/users", headers=headers)) == everyone
    brighthome = tenants["brighthome"].company_id
    assert (
        _emails(client.get(f"/users?company_id={brighthome}", headers=headers)) == BRIGHTHOME_EMAILS
    )


def test_admin_cannot_list_another_companys_users(client, login_as, tenants):
    response = client.get(
        f"/users?company_id={tenants['brighthome'].company_id}", headers=login_as("admin")
    )

    assert_error(response, 404, "Not Found", "Company not found.")


def test_superadmin_naming_unknown_company_is_404(client, login_as):
    response = client.get("/users?company_id=comp_nope", headers=login_as("superadmin"))

    assert_error(response, 404, "Not Found", "Company not found.")


@pytest.mark.parametrize("role", ["customer", "staff"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_users_are_for_admins_only(client, login_as, role, method):
    body = {
        "email": "x@everfresh.test",
        "password": "a-long-password",
        "name": "X",
        "role": "staff",
    }

    response = client.open("/users", method=method, headers=login_as(role), json=body)

    assert_error(response, 403, "Forbidden", "Your role may not do this.")


def test_users_need_a_token(client):
    assert_unauthorized(client.get("/users"), "Missing or malformed access token.")


# --- POST /users --------------------------------------------------------------------------


def test_admin_creates_a_user_who_can_log_in(client, login_as, login, tenants):
    response = client.post(
        "/users",
        headers=login_as("admin"),
        json={
            "email": "New.Cleaner@EverFresh.test",
            "password": "a-long-password",
            "name": "New Cleaner",
            "role": "staff",
        },
    )

    assert response.status_code == 201
    body = response.get_json()
    assert list(body) == USER_KEYS
    assert USER_ID.fullmatch(body["id"])
    assert ISO_UTC_MS.fullmatch(body["created_at"])
    assert body == {
        "id": body["id"],
        "email": "new.cleaner@everfresh.test",
        "name": "New Cleaner",
        "role": "staff",
        "company_id": tenants["everfresh"].company_id,
        "customer_id": None,
        "active": True,
        "must_change_password": False,
        "created_at": body["created_at"],
    }
    logged_in = login("NEW.CLEANER@everfresh.test", "a-long-password")
    assert logged_in.status_code == 200
    assert logged_in.get_json()["user"] == body


def test_admin_may_name_own_company(client, login_as, tenants):
    company_id = tenants["everfresh"].company_id
    response = client.post(
        "/users",
        headers=login_as("admin"),
        json={
            "email": "second.admin@everfresh.test",
            "password": "a-long-password",
            "name": "Second Admin",
            "role": "admin",
            "company_id": company_id,
        },
    )

    assert response.status_code == 201
    assert response.get_json()["company_id"] == company_id


def test_admin_cannot_create_in_another_company(app, client, login_as, tenants):
    response = client.post(
        "/users",
        headers=login_as("admin"),
        json={
            "email": "intruder@brighthome.test",
            "password": "a-long-password",
            "name": "Intruder",
            "role": "admin",
            "company_id": tenants["brighthome"].company_id,
        },
    )

    assert_error(response, 404, "Not Found", "Company not found.")
    with app.app_context():
        assert (
            db.session.scalar(db.select(User).where(User.email == "intruder@brighthome.test"))
            is None
        )


def test_admin_cannot_create_a_superadmin(client, login_as):
    response = client.post(
        "/users",
        headers=login_as("admin"),
        json={
            "email": "boss@everfresh.test",
            "password": "a-long-password",
            "name": "Boss",
            "role": "superadmin",
        },
    )

    assert_error(response, 403, "Forbidden", "Only a superadmin may create a superadmin.")


def test_superadmin_creates_in_any_company(client, login_as, tenants):
    company_id = tenants["brighthome"].company_id
    response = client.post(
        "/users",
        headers=login_as("superadmin"),
        json={
            "email": "manager@brighthome.test",
            "password": "a-long-password",
            "name": "Manager",
            "role": "admin",
            "company_id": company_id,
        },
    )

    assert response.status_code == 201
    assert (response.get_json()["role"], response.get_json()["company_id"]) == ("admin", company_id)
    listed = client.get("/users", headers=login_as("admin", "brighthome"))
    assert "manager@brighthome.test" in _emails(listed)


def test_superadmin_must_name_the_company(client, login_as):
    response = client.post(
        "/users",
        headers=login_as("superadmin"),
        json={
            "email": "manager@brighthome.test",
            "password": "a-long-password",
            "name": "Manager",
            "role": "admin",
        },
    )

    assert validation_fields(response) == ["company_id"]


def test_superadmin_naming_unknown_company_on_create_is_404(client, login_as):
    response = client.post(
        "/users",
        headers=login_as("superadmin"),
        json={
            "email": "manager@nowhere.test",
            "password": "a-long-password",
            "name": "Manager",
            "role": "admin",
            "company_id": "comp_01J000000000000000000000000",
        },
    )

    assert_error(response, 404, "Not Found", "Company not found.")


def test_superadmin_creates_a_superadmin_without_company(client, login_as, login):
    body = {"email": "root@everfresh.test", "password": "a-long-password", "name": "Root"}

    response = client.post(
        "/users", headers=login_as("superadmin"), json={**body, "role": "superadmin"}
    )

    assert response.status_code == 201
    assert (response.get_json()["role"], response.get_json()["company_id"]) == ("superadmin", None)
    assert login("root@everfresh.test", "a-long-password").status_code == 200


def test_superadmin_with_a_company_is_refused(client, login_as, tenants):
    response = client.post(
        "/users",
        headers=login_as("superadmin"),
        json={
            "email": "root@everfresh.test",
            "password": "a-long-password",
            "name": "Root",
            "role": "superadmin",
            "company_id": tenants["everfresh"].company_id,
        },
    )

    assert validation_fields(response) == ["company_id"]


@pytest.mark.parametrize(
    "email", ["staff@everfresh.test", "STAFF@EverFresh.test", "admin@brighthome.test"]
)
def test_duplicate_email_is_409(client, login_as, email):
    response = client.post(
        "/users",
        headers=login_as("admin"),
        json={"email": email, "password": "a-long-password", "name": "Twin", "role": "staff"},
    )

    assert_error(response, 409, "Conflict", "A user with this email already exists.")


@pytest.mark.parametrize(
    "email", ["staff@everfresh.test", "admin@brighthome.test", "superadmin@everfresh.test"]
)
def test_a_taken_email_gets_one_answer_whoever_holds_it(client, login_as, email):
    response = client.post(
        "/users",
        headers=login_as("admin"),
        json={"email": email, "password": "a-long-password", "name": "Twin", "role": "staff"},
    )

    assert_error(response, 409, "Conflict", "A user with this email already exists.")


# Bodies that fail a check beyond their fields' own shapes, with what each is told.
INVALID_LINKS = [
    ({"role": "customer"}, ["customer_id"]),
    ({"customer_id": "cust_01J000000000000000000000000"}, ["customer_id"]),
    ({"staff_id": "staff_01J000000000000000000000000"}, ["staff_id"]),
    (
        {"customer_id": "cust_01J000000000000000000000000", "staff_id": "staff_x"},
        ["customer_id", "staff_id"],
    ),
    ({"role": "superadmin"}, None),
]


@pytest.mark.parametrize(("changes", "fields"), INVALID_LINKS)
def test_an_invalid_request_says_nothing_about_its_email(client, login_as, changes, fields):
    answers = []
    for email in [
        "nobody@everfresh.test",
        "staff@everfresh.test",
        "admin@brighthome.test",
        "superadmin@everfresh.test",
    ]:
        body = {"email": email, "password": "a-long-password", "name": "Probe", "role": "staff"}
        response = client.post("/users", headers=login_as("admin"), json={**body, **changes})
        answers.append((response.status_code, response.get_json()))

    assert answers == [answers[0]] * 4
    if fields is None:
        assert_error(response, 403, "Forbidden", "Only a superadmin may create a superadmin.")
    else:
        assert validation_fields(response) == fields


def test_account_creation_is_rate_limited_per_admin(app, client, login_as):
    app.config["ACCOUNT_CREATION_RATE_LIMIT"] = "2/hour"
    body = {"password": "a-long-password", "name": "New", "role": "staff"}
    admin = login_as("admin")
    first = client.post("/users", headers=admin, json={**body, "email": "one@everfresh.test"})
    second = client.post("/users", headers=admin, json={**body, "email": "staff@everfresh.test"})
    assert (first.status_code, second.status_code) == (201, 409)

    third = client.post("/users", headers=admin, json={**body, "email": "three@everfresh.test"})

    assert_error(third, 429, "Too Many Requests", "Too many accounts created. Try again later.")
    # Within the hour the window lasts; the limiter rounds its reset up to a whole second.
    assert 1 <= int(third.headers["Retry-After"]) <= 3601
    other = client.post(
        "/users",
        headers=login_as("admin", "brighthome"),
        json={**body, "email": "four@brighthome.test"},
    )
    assert other.status_code == 201


VALID_USER = {
    "email": "valid@everfresh.test",
    "password": "a-long-password",
    "name": "Valid",
    "role": "staff",
}


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"email": None}, ["email"]),
        ({"email": "not-an-email"}, ["email"]),
        ({"password": "short"}, ["password"]),
        ({"password": 12345678}, ["password"]),
        ({"name": ""}, ["name"]),
        ({"role": "owner"}, ["role"]),
        ({"active": False}, ["active"]),
        ({"email": "bad", "password": "short", "role": "boss"}, ["email", "password", "role"]),
    ],
    ids=lambda value: json.dumps(value) if isinstance(value, dict) else None,
)
def test_create_user_validates_body(client, login_as, changes, fields):
    response = client.post("/users", headers=login_as("admin"), json={**VALID_USER, **changes})

    assert validation_fields(response) == fields


@pytest.mark.parametrize("missing", ["email", "password", "name", "role"])
def test_create_user_requires_each_field(client, login_as, missing):
    body = {k: v for k, v in VALID_USER.items() if k != missing}

    response = client.post("/users", headers=login_as("admin"), json=body)

    assert validation_fields(response) == [missing]


@pytest.fixture
def other_customer_id(app: Flask, tenants) -> str:
    """Create a second EverFresh customer nobody has a login for and return its id."""
    with app.app_context():
        customer = Customer(company_id=tenants["everfresh"].company_id, name="Alan Turing")
        db.session.add(customer)
        db.session.commit()
        return customer.id


def test_customer_user_is_linked_to_a_customer_of_the_company(
    client, login_as, login, other_customer_id
):
    response = client.post(
        "/users",
        headers=login_as("admin"),
        json={
            "email": "alan@example.com",
            "password": "a-long-password",
            "name": "Alan Turing",
            "role": "customer",
            "customer_id": other_customer_id,
        },
    )

    assert response.status_code == 201
    assert response.get_json()["customer_id"] == other_customer_id
    user = login("alan@example.com", "a-long-password").get_json()["user"]
    assert (user["role"], user["customer_id"]) == ("customer", other_customer_id)


@pytest.mark.parametrize(
    "customer_id", [None, "brighthome", "cust_01J000000000000000000000000"], ids=str
)
def test_customer_user_needs_a_customer_of_the_same_company(
    app, client, login_as, tenants, customer_id
):
    body = {
        "email": "orphan@example.com",
        "password": "a-long-password",
        "name": "Orphan",
        "role": "customer",
    }
    if customer_id == "brighthome":
        body["customer_id"] = tenants["brighthome"].customer_id
    elif customer_id is not None:
        body["customer_id"] = customer_id

    response = client.post("/users", headers=login_as("admin"), json=body)

    assert validation_fields(response) == ["customer_id"]
    with app.app_context():
        assert db.session.scalar(db.select(User).where(User.email == "orphan@example.com")) is None


def test_only_customer_users_link_to_a_customer(client, login_as, tenants):
    response = client.post(
        "/users",
        headers=login_as("admin"),
        json={**VALID_USER, "customer_id": tenants["everfresh"].customer_id},
    )

    assert validation_fields(response) == ["customer_id"]


@pytest.fixture
def unlinked_staff_id(app: Flask, tenants) -> str:
    """Create an EverFresh staff member without a login and return its id."""
    with app.app_context():
        staff = Staff(company_id=tenants["everfresh"].company_id, name="Unlinked")
        db.session.add(staff)
        db.session.commit()
        return staff.id


def test_staff_user_links_to_an_unlinked_staff_member(app, client, login_as, unlinked_staff_id):
    response = client.post(
        "/users", headers=login_as("admin"), json={**VALID_USER, "staff_id": unlinked_staff_id}
    )

    assert response.status_code == 201
    with app.app_context():
        assert db.session.get(Staff, unlinked_staff_id).user_id == response.get_json()["id"]


@pytest.mark.parametrize("which", ["already-linked", "other-company", "unknown", "admin-role"])
def test_staff_link_must_be_free_and_in_company(
    app, client, login_as, tenants, unlinked_staff_id, which
):
    staff_id = {
        "already-linked": tenants["everfresh"].staff_id,
        "other-company": tenants["brighthome"].staff_id,
        "unknown": "staff_01J000000000000000000000000",
        "admin-role": unlinked_staff_id,
    }[which]
    role = "admin" if which == "admin-role" else "staff"

    response = client.post(
        "/users", headers=login_as("admin"), json={**VALID_USER, "role": role, "staff_id": staff_id}
    )

    assert validation_fields(response) == ["staff_id"]
    with app.app_context():
        assert db.session.scalar(db.select(User).where(User.email == VALID_USER["email"])) is None
