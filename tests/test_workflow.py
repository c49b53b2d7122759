"""Hold PATCH /bookings/<id> to the workflow and the roles, and `allowed_actions` to both.

The expectations are written out here from DESIGN.md §5b, not derived from the code's tables:
pending → confirmed → in_progress → completed, cancelled from any status not final, nothing
else; a final booking changes no field; staff confirm, start, complete, edit notes and assign
themselves to an unassigned booking; admins and superadmins do all that and also assign
anyone or no one, reschedule and cancel.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from everfresh.auth.models import User
from everfresh.auth.tokens import issue_access_token
from everfresh.bookings.models import Booking
from everfresh.catalog.models import Staff
from everfresh.eventlog.models import Event
from everfresh.extensions import db
from tests.dates import in_days

STATUSES = ["pending", "confirmed", "in_progress", "completed", "cancelled"]
FINAL = {"completed", "cancelled"}
# Where each status not final may move, in the workflow's order.
ONWARD = {
    "pending": ["confirmed", "cancelled"],
    "confirmed": ["in_progress", "cancelled"],
    "in_progress": ["completed", "cancelled"],
}
ROLES = ["customer", "staff", "admin", "superadmin"]
ALL_ACTIONS = [
    "assign",
    "assign_self",
    "cancel",
    "complete",
    "confirm",
    "edit_notes",
    "reschedule",
    "start",
]
# The status move each status-changing action makes.
MOVE_OF = {
    "confirm": "confirmed",
    "start": "in_progress",
    "complete": "completed",
    "cancel": "cancelled",
}
ROLE_REFUSAL = "Your role may not do this."
ONLY_ADMINS_ASSIGN = (
    "Staff assign only themselves, and only to an unassigned booking; an admin assigns "
    "anyone else, or no one."
)
ONLY_ADMINS_CANCEL = "Only an admin may cancel a booking."
ONLY_ADMINS_RESCHEDULE = "Only an admin may reschedule a booking."


def forbidden(message: str) -> tuple[int, dict[str, Any]]:
    """Return the status and body of a 403 saying `message`."""
    return 403, {"error": {"code": 403, "name": "Forbidden", "message": message}}


def final_refusal(status: str) -> tuple[int, dict[str, Any]]:
    """Return the status and body refusing any change to a booking in a final `status`."""
    return 409, {
        "error": {
            "code": 409,
            "name": "Conflict",
            "message": f"The booking is {status}; it can no longer change.",
            "fields": {"status": f"A {status} booking is final."},
        }
    }


def move_refusal(current: str, target: str) -> tuple[int, dict[str, Any]]:
    """Return the status and body refusing a move of status the workflow does not have."""
    onward = " or ".join(ONWARD[current])
    return 409, {
        "error": {
            "code": 409,
            "name": "Conflict",
            "message": "The workflow does not allow this change of status.",
            "fields": {"status": f"A {current} booking moves only to {onward}, not to {target}."},
        }
    }


@pytest.fixture
def database_url(tmp_path) -> str:
    """Run these tables on SQLite alone (several hundred cases, each with fresh demo data).

    The rules read the same on both databases; PATCH on PostgreSQL is held by
    tests/test_bookings.py and its races by tests/test_conflicts.py.
    """
    return f"sqlite:///{tmp_path / 'everfresh.sqlite3'}"


@pytest.fixture
def second_cleaner(app: Flask, tenants) -> str:
    """Add a staff member with no login to EverFresh and return their id."""
    with app.app_context():
        staff = Staff(company_id=tenants["everfresh"].company_id, name="Second Cleaner")
        db.session.add(staff)
        db.session.commit()
        return staff.id


@pytest.fixture
def headers_of(app: Flask, login_as) -> Callable[[str], dict[str, str]]:
    """Return a function giving Authorization headers for a role, `unlinked_staff` included.

    `unlinked_staff` is a staff login of EverFresh linked to no Staff row.
    """

    def headers(role: str) -> dict[str, str]:
        if role != "unlinked_staff":
            return login_as(role)
        with app.app_context():
            company_id = db.session.scalars(
                db.select(User.company_id).where(User.email == "staff@everfresh.test")
            ).one()
            user = db.session.scalars(
                db.select(User).where(User.email == "unlinked@everfresh.test")
            ).one_or_none()
            if user is None:
                user = User(
                    email="unlinked@everfresh.test",
                    password_hash="not-a-hash",
                    name="Unlinked",
                    role="staff",
                    company_id=company_id,
                )
                db.session.add(user)
                db.session.commit()
            return {"Authorization": f"Bearer {issue_access_token(user)['access_token']}"}

    return headers


@pytest.fixture
def booking_in(app: Flask, client: FlaskClient, login_as, tenants) -> Callable[..., str]:
    """Return a function creating an EverFresh booking in a status, on a day of its own."""
    days = itertools.count(1)

    def make(status: str = "pending", staff_id: str | None = None) -> str:
        everfresh = tenants["everfresh"]
        response = client.post(
            "/bookings",
            headers=login_as("admin"),
            json={
                "customer_id": everfresh.customer_id,
                "service_id": everfresh.service_id,
                "staff_id": staff_id,
                "scheduled_date": in_days(next(days)),
                "scheduled_time_start": "10:00",
            },
        )
        assert response.status_code == 201, response.json
        booking_id = response.json["booking_id"]
        with app.app_context():
            # Straight to the status: how it got there is tested on its own.
            db.session.get(Booking, booking_id).status = status
            db.session.commit()
        return booking_id

    return make


@pytest.fixture
def stored(app: Flask) -> Callable[[str], tuple[dict[str, Any], int]]:
    """Return a function reading a booking's columns and the number of logged events."""

    def read(booking_id: str) -> tuple[dict[str, Any], int]:
        with app.app_context():
            booking = db.session.get(Booking, booking_id)
            columns = {c.key: getattr(booking, c.key) for c in Booking.__table__.columns}
            events = db.session.scalar(db.select(db.func.count()).select_from(Event))
            return columns, events

    return read


def patch(client: FlaskClient, headers: dict[str, str], booking_id: str, body: dict[str, Any]):
    """Send PATCH /bookings/<id> and return (status, JSON body)."""
    response = client.patch(f"/bookings/{booking_id}", headers=headers, json=body)
    return response.status_code, response.json


# --- Status moves -----------------------------------------------------------------------------


def expected_move(role: str, current: str, target: str) -> tuple[int, dict[str, Any]] | None:
    """Return the refusal of moving `current` to `target` as `role`, or None if it is allowed."""
    if role == "customer":
        return forbidden(ROLE_REFUSAL)
    if current in FINAL:
        return final_refusal(current)
    if target not in ONWARD[current]:
        return move_refusal(current, target)
    if role == "staff" and target == "cancelled":
        return forbidden(ONLY_ADMINS_CANCEL)
    return None


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("current", STATUSES)
def test_every_status_move_as_every_role(client, headers_of, booking_in, stored, role, current):
    headers = headers_of(role)
    for target in [status for status in STATUSES if status != current]:
        booking_id = booking_in(current)
        before, events = stored(booking_id)

        status, body = patch(client, headers, booking_id, {"status": target})

        refusal = expected_move(role, current, target)
        if refusal is None:
            assert (status, body["status"]) == (200, target)
            assert stored(booking_id)[1] == events + 1
        else:
            assert (status, body) == refusal, target
            assert stored(booking_id) == (before, events)


# --- A final booking changes no field at all --------------------------------------------------

FINAL_CHANGES = [
    {"notes": "Left the key with the neighbour."},
    {"staff_id": "{second_cleaner}"},
    {"staff_id": "{own}"},
    {"staff_id": None},
    {"scheduled_date": in_days(40)},
    {"scheduled_time_start": "16:00"},
    # Even a change to nothing: a final booking takes no PATCH.
    {"status": "{current}"},
    {"notes": None},
]


@pytest.mark.parametrize("role", ["staff", "admin", "superadmin"])
@pytest.mark.parametrize("final", sorted(FINAL))
def test_a_final_booking_changes_no_field(
    client, headers_of, booking_in, stored, tenants, second_cleaner, role, final
):
    booking_id = booking_in(final, tenants["everfresh"].staff_id)
    before = stored(booking_id)
    values = {"second_cleaner": second_cleaner, "own": tenants["everfresh"].staff_id}
    values["current"] = final
    headers = headers_of(role)

    for change in FINAL_CHANGES:
        body = {
            name: value.format(**values) if isinstance(value, str) else value
            for name, value in change.items()
        }

        answer = patch(client, headers, booking_id, body)

        assert answer == final_refusal(final), change
        assert stored(booking_id) == before


# --- Who may change what ------------------------------------------------------------------------

# (role, who holds the booking before, the change, the refusal or None). "own" is the demo
# staff member linked to staff@everfresh.test; "other" another staff member.
ROLE_CASES = [
    ("staff", None, {"notes": "Bring the ladder."}, None),
    ("staff", None, {"staff_id": "own"}, None),
    ("staff", "other", {"staff_id": "own"}, forbidden(ONLY_ADMINS_ASSIGN)),
    ("staff", None, {"staff_id": "other"}, forbidden(ONLY_ADMINS_ASSIGN)),
    ("staff", "own", {"staff_id": "other"}, forbidden(ONLY_ADMINS_ASSIGN)),
    ("staff", "own", {"staff_id": None}, forbidden(ONLY_ADMINS_ASSIGN)),
    ("staff", None, {"scheduled_date": "later"}, forbidden(ONLY_ADMINS_RESCHEDULE)),
    ("staff", None, {"scheduled_time_start": "16:00"}, forbidden(ONLY_ADMINS_RESCHEDULE)),
    ("staff", None, {"status": "cancelled"}, forbidden(ONLY_ADMINS_CANCEL)),
    # The status is judged first, then each other change.
    ("staff", None, {"status": "confirmed", "staff_id": "other"}, forbidden(ONLY_ADMINS_ASSIGN)),
    (
        "staff",
        None,
        {"status": "completed", "notes": "Done."},
        move_refusal("pending", "completed"),
    ),
    ("unlinked_staff", None, {"staff_id": "own"}, forbidden(ONLY_ADMINS_ASSIGN)),
    ("unlinked_staff", None, {"notes": "Gate code 1234."}, None),
    *[
        (role, holder, change, None)
        for role in ("admin", "superadmin")
        for holder, change in [
            (None, {"staff_id": "own"}),
            (None, {"staff_id": "other"}),
            ("own", {"staff_id": "other"}),
            ("own", {"staff_id": None}),
            (None, {"scheduled_date": "later", "scheduled_time_start": "16:00"}),
            (None, {"notes": "Bring the ladder."}),
            (None, {"status": "cancelled"}),
        ]
    ],
]


@pytest.mark.parametrize(("role", "holder", "change", "refusal"), ROLE_CASES, ids=str)
def test_who_may_change_what(
    client, headers_of, booking_in, stored, tenants, second_cleaner, role, holder, change, refusal
):
    names = {"own": tenants["everfresh"].staff_id, "other": second_cleaner, None: None}
    booking_id = booking_in("pending", names[holder])
    before = stored(booking_id)
    body = {name: names.get(value, value) for name, value in change.items()}
    if body.get("scheduled_date") == "later":
        body["scheduled_date"] = in_days(60)

    status, answer = patch(client, headers_of(role), booking_id, body)

    if refusal is None:
        assert status == 200, answer
        assert {name: answer[name] for name in body} == body
        return
    assert (status, answer) == refusal
    assert stored(booking_id) == before


# --- allowed_actions ------------------------------------------------------------------------------

# What each role may do with a booking of each status, unassigned and assigned to someone else.
ALLOWED = {
    ("staff", "pending", None): ["assign_self", "confirm", "edit_notes"],
    ("staff", "pending", "other"): ["confirm", "edit_notes"],
    ("staff", "confirmed", None): ["assign_self", "edit_notes", "start"],
    ("staff", "confirmed", "other"): ["edit_notes", "start"],
    ("staff", "in_progress", None): ["assign_self", "complete", "edit_notes"],
    ("staff", "in_progress", "other"): ["complete", "edit_notes"],
    ("unlinked_staff", "pending", None): ["confirm", "edit_notes"],
    ("unlinked_staff", "in_progress", "other"): ["complete", "edit_notes"],
    **{
        (role, status, holder): sorted(
            ["assign", "cancel", "edit_notes", "reschedule", next_action]
        )
        for role in ("admin", "superadmin")
        for holder in (None, "other")
        for status, next_action in (
            ("pending", "confirm"),
            ("confirmed", "start"),
            ("in_progress", "complete"),
        )
    },
    **{
        (role, status, holder): []
        for role in ROLES + ["unlinked_staff"]
        for status in FINAL
        for holder in (None, "other")
    },
    **{
        ("customer", status, holder): []
        for status in ("pending", "confirmed", "in_progress")
        for holder in (None, "other")
    },
}


@pytest.mark.parametrize(("role", "status", "holder"), sorted(ALLOWED, key=str), ids=str)
def test_allowed_actions_per_role_and_status(
    client, headers_of, booking_in, second_cleaner, role, status, holder
):
    booking_id = booking_in(status, second_cleaner if holder else None)
    headers = headers_of(role)

    one = client.get(f"/bookings/{booking_id}", headers=headers).json
    listed = client.get("/bookings?limit=100", headers=headers).json["items"]

    assert one["allowed_actions"] == ALLOWED[(role, status, holder)]
    assert [b["allowed_actions"] for b in listed if b["booking_id"] == booking_id] == [
        one["allowed_actions"]
    ]


def action_body(action: str, status: str, own: str | None, other: str) -> dict[str, Any] | None:
    """Return the PATCH body that takes `action`, or None if the caller has no way to.

    Sending the status a booking already has is no move at all (it changes nothing).
    """
    if action in MOVE_OF:
        return None if MOVE_OF[action] == status else {"status": MOVE_OF[action]}
    return {
        "assign": {"staff_id": other},
        "assign_self": {"staff_id": own} if own else None,
        "edit_notes": {"notes": "Changed."},
        "reschedule": {"scheduled_time_start": "15:00"},
    }[action]


# Superadmins share the admins' rules and unlinked staff the staff's: the table above
# holds their lists.
@pytest.mark.parametrize("role", ["staff", "admin"])
@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("holder", [None, "third"])
def test_allowed_actions_are_exactly_the_patches_that_succeed(
    app, client, headers_of, booking_in, tenants, second_cleaner, role, status, holder
):
    with app.app_context():
        third = Staff(company_id=tenants["everfresh"].company_id, name="Third Cleaner")
        db.session.add(third)
        db.session.commit()
        third_id = third.id
    own = tenants["everfresh"].staff_id if role == "staff" else None
    headers = headers_of(role)

    succeeded = []
    listed = None
    for action in ALL_ACTIONS:
        # A booking for each try, as a successful one changes it.
        booking_id = booking_in(status, third_id if holder else None)
        if listed is None:
            listed = client.get(f"/bookings/{booking_id}", headers=headers).json["allowed_actions"]
        body = action_body(action, status, own, second_cleaner)
        if body is None:
            continue
        answer_status, answer = patch(client, headers, booking_id, body)
        assert answer_status in (200, 403, 409), answer
        if answer_status == 200:
            succeeded.append(action)

    assert listed == succeeded


def test_a_customer_sees_no_actions_on_their_own_booking(client, login_as):
    response = client.post(
        "/bookings",
        headers=login_as("customer"),
        json={
            "service_id": client.get("/services", headers=login_as("customer")).json["items"][0][
                "id"
            ],
            "scheduled_date": in_days(1),
            "scheduled_time_start": "10:00",
        },
    )

    assert response.status_code == 201
    assert response.json["allowed_actions"] == []
    listed = client.get("/bookings", headers=login_as("customer")).json["items"]
    assert [booking["allowed_actions"] for booking in listed] == [[]]


def test_a_replayed_create_answers_as_the_first_did(client, login_as, tenants):
    everfresh = tenants["everfresh"]
    headers = {**login_as("staff"), "Idempotency-Key": "replay-actions"}
    body = {
        "customer_id": everfresh.customer_id,
        "service_id": everfresh.service_id,
        "scheduled_date": in_days(2),
        "scheduled_time_start": "10:00",
    }
    first = client.post("/bookings", headers=headers, json=body)
    client.patch(
        f"/bookings/{first.json['booking_id']}",
        headers=login_as("staff"),
        json={"status": "confirmed"},
    )

    again = client.post("/bookings", headers=headers, json=body)

    # The stored first answer, as it was: the booking's state now is a GET away.
    assert again.json == first.json
    assert again.json["allowed_actions"] == ["assign_self", "confirm", "edit_notes"]
    now = client.get(f"/bookings/{first.json['booking_id']}", headers=login_as("staff")).json
    assert now["allowed_actions"] == ["assign_self", "edit_notes", "start"]
