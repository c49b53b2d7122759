"""Answer 409, never 500, when a create breaks a unique constraint or two changes of one booking
clash, also when requests race.

The races run against a real gunicorn on PostgreSQL: requests released together by a barrier
are served concurrently by the workers' greenlets, each in its own transaction.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import Conflict

from everfresh.auth.models import User
from everfresh.companies.models import Company
from everfresh.extensions import db
from everfresh.web.conflicts import commit_or_conflict, unique_violation
from tests.dates import in_days
from tests.live import LiveServer, prepare_database

RACERS = 8


def race(
    server: LiveServer, token: str, path: str, bodies: list[dict[str, Any]], method: str = "POST"
) -> list[Any]:
    """Send one request per body at the same moment; return the responses, in body order."""
    barrier = threading.Barrier(len(bodies))

    def send(body: dict[str, Any]) -> Any:
        barrier.wait()
        return server.request(method, path, body, token=token, timeout=30)

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
        db.session.add(Company(name="EverFresh Demo"))
        with pytest.raises(IntegrityError) as raised:
            db.session.commit()
        db.session.rollback()

    assert unique_violation(raised.value) == "companies.name"


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


# --- Racing changes of one booking: one writer at a time --------------------------------------

# Twelve PATCHes of one booking at once, half of each kind, in each of several rounds.
PER_SIDE = 6
ROUNDS = 4
# Every status move the workflow has (DESIGN.md §5b), written out here on purpose.
WORKFLOW_MOVES = {
    ("pending", "confirmed"),
    ("confirmed", "in_progress"),
    ("in_progress", "completed"),
    ("pending", "cancelled"),
    ("confirmed", "cancelled"),
    ("in_progress", "cancelled"),
}


@pytest.fixture
def two_workers(
    live_server: Callable[..., LiveServer], postgres_url: str, redis_url: str, redis_prefix: str
) -> LiveServer:
    """Serve the demo data from PostgreSQL with two gevent workers (and Redis between them)."""
    prepare_database(postgres_url)
    return live_server(
        postgres_url, WEB_CONCURRENCY="2", REDIS_URL=redis_url, REDIS_PREFIX=redis_prefix
    )


@pytest.fixture
def logged(postgres_url: str) -> Iterator[Callable[[str], list[dict[str, Any]]]]:
    """Return a function listing, in log order, the payloads of one booking's events."""
    engine = sqlalchemy.create_engine(postgres_url)

    def payloads(booking_id: str) -> list[dict[str, Any]]:
        with engine.connect() as connection:
            rows = connection.execute(sqlalchemy.text("SELECT payload FROM events ORDER BY id"))
            found = [json.loads(payload) for (payload,) in rows]
        return [payload for payload in found if payload["booking_id"] == booking_id]

    yield payloads
    engine.dispose()


def assert_possible_moves(payloads: list[dict[str, Any]]) -> None:
    """Check that the logged statuses of a booking follow the workflow, and stop at a final one."""
    statuses = [payload["status"] for payload in payloads]
    assert statuses[0] == "pending"
    for before, after in zip(statuses, statuses[1:], strict=False):
        assert before == after or (before, after) in WORKFLOW_MOVES, statuses


def by_body(
    bodies: list[dict[str, Any]], responses: list[Any], kinds: dict[str, dict[str, Any]]
) -> dict[str, list[Any]]:
    """Group the responses by the kind of body each request sent."""
    return {
        kind: [answer for body, answer in zip(bodies, responses, strict=True) if body is sent]
        for kind, sent in kinds.items()
    }


def test_assigning_and_rescheduling_into_the_overlap_have_one_winner(two_workers, logged):
    server = two_workers
    token = server.login("admin@everfresh.test")
    staff_id = server.request("GET", "/staff", token=token).body["items"][0]["id"]
    service = server.request("GET", "/services", token=token).body["items"][0]
    for round_number in range(ROUNDS):
        day = in_days(2 + round_number)
        # The staff member is busy 10:00 to 10:00 plus the service's length; the booking is
        # unassigned at 14:00. Assigning them, or moving it to 10:30, is fine alone, not both.
        server.create_booking(
            token, service_id=service["id"], scheduled_date=day, staff_id=staff_id
        )
        booking = server.create_booking(
            token, service_id=service["id"], scheduled_date=day, scheduled_time_start="14:00"
        )
        kinds = {"assign": {"staff_id": staff_id}, "move": {"scheduled_time_start": "10:30"}}
        bodies = [kinds["assign"], kinds["move"]] * PER_SIDE

        path = f"/bookings/{booking['booking_id']}"
        answers = by_body(bodies, race(server, token, path, bodies, "PATCH"), kinds)

        winners = [kind for kind, group in answers.items() if 200 in {a.status for a in group}]
        assert len(winners) == 1, f"round {round_number}: both {winners} won"
        (winner,) = winners
        (loser,) = set(kinds) - {winner}
        final = server.request("GET", path, token=token).body
        # The first of the winning kind changed the booking; its repeats changed nothing.
        assert [(a.status, a.body) for a in answers[winner]] == [(200, final)] * PER_SIDE
        clash = {
            "error": {
                "code": 409,
                "name": "Conflict",
                "message": "The staff member already has a booking at that time.",
                "fields": {
                    "staff_id": f"Already booked from 10:00 on {day} for "
                    f"{service['duration_minutes']} minutes."
                },
            }
        }
        assert [(a.status, a.body) for a in answers[loser]] == [(409, clash)] * PER_SIDE
        payloads = logged(booking["booking_id"])
        assert_possible_moves(payloads)
        changes = [payload.get("changes") for payload in payloads]
        assert changes == [
            None,
            ["staff_id"] if winner == "assign" else ["scheduled_time_start"],
        ]
        assert_staff_member_free_of_overlaps(server, token, staff_id, day, service)


def assert_staff_member_free_of_overlaps(
    server: LiveServer, token: str, staff_id: str, day: str, service: dict[str, Any]
) -> None:
    """Check that no two bookings of the staff member on `day` share a minute."""
    query = f"/bookings?date_from={day}&date_to={day}&limit=100"
    held = sorted(
        datetime.fromisoformat(f"{day}T{booking['scheduled_time_start']}")
        for booking in server.request("GET", query, token=token).body["items"]
        if booking["staff_id"] == staff_id and booking["status"] != "cancelled"
    )
    length = timedelta(minutes=service["duration_minutes"])
    for earlier, later in zip(held, held[1:], strict=False):
        assert earlier + length <= later, f"{staff_id} double-booked on {day}: {held}"


def test_completing_and_cancelling_a_booking_under_way_have_one_winner(two_workers, logged):
    server = two_workers
    token = server.login("admin@everfresh.test")
    for round_number in range(ROUNDS):
        booking = server.create_booking(token, scheduled_date=in_days(2 + round_number))
        path = f"/bookings/{booking['booking_id']}"
        for status in ("confirmed", "in_progress"):
            assert server.request("PATCH", path, {"status": status}, token=token).status == 200
        kinds = {"complete": {"status": "completed"}, "cancel": {"status": "cancelled"}}
        bodies = [kinds["complete"], kinds["cancel"]] * PER_SIDE

        responses = race(server, token, path, bodies, "PATCH")

        assert Counter(a.status for a in responses) == {200: 1, 409: 2 * PER_SIDE - 1}, (
            f"round {round_number}: {[(a.status, a.body) for a in responses]}"
        )
        final = server.request("GET", path, token=token).body
        assert [a.body for a in responses if a.status == 200] == [final]
        status = final["status"]
        refusal = {
            "error": {
                "code": 409,
                "name": "Conflict",
                "message": f"The booking is {status}; it can no longer change.",
                "fields": {"status": f"A {status} booking is final."},
            }
        }
        assert [a.body for a in responses if a.status == 409] == [refusal] * (2 * PER_SIDE - 1)
        payloads = logged(booking["booking_id"])
        assert [p["status"] for p in payloads] == ["pending", "confirmed", "in_progress", status]
        assert_possible_moves(payloads)
