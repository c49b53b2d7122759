"""Every committed change to a booking is logged and streamed as one `booking_updated` event."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from everfresh.eventlog.models import Event
from everfresh.extensions import db
from everfresh.sse.frames import KEEP_ALIVE, booking_frame, connection_established_frame
from tests.assertions import EVENT_KEYS, ISO_UTC_MS, assert_error
from tests.test_sse_replay import frames_of

UPDATED_KEYS = [*EVENT_KEYS, "updated_at", "changes"]


def days_ahead(days: int) -> str:
    """Return the calendar date `days` after today (UTC), as the API writes it."""
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


@pytest.fixture
def logged(app: Flask) -> Callable[[], list[tuple[int, str, str, str]]]:
    """Return a function listing (id, company_id, type, stored payload) of every logged event."""

    def rows() -> list[tuple[int, str, str, str]]:
        with app.app_context():
            found = db.session.scalars(db.select(Event).order_by(Event.id)).all()
            return [(e.id, e.company_id, e.type, e.payload) for e in found]

    return rows


@pytest.fixture
def create(client, login_as, tenants) -> Callable[..., dict[str, Any]]:
    """Return a function creating a booking in a demo company, returning its JSON."""

    def post(company: str = "everfresh") -> dict[str, Any]:
        tenant = tenants[company]
        response = client.post(
            "/bookings",
            headers=login_as("staff", company),
            json={
                "customer_id": tenant.customer_id,
                "service_id": tenant.service_id,
                "scheduled_date": days_ahead(3),
                "scheduled_time_start": "10:00",
                "notes": "Ring twice.",
            },
        )
        assert response.status_code == 201
        return response.get_json()

    return post


@pytest.fixture
def patch(client, login_as) -> Callable[..., Any]:
    """Return a function sending a PATCH as a demo staff member (or another role)."""

    def send(booking_id: str, body: dict[str, Any], role: str = "staff", company="everfresh"):
        return client.patch(f"/bookings/{booking_id}", headers=login_as(role, company), json=body)

    return send


def change_of(tenants, field: str) -> dict[str, Any]:
    return {
        "status": {"status": "confirmed"},
        "staff_id": {"staff_id": tenants["everfresh"].staff_id},
        "scheduled_date": {"scheduled_date": days_ahead(9)},
        "scheduled_time_start": {"scheduled_time_start": "14:30"},
        "notes": {"notes": None},
    }[field]


@pytest.mark.parametrize(
    "field", ["status", "staff_id", "scheduled_date", "scheduled_time_start", "notes"]
)
def test_each_field_change_logs_one_booking_updated_with_the_state_after_it(
    create, patch, logged, tenants, field
):
    booking = create()

    answer = patch(booking["booking_id"], change_of(tenants, field))

    assert answer.status_code == 200
    after = answer.get_json()
    assert after["updated_at"] > booking["updated_at"]
    created_event, updated_event = logged()
    assert created_event[2] == "booking_created"
    assert updated_event[1:3] == (booking["company_id"], "booking_updated")
    payload = json.loads(updated_event[3])
    assert list(payload) == UPDATED_KEYS
    assert payload == {
        "booking_id": booking["booking_id"],
        "booking_number": "BK-1001",
        "customer_id": booking["customer_id"],
        "service_id": booking["service_id"],
        "staff_id": after["staff_id"],
        "scheduled_date": f"{after['scheduled_date']}T00:00:00.000Z",
        "scheduled_time_start": after["scheduled_time_start"],
        "status": after["status"],
        "created_at": booking["created_at"],
        "company_id": booking["company_id"],
        "updated_at": after["updated_at"],
        "changes": [field],
    }
    assert ISO_UTC_MS.fullmatch(payload["updated_at"])
    # Stored compactly, exactly as it goes on the wire.
    assert updated_event[3] == json.dumps(payload, separators=(",", ":"))


def test_several_changes_are_named_in_sorted_order(create, patch, logged, tenants):
    booking = create()

    patch(
        booking["booking_id"],
        {
            "status": "cancelled",
            "staff_id": tenants["everfresh"].staff_id,
            "scheduled_time_start": "10:00",
            "notes": "Customer away.",
        },
    )

    payload = json.loads(logged()[-1][3])
    assert payload["changes"] == ["notes", "staff_id", "status"]
    assert payload["status"] == "cancelled"


@pytest.mark.parametrize(
    "same",
    [
        {"status": "pending"},
        {"notes": "Ring twice."},
        {"staff_id": None},
        {"scheduled_time_start": "10:00", "status": "pending", "scheduled_date": days_ahead(3)},
    ],
)
def test_a_patch_that_changes_nothing_logs_nothing_and_keeps_updated_at(
    client, login_as, create, patch, logged, same
):
    booking = create()

    answer = patch(booking["booking_id"], same)

    assert answer.status_code == 200
    assert answer.get_json() == booking
    assert [event[2] for event in logged()] == ["booking_created"]
    read = client.get(f"/bookings/{booking['booking_id']}", headers=login_as("staff"))
    assert read.get_json() == booking


def test_a_refused_change_logs_nothing(create, patch, logged):
    booking_id = create()["booking_id"]
    patch(booking_id, {"status": "completed"})

    answer = patch(booking_id, {"status": "pending"})

    assert_error(
        answer, 409, "Conflict", "The booking is completed; its status can no longer change."
    )
    assert [event[2] for event in logged()] == ["booking_created", "booking_updated"]


def open_stream(client, headers: dict[str, str], query: str = ""):
    response = client.get(f"/sse/events{query}", headers=headers, buffered=False)
    assert response.status_code == 200
    return response, frames_of(iter(response.response))


def test_streams_of_the_company_get_the_frame_and_other_companies_nothing(
    client, login_as, create, patch, logged
):
    booking = create()
    position = logged()[-1][0]
    own, own_frames = open_stream(client, login_as("staff"))
    other, other_frames = open_stream(client, login_as("staff", "brighthome"))
    everyone, everyone_frames = open_stream(client, login_as("superadmin"))
    for frames in (own_frames, other_frames, everyone_frames):
        assert next(frames) == connection_established_frame(position)

    patch(booking["booking_id"], {"status": "confirmed"})

    event_id, _, _, payload = logged()[-1]
    expected = booking_frame(event_id, 1, "booking_updated", payload)
    assert expected.startswith(f"id: {event_id}\nevent: booking_updated\ndata: {{".encode())
    assert next(own_frames) == expected
    assert next(everyone_frames) == expected
    assert next(other_frames) == KEEP_ALIVE
    for response in (own, other, everyone):
        response.close()


@pytest.mark.parametrize("form", ["header", "query"])
def test_replay_returns_creations_and_updates_in_commit_order(
    client, login_as, create, patch, logged, form
):
    first = create()
    seen = logged()[-1][0]
    patch(first["booking_id"], {"status": "confirmed"})
    second = create()
    create("brighthome")
    patch(second["booking_id"], {"staff_id": None, "notes": "Gate code 1234."})
    patch(first["booking_id"], {"status": "cancelled"})
    own = [event for event in logged() if event[0] > seen and event[1] == first["company_id"]]

    headers = login_as("admin")
    query = ""
    if form == "header":
        headers["Last-Event-ID"] = str(seen)
    else:
        query = f"?lastEventId={seen}"
    response, frames = open_stream(client, headers, query)

    assert next(frames) == connection_established_frame(seen)
    replayed = [next(frames) for _ in own]
    assert replayed == [booking_frame(e[0], 1, e[2], e[3]) for e in own]
    assert [e[2] for e in own] == [
        "booking_updated",
        "booking_created",
        "booking_updated",
        "booking_updated",
    ]
    assert next(frames) == KEEP_ALIVE
    response.close()
