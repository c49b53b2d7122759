"""End a user's sessions: deactivation and `POST /users/<id>/revoke-sessions` void old tokens.

Every token issued before the user's `sessions_valid_after` mark is refused on every request,
and the stream guard ends streams opened with one; tokens issued afterwards work.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from everfresh.auth.models import User
from everfresh.extensions import db
from tests.assertions import assert_error
from tests.test_security_tokens import assert_unauthorized
from tests.test_sse_access import open_stream

DEMO_PASSWORD = "everfresh-demo"
ENDED = "The session of this token has been ended."


def log_in(client: FlaskClient, email: str) -> dict[str, dict[str, str]]:
    """Log in over the API and return Authorization headers for the access and refresh tokens."""
    answer = client.post("/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    assert answer.status_code == 200
    tokens = answer.get_json()
    return {
        "access": {"Authorization": f"Bearer {tokens['access_token']}"},
        "refresh": {"Authorization": f"Bearer {tokens['refresh_token']}"},
    }


def assert_session_ended(client: FlaskClient, old: dict[str, dict[str, str]]) -> None:
    """Check that the old access and refresh tokens are refused, REST and stream alike."""
    assert_unauthorized(client.get("/auth/me", headers=old["access"]), ENDED)
    assert_unauthorized(client.get("/sse/events", headers=old["access"]), ENDED)
    assert_unauthorized(client.post("/auth/refresh", headers=old["refresh"]), ENDED)


def test_reactivation_does_not_bring_old_tokens_back(client, login_as, user_id):
    old = log_in(client, "staff@everfresh.test")
    url = f"/users/{user_id('staff@everfresh.test')}"
    admin = login_as("admin")
    assert client.patch(url, headers=admin, json={"active": False}).status_code == 200
    assert client.patch(url, headers=admin, json={"active": True}).status_code == 200

    assert_session_ended(client, old)
    new = log_in(client, "staff@everfresh.test")
    assert client.get("/auth/me", headers=new["access"]).status_code == 200
    assert client.post("/auth/refresh", headers=new["refresh"]).status_code == 200


@pytest.mark.parametrize(
    ("role", "company", "email"),
    [
        ("admin", "everfresh", "staff@everfresh.test"),
        ("superadmin", None, "staff@everfresh.test"),
        ("superadmin", None, "admin@brighthome.test"),
    ],
)
def test_revoking_sessions_voids_every_earlier_token(
    client, login_as, user_id, role, company, email
):
    old = log_in(client, email)
    bystander = log_in(client, "admin@everfresh.test")

    response = client.post(
        f"/users/{user_id(email)}/revoke-sessions", headers=login_as(role, company)
    )

    assert (response.status_code, response.get_data()) == (204, b"")
    assert_session_ended(client, old)
    assert client.get("/auth/me", headers=bystander["access"]).status_code == 200
    new = log_in(client, email)
    assert client.get("/auth/me", headers=new["access"]).status_code == 200


@pytest.mark.parametrize(
    ("role", "company", "email", "status", "name", "message"),
    [
        ("admin", "everfresh", "staff@brighthome.test", 404, "Not Found", "User not found."),
        ("admin", "everfresh", "superadmin@everfresh.test", 404, "Not Found", "User not found."),
        ("staff", "everfresh", "admin@everfresh.test", 403, "Forbidden", None),
        ("customer", "everfresh", "staff@everfresh.test", 403, "Forbidden", None),
    ],
)
def test_only_admins_revoke_sessions_of_users_they_manage(
    app, client, login_as, user_id, role, company, email, status, name, message
):
    response = client.post(
        f"/users/{user_id(email)}/revoke-sessions", headers=login_as(role, company)
    )

    assert response.status_code == status
    assert response.get_json()["error"]["name"] == name
    if message is not None:
        assert_error(response, status, name, message)
    with app.app_context():
        user = db.session.scalars(db.select(User).where(User.email == email)).one()
        assert user.sessions_valid_after is None


def test_revoking_sessions_of_an_unknown_user_is_404(client, login_as):
    response = client.post(
        "/users/user_01J000000000000000000000000/revoke-sessions", headers=login_as("admin")
    )

    assert_error(response, 404, "Not Found", "User not found.")


def test_the_guard_ends_streams_opened_before_the_sessions_ended(app, client, login_as, user_id):
    old = log_in(client, "staff@everfresh.test")
    before, _ = open_stream(client, old["access"])
    before_chunks = iter(before.response)
    other, other_chunks = open_stream(client, login_as("admin"))
    staff_id = user_id("staff@everfresh.test")
    revoked = client.post(f"/users/{staff_id}/revoke-sessions", headers=login_as("admin"))
    assert revoked.status_code == 204
    after, after_chunks = open_stream(client, log_in(client, "staff@everfresh.test")["access"])
    assert after.status_code == 200

    assert app.extensions["everfresh.stream_guard"].check_once() == 1
    assert list(before_chunks) == []
    assert next(other_chunks) == b": keep-alive\n\n"
    assert next(after_chunks) == b": keep-alive\n\n"
    other.close()
    after.close()
