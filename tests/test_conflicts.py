"""Answer 409, never 500, when a create breaks a unique constraint, also when requests race.

The races run against a real gunicorn on PostgreSQL: requests released together by a barrier
are served concurrently by the worker's greenlets, each in its own transaction.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import Conflict

from everfresh.auth.models import Role, User
from everfresh.companies.models import Company
from everfresh.extensions import db
from everfresh.web.conflicts import commit_or_conflict, unique_violation
from tests.live import LiveServer, prepare_database

RACERS = 8


def race(server: LiveServer, token: str, path: str, bodies: list[dict[str, Any]]) -> list[Any]:
    """Send one POST per body at the same moment; return the responses."""
    barrier = threading.Barrier(len(bodies))

    def send(body: dict[str, Any]) -> Any:
        barrier.wait()
        return server.request("POST", path, body, token=token, timeout=30)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(send, bodies))


def outcome(responses: list[Any]) -> Counter:
    """Count the responses by status."""
    return Counter(response.status for response in responses)


@pytest.fixture
def server(live_server: Callable[..., LiveServer], postgres_url: str) -> LiveServer:
    """Serve the demo data from PostgreSQL with one gevent worker."""
    prepare_database(postgres_url)
    return live_server(postgres_url)


def test_companies_racing_for_one_name_get_one_201_and_409s(server):
    token = server.login("superadmin@everfresh.test")

    responses = race(server, token, "/companies", [{"name": "Sparkle Ltd"}] * RACERS)

    assert outcome(responses) == {201: 1, 409: RACERS - 1}
    for response in responses:
        if response.status == 409:
            assert response.body == {
                "error": {
                    "code": 409,
                    "name": "Conflict",
                    "message": "A company with this name already exists.",
                }
            }


def test_users_racing_for_one_email_get_one_201_and_409s(server):
    token = server.login("admin@everfresh.test")
    body = {"email": "twin@everfresh.test", "password": "a-long-password", "name": "Twin"}

    responses = race(server, token, "/users", [{**body, "role": "staff"}] * RACERS)

    assert outcome(responses) == {201: 1, 409: RACERS - 1}
    assert {r.body["error"]["message"] for r in responses if r.status == 409} == {
        "A user with this email already exists."
    }


def test_users_racing_for_one_staff_member_link_it_once(server):
    token = server.login("admin@everfresh.test")
    staff_id = server.request("POST", "/staff", {"name": "Newcomer"}, token=token).body["id"]
    bodies = [
        {
            "email": f"newcomer-{n}@everfresh.test",
            "password": "a-long-password",
            "name": "Newcomer",
            "role": "staff",
            "staff_id": staff_id,
        }
        for n in range(RACERS)
    ]

    responses = race(server, token, "/users", bodies)

    # The losers get what a request a moment later gets: the member is linked already.
    assert outcome(responses) == {201: 1, 422: RACERS - 1}
    assert {str(r.body["error"]["fields"]) for r in responses if r.status == 422} == {
        str({"staff_id": "Only a staff user links to an unlinked staff member."})
    }
    winner = next(r.body for r in responses if r.status == 201)
    staff = server.request("GET", "/staff?limit=100", token=token).body["items"]
    assert [row["user_id"] for row in staff if row["id"] == staff_id] == [winner["id"]]
    users = server.request("GET", "/users?limit=100", token=token).body["items"]
    assert [u["email"] for u in users if u["email"].startswith("newcomer-")] == [winner["email"]]


def test_commit_or_conflict_rolls_back_and_answers_409(app):
    with app.app_context():
        db.session.add(Company(name="EverFresh Demo"))
        with pytest.raises(Conflict) as raised:
            commit_or_conflict("A company with this name already exists.")
        assert raised.value.description == "A company with this name already exists."
        # The session is usable again: the failed insert was rolled back.
        assert db.session.scalar(db.select(db.func.count()).select_from(Company)) == 2


def test_unique_violation_names_the_columns(app):
    with app.app_context():
        db.session.add(
            User(email="admin@everfresh.test", name="Twin", role=Role.STAFF, password_hash="x")
        )
        with pytest.raises(IntegrityError) as raised:
            db.session.commit()
        db.session.rollback()

    assert unique_violation(raised.value) == "users.email"


def test_commit_or_conflict_leaves_other_integrity_errors_alone(app):
    with app.app_context():
        db.session.add(
            User(
                email="orphan@everfresh.test",
                password_hash="x",
                name="Orphan",
                role="staff",
                company_id="comp_missing",
            )
        )
        with pytest.raises(IntegrityError):
            commit_or_conflict("never said")
        db.session.rollback()
