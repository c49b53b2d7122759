"""Change accounts with `PATCH /users/<id>`: rename, change role, (de)activate, within the rules.

Deactivating a user refuses their tokens at once; an admin reaches only their own company's
users (others are 404, as if they did not exist) and cannot demote or deactivate themselves.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from everfresh.auth.models import User
from everfresh.extensions import db
from tests.assertions import assert_error, invalid_fields
from tests.test_security_tokens import assert_unauthorized

DEMO_PASSWORD = "everfresh-demo"


@pytest.fixture
def patch(client: FlaskClient, login_as, user_id) -> Callable[..., TestResponse]:
    """Return a function sending `PATCH /users/<id of email>` as a demo caller."""

    def send(
        email: str, body: Any, role: str = "admin", company: str | None = "everfresh"
    ) -> TestResponse:
        return client.patch(f"/users/{user_id(email)}", headers=login_as(role, company), json=body)

    return send


def test_admin_renames_promotes_and_deactivates_a_user_of_the_company(patch, tenants, user_id):
    response = patch("staff@everfresh.test", {"name": "Head Cleaner", "role": "admin"})

    assert response.status_code == 200
    assert response.get_json() == {
        "id": user_id("staff@everfresh.test"),
        "email": "staff@everfresh.test",
        "name": "Head Cleaner",
        "role": "admin",
        "company_id": tenants["everfresh"].company_id,
        "customer_id": None,
        "active": True,
        "must_change_password": False,
        "created_at": response.get_json()["created_at"],
    }
    deactivated = patch("staff@everfresh.test", {"active": False})
    assert (deactivated.status_code, deactivated.get_json()["active"]) == (200, False)
    assert patch("staff@everfresh.test", {"active": True}).get_json()["active"] is True


def test_deactivation_refuses_the_users_tokens_at_once_and_their_login(client, patch):
    login = client.post(
        "/auth/login", json={"email": "staff@everfresh.test", "password": DEMO_PASSWORD}
    ).get_json()
    access = {"Authorization": f"Bearer {login['access_token']}"}
    refresh = {"Authorization": f"Bearer {login['refresh_token']}"}
    assert client.get("/auth/me", headers=access).status_code == 200

    assert patch("staff@everfresh.test", {"active": False}).status_code == 200

    message = "The token's user is unknown or deactivated."
    assert_unauthorized(client.get("/auth/me", headers=access), message)
    assert_unauthorized(client.get("/sse/events", headers=access), message)
    assert_unauthorized(client.post("/auth/refresh", headers=refresh), message)
    relogin = client.post(
        "/auth/login", json={"email": "staff@everfresh.test", "password": DEMO_PASSWORD}
    )
    assert_unauthorized(relogin, "Invalid email or password.")


def test_superadmin_changes_users_of_any_company(patch):
    response = patch(
        "admin@brighthome.test", {"name": "Former Admin", "role": "staff"}, role="superadmin"
    )

    assert response.status_code == 200
    assert (response.get_json()["name"], response.get_json()["role"]) == ("Former Admin", "staff")


@pytest.mark.parametrize(
    "email",
    ["staff@brighthome.test", "admin@brighthome.test", "superadmin@everfresh.test"],
)
def test_admin_cannot_reach_users_outside_the_company(app, patch, email):
    response = patch(email, {"active": False})

    assert_error(response, 404, "Not Found", "User not found.")
    with app.app_context():
        assert db.session.scalars(db.select(User.active).where(User.email == email)).one()


def test_unknown_user_is_404(client, login_as):
    response = client.patch(
        "/users/user_01J000000000000000000000000", headers=login_as("admin"), json={"name": "X"}
    )

    assert_error(response, 404, "Not Found", "User not found.")


@pytest.mark.parametrize("role", ["customer", "staff"])
def test_only_admins_change_users(patch, role):
    response = patch("staff@everfresh.test", {"name": "Mine Now"}, role=role)

    assert_error(response, 403, "Forbidden", "Your role may not do this.")


@pytest.mark.parametrize(
    ("caller", "body"),
    [
        ("admin", {"active": False}),
        ("admin", {"role": "staff"}),
        ("admin", {"role": "staff", "name": "Demoted"}),
        ("superadmin", {"active": False}),
    ],
    ids=[
        "admin-deactivates-self",
        "admin-demotes-self",
        "admin-demotes-self-while-renaming",
        "superadmin-off",
    ],
)
def test_nobody_demotes_or_deactivates_themselves(patch, caller, body):
    email = {"admin": "admin@everfresh.test", "superadmin": "superadmin@everfresh.test"}[caller]

    response = patch(email, body, role=caller)

    assert_error(response, 409, "Conflict", "You cannot demote or deactivate yourself.")


def test_renaming_yourself_is_fine(patch):
    response = patch("admin@everfresh.test", {"name": "Still Admin", "role": "admin"})

    assert response.status_code == 200
    assert (response.get_json()["name"], response.get_json()["role"]) == ("Still Admin", "admin")


def test_only_a_superadmin_makes_a_superadmin(patch):
    response = patch("staff@everfresh.test", {"role": "superadmin"})

    assert_error(response, 403, "Forbidden", "Only a superadmin may make a superadmin.")


@pytest.mark.parametrize(
    ("email", "role", "message"),
    [
        (
            "staff@everfresh.test",
            "superadmin",
            "A superadmin belongs to no company: create a new user.",
        ),
        (
            "staff@everfresh.test",
            "customer",
            "A customer account keeps its role: create a new user.",
        ),
        (
            "customer@everfresh.test",
            "staff",
            "A customer account keeps its role: create a new user.",
        ),
    ],
)
def test_role_changes_keep_the_rules_of_new_accounts(patch, email, role, message):
    response = patch(email, {"role": role}, role="superadmin")

    assert invalid_fields(response) == {"role": message}


def test_a_superadmin_stays_one(app, client, login_as):
    created = client.post(
        "/users",
        headers=login_as("superadmin"),
        json={
            "email": "root@everfresh.test",
            "password": "a-long-password",
            "name": "Root",
            "role": "superadmin",
        },
    )
    assert created.status_code == 201

    response = client.patch(
        f"/users/{created.get_json()['id']}", headers=login_as("superadmin"), json={"role": "admin"}
    )

    assert invalid_fields(response) == {
        "role": "A superadmin belongs to no company: create a new user."
    }


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"body": "Send at least one field to change."}),
        ({"name": None}, {"name": "May be left out, but not null."}),
        ({"active": None}, {"active": "May be left out, but not null."}),
        ({"role": None}, {"role": "May be left out, but not null."}),
        ({"name": ""}, {"name": "String should have at least 1 character"}),
        ({"active": "false"}, {"active": "Input should be a valid boolean"}),
        ({"active": 0}, {"active": "Input should be a valid boolean"}),
        (
            {"role": "owner"},
            {"role": "Input should be 'customer', 'staff', 'admin' or 'superadmin'"},
        ),
        ({"email": "new@everfresh.test"}, {"email": "Unknown field."}),
        ({"company_id": "comp_x"}, {"company_id": "Unknown field."}),
        ({"password": "a-new-password"}, {"password": "Unknown field."}),
        ([], {"body": "Input should be a valid dictionary or instance of UpdateUserRequest"}),
    ],
    ids=lambda value: json.dumps(value) if isinstance(value, (dict, list)) else None,
)
def test_update_validates_the_body(patch, body, fields):
    response = patch("staff@everfresh.test", body)

    assert invalid_fields(response) == fields
