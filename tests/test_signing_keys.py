"""Rotate the signing key: tokens of the previous key stay valid while it is kept, no longer."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import jwt as pyjwt
import pytest
from flask import Flask

from everfresh import create_app
from everfresh.auth.models import User
from everfresh.auth.signing_keys import key_id
from everfresh.auth.tokens import issue_access_token
from everfresh.extensions import db

OLD_KEY = "old-signing-key-0123456789-abcdefghijklmnopqrstuvwxyz"
NEW_KEY = "new-signing-key-9876543210-zyxwvutsrqponmlkjihgfedcba"


@pytest.fixture
def app_with(database_url: str, app: Flask) -> Iterator[Callable[..., Flask]]:
    """Build apps on the demo database with the signing keys given."""
    made: list[Flask] = []

    def build(current: str, previous: str = "") -> Flask:
        made.append(
            create_app(
                {
                    "SQLALCHEMY_DATABASE_URI": database_url,
                    "JWT_SECRET_KEY": current,
                    "JWT_PREVIOUS_SECRET_KEY": previous,
                },
                environment="testing",
            )
        )
        return made[-1]

    yield build
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def staff_token(app: Flask) -> str:
    """Return an access token the app issues to the demo staff member."""
    with app.app_context():
        user = db.session.scalars(db.select(User).where(User.email == "staff@everfresh.test")).one()
        return issue_access_token(user)["access_token"]


def me_status(app: Flask, token: str) -> int:
    """Return the status of `GET /auth/me` with `token`."""
    return (
        app.test_client().get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code
    )


def test_tokens_name_the_key_that_signed_them(app_with) -> None:
    token = staff_token(app_with(OLD_KEY))

    assert pyjwt.get_unverified_header(token)["kid"] == key_id(OLD_KEY)
    assert OLD_KEY not in token and key_id(OLD_KEY) != OLD_KEY


def test_during_a_rotation_both_keys_verify_and_the_new_one_signs(app_with) -> None:
    old_token = staff_token(app_with(OLD_KEY))
    rotating = app_with(NEW_KEY, previous=OLD_KEY)

    assert me_status(rotating, old_token) == 200
    new_token = staff_token(rotating)
    assert pyjwt.get_unverified_header(new_token)["kid"] == key_id(NEW_KEY)
    assert me_status(rotating, new_token) == 200


def test_after_the_rotation_the_old_keys_tokens_are_refused(app_with) -> None:
    old_token = staff_token(app_with(OLD_KEY))

    assert me_status(app_with(NEW_KEY), old_token) == 401


def test_a_token_naming_a_held_key_but_signed_with_another_is_refused(app_with) -> None:
    genuine = staff_token(app_with(OLD_KEY))
    claims = pyjwt.decode(genuine, options={"verify_signature": False})
    forged = pyjwt.encode(
        claims, "attacker-key-" + "x" * 40, algorithm="HS256", headers={"kid": key_id(OLD_KEY)}
    )

    assert me_status(app_with(NEW_KEY, previous=OLD_KEY), forged) == 401


def test_a_token_from_before_key_names_is_checked_with_the_current_key(app_with) -> None:
    genuine = staff_token(app_with(NEW_KEY))
    claims = pyjwt.decode(genuine, options={"verify_signature": False})
    unnamed = pyjwt.encode(claims, NEW_KEY, algorithm="HS256")

    assert "kid" not in pyjwt.get_unverified_header(unnamed)
    assert me_status(app_with(NEW_KEY, previous=OLD_KEY), unnamed) == 200
