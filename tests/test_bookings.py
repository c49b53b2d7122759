"""Test creating, listing, reading and updating bookings, with their event-log rows."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from everfresh.bookings.models import Booking, IdempotencyKey
from everfresh.bookings.rules import last_bookable_date
from everfresh.catalog.models import Customer, Service
from everfresh.companies.models import Company
from everfresh.eventlog.models import Event, EventCounter
from everfresh.extensions import db
from tests.assertions import EVENT_KEYS, ISO_UTC_MS, assert_error, invalid_fields
from tests.dates import in_days, midnight_utc

BOOKING_KEYS = [
    "booking_id",
    "booking_number",
    "company_id",
    "customer_id",
    "service_id",
    "staff_id",
    "scheduled_date",
    "scheduled_time_start",
    "status",
    "notes",
    "created_at",
    "updated_at",
    "allowed_actions",
]
ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")
# Marks a field left out of the request body altogether.
OMIT = object()
UNKNOWN = {
    "customer_id": "cust_01J000000000000000000000000",
    "service_id": "serv_01J000000000000000000000000",
    "staff_id": "staff_01J000000000000000000000000",
}


@pytest.fixture
def body_for(tenants) -> Callable[..., dict[str, Any]]:
    """Return a function making a valid booking body for a demo company's first rows."""

    def body(company: str = "everfresh", **fields: Any) -> dict[str, Any]:
        tenant = tenants[company]
        return {
            "customer_id": tenant.customer_id,
            "service_id": tenant.service_id,
            "scheduled_date": in_days(1),
            "scheduled_time_start": "10:00",
            **fields,
        }

    return body


@pytest.fixture
def book(client: FlaskClient, login_as, body_for) -> Callable[..., TestResponse]:
    """Return a function posting a booking as a demo user; fields override the valid body."""

    def post(
        role: str = "staff",
        company: str = "everfresh",
        headers: dict[str, str] | None = None,
        **fields: Any,
    ) -> TestResponse:
        body = body_for(company, **fields)
        body = {name: value for name, value in body.items() if value is not OMIT}
        return client.post(
            "/bookings", headers={**login_as(role, company), **(headers or {})}, json=body
        )

    return post


@pytest.fixture
def created(book) -> Callable[..., dict[str, Any]]:
    """Return a function creating a booking that must succeed, returning its JSON."""

    def create(role: str = "staff", company: str = "everfresh", **fields: Any) -> dict[str, Any]:
        response = book(role, company, **fields)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return create


@pytest.fixture
def written(app: Flask) -> Callable[[], tuple[int, int]]:
    """Return a function counting the booking rows and event-log rows in the database."""

    def count() -> tuple[int, int]:
        with app.app_context():
            bookings = db.session.scalar(db.select(db.func.count()).select_from(Booking))
            events = db.session.scalar(db.select(db.func.count()).select_from(Event))
            return bookings, events

    return count


@pytest.fixture
def events(app: Flask) -> Callable[[], list[tuple[int, str, str, dict[str, Any]]]]:
    """Return a function listing (id, company_id, type, parsed payload) of every logged event."""

    def rows() -> list[tuple[int, str, str, dict[str, Any]]]:
        with app.app_context():
            found = db.session.scalars(db.select(Event).order_by(Event.id)).all()
            return [(e.id, e.company_id, e.type, json.loads(e.payload)) for e in found]

    return rows


@pytest.fixture
def other_customer_id(app: Flask, tenants) -> str:
    """Create a second EverFresh customer (not the demo customer login's) and return its id."""
    with app.app_context():
        customer = Customer(company_id=tenants["everfresh"].company_id, name="Alan Turing")
        db.session.add(customer)
        db.session.commit()
        return customer.id


# --- POST /bookings: the happy path ---------------------------------------------------------


def test_create_answers_the_booking(book, tenants):
    everfresh = tenants["everfresh"]

    response = book("staff", notes="Ring twice.")

    assert response.status_code == 201
    body = response.get_json()
    assert list(body) == BOOKING_KEYS
    assert ULID.fullmatch(body["booking_id"])
    assert ISO_UTC_MS.fullmatch(body["created_at"])
    assert body == {
        "booking_id": body["booking_id"],
        "booking_number": "BK-1001",
        "company_id": everfresh.company_id,
        "customer_id": everfresh.customer_id,
        "service_id": everfresh.service_id,
        "staff_id": None,
        "scheduled_date": in_days(1),
        "scheduled_time_start": "10:00",
        "status": "pending",
        "notes": "Ring twice.",
        "created_at": body["created_at"],
        "updated_at": body["created_at"],
        # The demo staff member's login is linked to their Staff row.
        "allowed_actions": ["assign_self", "confirm", "edit_notes"],
    }
    created_at = datetime.strptime(body["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - created_at) < timedelta(minutes=1)


def test_create_with_staff_member(created, tenants):
    body = created("admin", staff_id=tenants["everfresh"].staff_id, scheduled_time_start="23:59")

    assert body["staff_id"] == tenants["everfresh"].staff_id
    assert body["scheduled_time_start"] == "23:59"


def test_booking_numbers_count_per_company(created):
    numbers = [
        created("staff", "everfresh")["booking_number"],
        created("staff", "everfresh")["booking_number"],
        created("staff", "brighthome")["booking_number"],
        created("admin", "everfresh")["booking_number"],
        created("admin", "brighthome")["booking_number"],
    ]

    assert numbers == ["BK-1001", "BK-1002", "BK-1001", "BK-1003", "BK-1002"]


def test_created_booking_reads_back(client, login_as, created):
    body = created()

    read = client.get(f"/bookings/{body['booking_id']}", headers=login_as("staff"))
    listed = client.get("/bookings", headers=login_as("staff"))
    by_admin = client.get(f"/bookings/{body['booking_id']}", headers=login_as("admin"))

    assert read.status_code == 200
    assert read.get_json() == body
    assert listed.get_json() == {"items": [body], "next_cursor": None}
    # The same booking, with what an admin may do with it.
    assert by_admin.get_json() == {
        **body,
        "allowed_actions": ["assign", "cancel", "confirm", "edit_notes", "reschedule"],
    }


def test_create_writes_one_event_with_the_documented_payload(created, events, tenants):
    body = created("staff", staff_id=tenants["everfresh"].staff_id)

    logged = events()

    assert len(logged) == 1
    _, company_id, event_type, payload = logged[0]
    assert (company_id, event_type) == (tenants["everfresh"].company_id, "booking_created")
    assert list(payload) == EVENT_KEYS
    assert payload == {
        "booking_id": body["booking_id"],
        "booking_number": "BK-1001",
        "customer_id": body["customer_id"],
        "service_id": body["service_id"],
        "staff_id": tenants["everfresh"].staff_id,
        "scheduled_date": midnight_utc(body["scheduled_date"]),
        "scheduled_time_start": "10:00",
        "status": "pending",
        "created_at": body["created_at"],
        "company_id": tenants["everfresh"].company_id,
    }


def test_each_booking_logs_its_own_event_in_order(created, events):
    first = created("staff", "everfresh")
    second = created("staff", "brighthome", scheduled_date=in_days(62))

    logged = events()

    assert [payload["booking_id"] for _, _, _, payload in logged] == [
        first["booking_id"],
        second["booking_id"],
    ]
    assert logged[0][0] < logged[1][0]
    assert [company for _, company, _, _ in logged] == [first["company_id"], second["company_id"]]
    assert logged[1][3]["staff_id"] is None
    assert logged[1][3]["scheduled_date"] == midnight_utc(in_days(62))


def statement_summary(statement: str) -> str:
    """Return a statement's verb and table, e.g. "INSERT bookings" or "SELECT users"."""
    words = statement.split()
    verb = words[0].upper()
    if verb == "SELECT":
        return f"SELECT {words[words.index('FROM') + 1]}"
    return f"{verb} {words[2] if verb in ('INSERT', 'DELETE') else words[1]}"


def test_a_booking_reads_each_row_once_and_nothing_after_its_commit(app, book, tenants):
    """The token, the references, the slot, the claims, the two rows; no reload after commit."""
    book("staff")  # the first request of an app also warms caches
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement_summary(statement))

    with app.app_context():
        engine = db.engine
    db.event.listen(engine, "before_cursor_execute", record)
    try:
        response = book("staff", staff_id=tenants["everfresh"].staff_id)
    finally:
        db.event.remove(engine, "before_cursor_execute", record)

    assert response.status_code == 201
    assert statements == [
        "SELECT users",  # the test's own token
        "SELECT revoked_tokens",
        "SELECT users",
        "SELECT customers",
        "SELECT services",
        "SELECT staff",
        "SELECT companies",
        # the staff member's lock, then whether they are free at that time
        "UPDATE staff",
        "SELECT bookings",
        # the booking number and the event sequence, in one UPDATE
        "UPDATE companies",
        "INSERT bookings",
        "UPDATE event_counter",
        "INSERT events",
    ]


def test_event_ids_carry_on_after_the_log_when_the_counter_row_is_missing(app, created, events):
    created("staff")
    with app.app_context():
        db.session.execute(db.delete(EventCounter))
        db.session.commit()

    created("staff")

    assert [event_id for event_id, *_ in events()] == [1, 2]


# --- Who may book for whom ------------------------------------------------------------------


def test_customer_books_for_self(book, tenants, events):
    response = book("customer", customer_id=OMIT)

    assert response.status_code == 201
    assert response.get_json()["customer_id"] == tenants["everfresh"].customer_id
    assert response.get_json()["company_id"] == tenants["everfresh"].company_id
    assert len(events()) == 1


def test_customer_may_name_themselves(book, tenants):
    response = book("customer", customer_id=tenants["everfresh"].customer_id)

    assert response.status_code == 201
    assert response.get_json()["customer_id"] == tenants["everfresh"].customer_id


@pytest.mark.parametrize("whom", ["same-company", "other-company", "unknown"])
def test_customer_cannot_book_for_someone_else(book, written, tenants, other_customer_id, whom):
    customer_id = {
        "same-company": other_customer_id,
        "other-company": tenants["brighthome"].customer_id,
        "unknown": UNKNOWN["customer_id"],
    }[whom]

    response = book("customer", customer_id=customer_id)

    assert invalid_fields(response) == {"customer_id": "You may only book for yourself."}
    assert written() == (0, 0)


@pytest.mark.parametrize("busy", [True, False])
@pytest.mark.parametrize("staff", ["everfresh", "brighthome", "unknown"])
def test_customers_do_not_choose_staff(book, created, written, tenants, busy, staff):
    staff_id = UNKNOWN["staff_id"] if staff == "unknown" else tenants[staff].staff_id
    if busy and staff == "everfresh":
        created("admin", staff_id=staff_id)

    response = book("customer", customer_id=OMIT, staff_id=staff_id)

    # The same answer whether the staff member is busy, free, elsewhere or unknown.
    assert invalid_fields(response) == {"staff_id": "Customers do not choose staff."}
    assert written() == ((1, 1) if busy and staff == "everfresh" else (0, 0))


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_admin_book_for_any_customer_of_their_company(book, other_customer_id, role):
    response = book(role, customer_id=other_customer_id)

    assert response.status_code == 201
    assert response.get_json()["customer_id"] == other_customer_id


@pytest.mark.parametrize("role", ["staff", "admin", "superadmin"])
def test_others_must_name_the_customer(book, written, role):
    response = book(role, customer_id=OMIT)

    assert invalid_fields(response) == {"customer_id": "Field required."}
    assert written() == (0, 0)


@pytest.mark.parametrize("company", ["everfresh", "brighthome"])
def test_superadmin_books_in_the_customers_company(book, tenants, events, company):
    response = book("superadmin", company)

    assert response.status_code == 201
    body = response.get_json()
    assert body["company_id"] == tenants[company].company_id
    assert body["customer_id"] == tenants[company].customer_id
    assert body["booking_number"] == "BK-1001"
    assert [company_id for _, company_id, _, _ in events()] == [tenants[company].company_id]


CROSS_COMPANY = [
    # (role, company of the caller, which fields point elsewhere, expected failing fields)
    ("staff", "everfresh", {"customer_id": "brighthome"}, ["customer_id"]),
    ("admin", "everfresh", {"service_id": "brighthome"}, ["service_id"]),
    ("staff", "everfresh", {"staff_id": "brighthome"}, ["staff_id"]),
    ("admin", "brighthome", {"customer_id": "everfresh"}, ["customer_id"]),
    (
        "staff",
        "everfresh",
        {"service_id": "brighthome", "staff_id": "brighthome"},
        ["service_id", "staff_id"],
    ),
    ("customer", "everfresh", {"service_id": "brighthome"}, ["service_id"]),
    ("customer", "everfresh", {"staff_id": "brighthome"}, ["staff_id"]),
    ("superadmin", "everfresh", {"service_id": "brighthome"}, ["service_id"]),
    ("superadmin", "everfresh", {"staff_id": "brighthome"}, ["staff_id"]),
    ("staff", "everfresh", {"customer_id": "unknown"}, ["customer_id"]),
    ("staff", "everfresh", {"service_id": "unknown"}, ["service_id"]),
    ("superadmin", "brighthome", {"staff_id": "unknown"}, ["staff_id"]),
]


@pytest.mark.parametrize(
    ("role", "company", "elsewhere", "fields"),
    CROSS_COMPANY,
    ids=[f"{role}-{'+'.join(f'{k}@{v}' for k, v in e.items())}" for role, _, e, _ in CROSS_COMPANY],
)
def test_reference_to_another_company_is_422_and_writes_nothing(
    app, book, written, tenants, role, company, elsewhere, fields
):
    overrides = {
        field: UNKNOWN[field] if where == "unknown" else getattr(tenants[where], field)
        for field, where in elsewhere.items()
    }

    response = book(role, company, **overrides)

    assert sorted(invalid_fields(response)) == fields
    assert written() == (0, 0)
    with app.app_context():
        numbers = db.session.scalars(db.select(Company.last_booking_number)).all()
    assert numbers == [1000, 1000]


def test_failed_booking_does_not_burn_a_number(book, created, tenants):
    assert book("staff", service_id=tenants["brighthome"].service_id).status_code == 422

    assert created("staff")["booking_number"] == "BK-1001"


# --- Validation -----------------------------------------------------------------------------


VALIDATION = [
    ({"scheduled_date": "2026-13-01"}, ["scheduled_date"]),
    ({"scheduled_date": "2026-02-30"}, ["scheduled_date"]),
    ({"scheduled_date": "2026/12/01"}, ["scheduled_date"]),
    ({"scheduled_date": 20261201}, ["scheduled_date"]),
    ({"scheduled_date": None}, ["scheduled_date"]),
    ({"scheduled_date": OMIT}, ["scheduled_date"]),
    ({"scheduled_time_start": "25:00"}, ["scheduled_time_start"]),
    ({"scheduled_time_start": "9:00"}, ["scheduled_time_start"]),
    ({"scheduled_time_start": "10:00:00"}, ["scheduled_time_start"]),
    ({"scheduled_time_start": OMIT}, ["scheduled_time_start"]),
    ({"notes": "x" * 2001}, ["notes"]),
    ({"notes": 5}, ["notes"]),
    ({"service_id": OMIT}, ["service_id"]),
    ({"service_id": 5}, ["service_id"]),
    ({"customer_id": True}, ["customer_id"]),
    ({"status": "confirmed"}, ["status"]),
    ({"price": 100}, ["price"]),
    (
        {"scheduled_date": "2026/12/01", "scheduled_time_start": "9:00", "extra": 1},
        ["extra", "scheduled_date", "scheduled_time_start"],
    ),
]


@pytest.mark.parametrize(
    ("changes", "fields"),
    VALIDATION,
    ids=[
        json.dumps({k: "<omitted>" if v is OMIT else v for k, v in changes.items()})[:50]
        for changes, _ in VALIDATION
    ],
)
def test_create_validates_body(book, written, changes, fields):
    response = book("staff", **changes)

    failing = invalid_fields(response)
    assert sorted(failing) == fields
    assert written() == (0, 0)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026/12/01", "Use a date written YYYY-MM-DD."),
        (20261201, "Use a date written YYYY-MM-DD."),
        ("2026-13-01", "Not a real calendar date."),
    ],
)
def test_date_errors_say_what_is_wrong(book, value, message):
    assert invalid_fields(book("staff", scheduled_date=value)) == {"scheduled_date": message}


def test_time_error_says_what_is_wrong(book):
    response = book("staff", scheduled_time_start="9:00")

    assert invalid_fields(response) == {"scheduled_time_start": "Use a 24-hour time written HH:MM."}


def test_unknown_field_is_named(book):
    assert invalid_fields(book("staff", price=100)) == {"price": "Unknown field."}


def test_notes_at_the_limit_are_accepted(book):
    response = book("staff", notes="x" * 2000)

    assert response.status_code == 201
    assert response.get_json()["notes"] == "x" * 2000


@pytest.mark.parametrize("body", [[], "booking", 1, None], ids=["list", "string", "int", "null"])
def test_body_must_be_an_object(client, login_as, written, body):
    response = client.post(
        "/bookings",
        headers=login_as("staff"),
        data=json.dumps(body),
        content_type="application/json",
    )

    assert list(invalid_fields(response)) == ["body"]
    assert written() == (0, 0)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_create_needs_json(client, login_as, body_for, written, content_type):
    response = client.post(
        "/bookings",
        headers=login_as("staff"),
        data=json.dumps(body_for()),
        content_type=content_type,
    )

    assert_error(
        response,
        415,
        "Unsupported Media Type",
        "Did not attempt to load JSON data because the request Content-Type was not "
        "'application/json'.",
    )
    assert written() == (0, 0)


@pytest.mark.parametrize("data", ['{"customer_id": ', "{'single': 'quotes'}", "", "nan-sense"])
def test_malformed_json_is_400(client, login_as, written, data):
    response = client.post(
        "/bookings", headers=login_as("staff"), data=data, content_type="application/json"
    )

    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["code"], error["name"]) == (400, "Bad Request")
    assert sorted(error) == ["code", "message", "name"]
    assert written() == (0, 0)


def test_body_over_the_size_limit_is_413(app, client, login_as, body_for, written):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = json.dumps(body_for(notes="x" * limit))
    assert len(body) > limit

    response = client.post(
        "/bookings", headers=login_as("staff"), data=body, content_type="application/json"
    )

    assert_error(
        response,
        413,
        "Request Entity Too Large",
        "The data value transmitted exceeds the capacity limit.",
    )
    assert written() == (0, 0)


# --- Idempotency-Key ------------------------------------------------------------------------


def test_retry_with_same_key_and_body_replays_the_first_answer(book, written, events):
    first = book("staff", headers={"Idempotency-Key": "retry-1"})
    second = book("staff", headers={"Idempotency-Key": "retry-1"})

    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.mimetype == "application/json"
    location = f"/bookings/{first.get_json()['booking_id']}"
    assert first.headers["Location"] == second.headers["Location"] == location
    assert written() == (1, 1)
    assert len(events()) == 1


def test_key_order_and_spacing_do_not_make_a_body_different(client, login_as, body_for, written):
    headers = {**login_as("staff"), "Idempotency-Key": "same-meaning"}
    body = body_for()
    first = client.post("/bookings", headers=headers, json=body)

    second = client.post(
        "/bookings",
        headers=headers,
        data=json.dumps(dict(reversed(body.items())), indent=4),
        content_type="application/json",
    )

    assert second.status_code == 201
    assert second.get_json() == first.get_json()
    assert written() == (1, 1)


def test_same_key_with_another_body_is_409(book, written):
    first = book("staff", headers={"Idempotency-Key": "k-1"})

    second = book("staff", headers={"Idempotency-Key": "k-1"}, scheduled_time_start="11:00")

    assert first.status_code == 201
    assert_error(
        second,
        409,
        "Conflict",
        "This Idempotency-Key was already used with a different request body.",
    )
    assert written() == (1, 1)


def test_keys_are_scoped_to_the_user(book, written):
    staff = book("staff", headers={"Idempotency-Key": "shared-key"})
    admin = book("admin", headers={"Idempotency-Key": "shared-key"})

    assert staff.status_code == admin.status_code == 201
    assert staff.get_json()["booking_id"] != admin.get_json()["booking_id"]
    assert [staff.get_json()["booking_number"], admin.get_json()["booking_number"]] == [
        "BK-1001",
        "BK-1002",
    ]
    assert written() == (2, 2)


def test_different_keys_make_different_bookings(book, written):
    first = book("staff", headers={"Idempotency-Key": "one"})
    second = book("staff", headers={"Idempotency-Key": "two"})

    assert first.get_json()["booking_id"] != second.get_json()["booking_id"]
    assert written() == (2, 2)


def test_without_a_key_every_post_creates(book, written):
    book("staff")
    book("staff")

    assert written() == (2, 2)


def test_expired_key_may_be_used_afresh(app, book, written):
    first = book("staff", headers={"Idempotency-Key": "old"})
    with app.app_context():
        row = db.session.scalars(db.select(IdempotencyKey)).one()
        row.created_at = datetime.now(UTC) - timedelta(hours=25)
        db.session.commit()

    second = book("staff", headers={"Idempotency-Key": "old"})

    assert second.status_code == 201
    assert second.get_json()["booking_id"] != first.get_json()["booking_id"]
    assert written() == (2, 2)


def test_key_of_255_characters_is_accepted(book):
    assert book("staff", headers={"Idempotency-Key": "k" * 255}).status_code == 201


@pytest.mark.parametrize("key", ["", "   ", "k" * 256], ids=["empty", "blank", "too-long"])
def test_bad_key_is_422(book, written, key):
    response = book("staff", headers={"Idempotency-Key": key})

    assert invalid_fields(response) == {"Idempotency-Key": "Use 1 to 255 printable characters."}
    assert written() == (0, 0)


def test_failed_request_does_not_use_up_the_key(book, tenants, written):
    failed = book(
        "staff", headers={"Idempotency-Key": "fix-and-retry"}, customer_id=UNKNOWN["customer_id"]
    )

    fixed = book("staff", headers={"Idempotency-Key": "fix-and-retry"})

    assert failed.status_code == 422
    assert fixed.status_code == 201
    assert written() == (1, 1)


# --- GET /bookings and GET /bookings/<id> ---------------------------------------------------


# Dates of the listed bookings and of the filters' bounds, counted from today.
DAYS = {f"day{n}": in_days(n) for n in (1, 2, 5, 9, 10)}


@pytest.fixture
def schedule(created, client, login_as, tenants) -> dict[str, dict[str, Any]]:
    """Create EverFresh bookings on three dates with three statuses, and one at BrightHome."""
    made = {
        "day1": created("admin", scheduled_date=DAYS["day1"]),
        "day5": created("admin", scheduled_date=DAYS["day5"]),
        "day10": created("admin", scheduled_date=DAYS["day10"]),
        "bright": created("admin", "brighthome", scheduled_date=DAYS["day5"]),
    }
    for key, status in (("day5", "confirmed"), ("day10", "cancelled")):
        response = client.patch(
            f"/bookings/{made[key]['booking_id']}",
            headers=login_as("admin"),
            json={"status": status},
        )
        assert response.status_code == 200
        made[key] = response.get_json()
    return made


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["day1", "day5", "day10"]),
        ("status=pending", ["day1"]),
        ("status=cancelled", ["day10"]),
        ("date_from={day5}", ["day5", "day10"]),
        ("date_to={day5}", ["day1", "day5"]),
        ("date_from={day2}&date_to={day9}", ["day5"]),
        ("date_from={day10}&date_to={day1}", []),
        ("status=confirmed&date_to={day5}", ["day5"]),
    ],
)
def test_list_filters(client, login_as, schedule, query, expected):
    response = client.get(f"/bookings?{query.format(**DAYS)}", headers=login_as("admin"))

    assert response.status_code == 200
    assert response.get_json() == {
        "items": sorted((schedule[key] for key in expected), key=lambda b: b["booking_id"]),
        "next_cursor": None,
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=done", "status"),
        ("date_from=2026-13-01", "date_from"),
        ("date_to=yesterday", "date_to"),
        ("limit=101", "limit"),
        ("cursor=!!!!", "cursor"),
    ],
)
def test_list_validates_query(client, login_as, query, field):
    response = client.get(f"/bookings?{query}", headers=login_as("staff"))

    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == [field]


def test_list_pages_walk_every_booking_once(client, login_as, created):
    made = sorted(created()["booking_id"] for _ in range(4))
    seen: list[str] = []
    url = "/bookings?limit=1"

    for _ in range(10):
        body = client.get(url, headers=login_as("staff")).get_json()
        assert len(body["items"]) == 1
        seen.extend(item["booking_id"] for item in body["items"])
        if body["next_cursor"] is None:
            break
        url = f"/bookings?limit=1&cursor={body['next_cursor']}"

    assert seen == made


def test_company_users_see_only_their_companys_bookings(client, login_as, schedule):
    listed = client.get("/bookings", headers=login_as("staff", "brighthome")).get_json()

    as_staff = {**schedule["bright"], "allowed_actions": ["assign_self", "confirm", "edit_notes"]}
    assert listed == {"items": [as_staff], "next_cursor": None}


def test_superadmin_sees_every_company_or_one(client, login_as, schedule, tenants):
    everything = client.get("/bookings", headers=login_as("superadmin")).get_json()
    brighthome = client.get(
        f"/bookings?company_id={tenants['brighthome'].company_id}",
        headers=login_as("superadmin"),
    ).get_json()

    assert [b["booking_id"] for b in everything["items"]] == sorted(
        b["booking_id"] for b in schedule.values()
    )
    assert brighthome["items"] == [schedule["bright"]]


def test_customer_sees_only_own_bookings(client, login_as, created, other_customer_id):
    own = created("customer", customer_id=OMIT)
    someone_elses = created("staff", customer_id=other_customer_id)
    headers = login_as("customer")

    listed = client.get("/bookings", headers=headers).get_json()
    read_own = client.get(f"/bookings/{own['booking_id']}", headers=headers)
    read_other = client.get(f"/bookings/{someone_elses['booking_id']}", headers=headers)

    assert listed == {"items": [own], "next_cursor": None}
    assert read_own.get_json() == own
    assert_error(read_other, 404, "Not Found", "Booking not found.")


@pytest.mark.parametrize(("role", "company"), [("staff", "brighthome"), ("admin", "brighthome")])
def test_other_companys_booking_is_404(client, login_as, created, role, company):
    booking = created("staff", "everfresh")
    headers = login_as(role, company)

    read = client.get(f"/bookings/{booking['booking_id']}", headers=headers)
    patched = client.patch(
        f"/bookings/{booking['booking_id']}", headers=headers, json={"status": "confirmed"}
    )

    assert_error(read, 404, "Not Found", "Booking not found.")
    assert_error(patched, 404, "Not Found", "Booking not found.")
    unchanged = client.get(f"/bookings/{booking['booking_id']}", headers=login_as("staff"))
    assert unchanged.get_json() == booking


def test_other_company_filter_is_404(client, login_as, tenants):
    response = client.get(
        f"/bookings?company_id={tenants['everfresh'].company_id}",
        headers=login_as("staff", "brighthome"),
    )

    assert_error(response, 404, "Not Found", "Company not found.")


@pytest.mark.parametrize("booking_id", ["01J0000000000000000000000X", "nope"])
def test_unknown_booking_is_404(client, login_as, booking_id):
    response = client.get(f"/bookings/{booking_id}", headers=login_as("superadmin"))

    assert_error(response, 404, "Not Found", "Booking not found.")


def test_superadmin_reads_any_booking(client, login_as, created):
    # A superadmin may do with it what the company's admin may.
    booking = created("admin", "brighthome")

    response = client.get(f"/bookings/{booking['booking_id']}", headers=login_as("superadmin"))

    assert response.get_json() == booking


# --- PATCH /bookings/<id> -------------------------------------------------------------------


@pytest.fixture
def patch(client: FlaskClient, login_as) -> Callable[..., TestResponse]:
    """Return a function sending a PATCH for a booking as a demo user."""

    def send(booking_id: str, body: Any, role: str = "staff", company: str = "everfresh"):
        return client.patch(f"/bookings/{booking_id}", headers=login_as(role, company), json=body)

    return send


@pytest.mark.parametrize(
    ("role", "next_actions"),
    [
        ("staff", ["assign_self", "edit_notes", "start"]),
        ("admin", ["assign", "cancel", "edit_notes", "reschedule", "start"]),
        ("superadmin", ["assign", "cancel", "edit_notes", "reschedule", "start"]),
    ],
)
def test_staff_and_admin_change_the_status(created, patch, written, role, next_actions):
    booking = created()

    response = patch(booking["booking_id"], {"status": "confirmed"}, role)

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "confirmed"
    assert body["allowed_actions"] == next_actions
    assert body["updated_at"] >= booking["updated_at"]
    assert ISO_UTC_MS.fullmatch(body["updated_at"])
    changing = ("status", "updated_at", "allowed_actions")
    unchanged = {k: v for k, v in body.items() if k not in changing}
    assert unchanged == {k: v for k, v in booking.items() if k not in changing}
    # The creation's event and the change's.
    assert written() == (1, 2)


def test_status_walks_through_its_life(created, patch):
    booking_id = created()["booking_id"]

    statuses = [
        patch(booking_id, {"status": status}).get_json()["status"]
        for status in ("confirmed", "in_progress", "completed")
    ]

    assert statuses == ["confirmed", "in_progress", "completed"]


def test_assign_and_unassign_staff(created, patch, tenants):
    booking_id = created()["booking_id"]
    staff_id = tenants["everfresh"].staff_id

    assigned = patch(booking_id, {"staff_id": staff_id}, "admin")
    unassigned = patch(booking_id, {"staff_id": None}, "admin")

    assert assigned.status_code == 200
    assert assigned.get_json()["staff_id"] == staff_id
    assert unassigned.status_code == 200
    assert unassigned.get_json()["staff_id"] is None


def test_reschedule(client, login_as, created, patch):
    booking = created()

    response = patch(
        booking["booking_id"],
        {"scheduled_date": in_days(90), "scheduled_time_start": "08:30", "notes": "Moved."},
        "admin",
    )

    assert response.status_code == 200
    body = response.get_json()
    assert (body["scheduled_date"], body["scheduled_time_start"], body["notes"]) == (
        in_days(90),
        "08:30",
        "Moved.",
    )
    read = client.get(f"/bookings/{booking['booking_id']}", headers=login_as("admin"))
    assert read.get_json() == body


@pytest.mark.parametrize("staff", ["brighthome", "unknown"])
def test_staff_member_must_be_of_the_bookings_company(
    client, login_as, created, patch, tenants, staff
):
    booking = created()
    staff_id = UNKNOWN["staff_id"] if staff == "unknown" else tenants["brighthome"].staff_id

    response = patch(booking["booking_id"], {"staff_id": staff_id}, "admin")

    assert invalid_fields(response) == {"staff_id": "No such staff member in this company."}
    read = client.get(f"/bookings/{booking['booking_id']}", headers=login_as("staff"))
    assert read.get_json() == booking


def test_superadmin_assigns_staff_only_within_the_bookings_company(created, patch, tenants):
    booking = created("staff", "brighthome")

    wrong = patch(booking["booking_id"], {"staff_id": tenants["everfresh"].staff_id}, "superadmin")
    right = patch(booking["booking_id"], {"staff_id": tenants["brighthome"].staff_id}, "superadmin")

    assert list(invalid_fields(wrong)) == ["staff_id"]
    assert right.get_json()["staff_id"] == tenants["brighthome"].staff_id


def test_customer_may_not_patch(created, patch):
    booking = created("customer", customer_id=OMIT)

    response = patch(booking["booking_id"], {"status": "cancelled"}, "customer")

    assert_error(response, 403, "Forbidden", "Your role may not do this.")


# The moves that take a new booking to each final status (tests/test_workflow.py has the rest).
TO_FINAL = {
    "completed": ["confirmed", "in_progress", "completed"],
    "cancelled": ["cancelled"],
}


@pytest.mark.parametrize(
    ("final", "new"),
    [
        ("completed", "pending"),
        ("completed", "cancelled"),
        ("cancelled", "confirmed"),
        ("cancelled", "pending"),
        ("cancelled", "completed"),
    ],
)
def test_final_status_cannot_change(client, login_as, created, patch, final, new):
    booking_id = created()["booking_id"]
    for status in TO_FINAL[final]:
        assert patch(booking_id, {"status": status}, "admin").status_code == 200

    response = patch(booking_id, {"status": new}, "admin")

    assert response.status_code == 409
    assert response.get_json() == {
        "error": {
            "code": 409,
            "name": "Conflict",
            "message": f"The booking is {final}; it can no longer change.",
            "fields": {"status": f"A {final} booking is final."},
        }
    }
    read = client.get(f"/bookings/{booking_id}", headers=login_as("staff"))
    assert read.get_json()["status"] == final


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"body": "Send at least one field to change."}),
        ({"status": None}, {"status": "May be left out, but not null."}),
        ({"scheduled_date": None}, {"scheduled_date": "May be left out, but not null."}),
        (
            {"scheduled_time_start": None},
            {"scheduled_time_start": "May be left out, but not null."},
        ),
        ({"scheduled_date": "2026/12/01"}, {"scheduled_date": "Use a date written YYYY-MM-DD."}),
        (
            {"scheduled_time_start": "25:00"},
            {"scheduled_time_start": "Use a 24-hour time written HH:MM."},
        ),
        ({"customer_id": "cust_x"}, {"customer_id": "Unknown field."}),
        ({"booking_number": "BK-1"}, {"booking_number": "Unknown field."}),
    ],
)
def test_patch_validates_body(client, login_as, created, patch, body, fields):
    booking = created()

    response = patch(booking["booking_id"], body)

    assert invalid_fields(response) == fields
    read = client.get(f"/bookings/{booking['booking_id']}", headers=login_as("staff"))
    assert read.get_json() == booking


@pytest.mark.parametrize(
    "body", [{"status": "done"}, {"status": 1}, {"staff_id": 5}, {"notes": "x" * 2001}]
)
def test_patch_names_the_bad_field(created, patch, body):
    response = patch(created()["booking_id"], body)

    assert list(invalid_fields(response)) == list(body)


def test_patch_needs_json(client, login_as, created):
    booking_id = created()["booking_id"]

    response = client.patch(
        f"/bookings/{booking_id}", headers=login_as("staff"), data="status=confirmed"
    )

    assert response.status_code == 415


# --- Rule: no start in the past, on the company's wall clock ---------------------------------


@pytest.fixture
def in_zone(app: Flask, tenants) -> Callable[[str, str], None]:
    """Return a function moving a demo company to another time zone."""

    def move(company: str, zone: str) -> None:
        with app.app_context():
            db.session.get(Company, tenants[company].company_id).timezone = zone
            db.session.commit()

    return move


@pytest.fixture
def clock(monkeypatch) -> Callable[[str, str, str], datetime]:
    """Return a function stopping the booking rules' clock at a wall-clock moment in a zone."""

    def stop(zone: str, day: str, wall_time: str) -> datetime:
        local = datetime.fromisoformat(f"{day}T{wall_time}").replace(tzinfo=ZoneInfo(zone))
        monkeypatch.setattr("everfresh.bookings.rules.utcnow", lambda: local.astimezone(UTC))
        return local

    return stop


def day_after(day: str, days: int) -> str:
    """Return the YYYY-MM-DD date `days` after `day`."""
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


# Against a clock stopped at 12:00:30 in the company's zone: (days from that day, start,
# the field refused or None). The current minute is still bookable.
PAST_CASES = [
    (0, "12:00", None),
    (0, "12:01", None),
    (1, "00:00", None),
    (0, "11:59", "scheduled_time_start"),
    (0, "00:00", "scheduled_time_start"),
    (-1, "23:59", "scheduled_date"),
    (-400, "12:00", "scheduled_date"),
]


@pytest.mark.parametrize(("offset", "start", "refused"), PAST_CASES)
@pytest.mark.parametrize("zone", ["Europe/London", "Pacific/Auckland", "America/New_York"])
def test_a_booking_may_not_start_in_the_past(
    book, written, in_zone, clock, zone, offset, start, refused
):
    in_zone("everfresh", zone)
    today = in_days(3)
    clock(zone, today, "12:00:30")

    response = book("staff", scheduled_date=day_after(today, offset), scheduled_time_start=start)

    if refused is None:
        assert response.status_code == 201
        assert written() == (1, 1)
        return
    messages = {
        "scheduled_date": f"This date has passed in {zone}, where today is {today}.",
        "scheduled_time_start": f"This time has passed today in {zone}, where it is 12:00.",
    }
    assert invalid_fields(response) == {refused: messages[refused]}
    assert written() == (0, 0)


def past_in_auckland_but_not_in_new_york() -> tuple[str, str]:
    """Return a wall-clock date and time that Auckland has passed and New York has not."""
    # Auckland's clocks run 16 to 18 hours ahead of New York's: eight hours after New York's
    # present is in both the future there and the past in Auckland, whatever the season.
    new_york = datetime.now(ZoneInfo("America/New_York")).replace(tzinfo=None)
    slot = new_york.replace(second=0, microsecond=0) + timedelta(hours=8)
    return slot.date().isoformat(), f"{slot:%H:%M}"


@pytest.mark.parametrize("zone", ["Pacific/Auckland", "America/New_York"])
def test_the_past_is_judged_in_the_companys_time_zone(book, in_zone, zone):
    in_zone("everfresh", zone)
    day, start = past_in_auckland_but_not_in_new_york()

    response = book("staff", scheduled_date=day, scheduled_time_start=start)

    if zone == "America/New_York":
        assert response.status_code == 201
        return
    auckland_today = datetime.now(ZoneInfo(zone)).date()
    field = "scheduled_date" if day < auckland_today.isoformat() else "scheduled_time_start"
    assert list(invalid_fields(response)) == [field]


def test_a_reschedule_may_not_start_in_the_past(client, login_as, created, patch, clock):
    booking = created()
    clock("Europe/London", booking["scheduled_date"], "12:00:30")

    response = patch(
        booking["booking_id"],
        {"scheduled_date": booking["scheduled_date"], "scheduled_time_start": "09:00"},
        "admin",
    )

    assert invalid_fields(response) == {
        "scheduled_time_start": "This time has passed today in Europe/London, where it is 12:00."
    }
    read = client.get(f"/bookings/{booking['booking_id']}", headers=login_as("staff"))
    assert read.get_json() == booking


@pytest.mark.parametrize(
    "body",
    [
        {"status": "confirmed"},
        {"notes": "Left the key with the neighbour."},
        {"scheduled_date": "{scheduled_date}", "scheduled_time_start": "10:00"},
    ],
)
def test_a_booking_whose_start_has_passed_can_still_change_otherwise(created, patch, clock, body):
    booking = created()
    clock("Europe/London", day_after(booking["scheduled_date"], 1), "12:00:00")

    response = patch(
        booking["booking_id"],
        {name: value.format(**booking) for name, value in body.items()},
        "admin",
    )

    assert response.status_code == 200


# --- Rule: no start beyond the horizon, five years ahead on the company's calendar -----------


def years_after(day: str, years: int) -> str:
    """Return the YYYY-MM-DD date `years` after `day` (28 February for a 29th without match)."""
    start = date.fromisoformat(day)
    try:
        return start.replace(year=start.year + years).isoformat()
    except ValueError:
        return start.replace(year=start.year + years, day=28).isoformat()


@pytest.mark.parametrize(
    ("today", "last"),
    [
        (date(2027, 3, 15), date(2032, 3, 15)),
        (date(2028, 2, 29), date(2033, 2, 28)),
        (date(2031, 12, 31), date(2036, 12, 31)),
    ],
)
def test_the_horizon_ends_five_years_after_today(today, last):
    assert last_bookable_date(today) == last


def horizon_refusal(zone: str, last: str) -> dict[str, str]:
    """Return the 422's fields for a date beyond the horizon ending on `last`."""
    message = f"Bookings open 5 years ahead: the last date open in {zone} is {last}."
    return {"scheduled_date": message}


# Days from the last open date, or a date at the end of the calendar.
BEYOND = [(0, False), (1, True), (400, True), ("9999-12-31", True)]


@pytest.mark.parametrize("role", ["customer", "staff", "admin"])
@pytest.mark.parametrize(("after_last", "refused"), BEYOND)
def test_a_booking_may_not_start_beyond_the_horizon(
    book, written, clock, role, after_last, refused
):
    today = in_days(3)
    clock("Europe/London", today, "12:00:30")
    last = years_after(today, 5)
    day = after_last if isinstance(after_last, str) else day_after(last, after_last)

    fields = {"customer_id": OMIT} if role == "customer" else {}
    response = book(role, scheduled_date=day, scheduled_time_start="23:59", **fields)

    if not refused:
        assert response.status_code == 201
        return
    assert invalid_fields(response) == horizon_refusal("Europe/London", last)
    assert written() == (0, 0)


# At noon UTC it is already tomorrow in Kiritimati (UTC+14) and still today in New York.
@pytest.mark.parametrize(
    ("zone", "days_ahead"), [("Pacific/Kiritimati", 1), ("America/New_York", 0)]
)
def test_the_horizon_counts_from_the_companys_today(book, in_zone, clock, zone, days_ahead):
    in_zone("everfresh", zone)
    noon_utc = in_days(3)
    clock("UTC", noon_utc, "12:00:00")
    last = years_after(day_after(noon_utc, days_ahead), 5)

    on_last = book("staff", scheduled_date=last)
    beyond = book("staff", scheduled_date=day_after(last, 1))

    assert on_last.status_code == 201
    assert invalid_fields(beyond) == horizon_refusal(zone, last)


@pytest.mark.parametrize("assign", [False, True])
@pytest.mark.parametrize(("after_last", "refused"), BEYOND)
def test_a_reschedule_may_not_go_beyond_the_horizon(
    client, login_as, created, patch, clock, tenants, assign, after_last, refused
):
    booking = created()
    today = in_days(3)
    clock("Europe/London", today, "12:00:30")
    last = years_after(today, 5)
    day = after_last if isinstance(after_last, str) else day_after(last, after_last)
    change = {"scheduled_date": day}
    if assign:
        change["staff_id"] = tenants["everfresh"].staff_id

    response = patch(booking["booking_id"], change, "admin")

    if not refused:
        assert response.status_code == 200
        assert response.get_json()["scheduled_date"] == day
        return
    assert invalid_fields(response) == horizon_refusal("Europe/London", last)
    read = client.get(f"/bookings/{booking['booking_id']}", headers=login_as("staff"))
    assert read.get_json() == booking


def test_a_booking_stored_beyond_the_horizon_must_move_before_it_is_assigned(
    app, client, login_as, created, patch, tenants
):
    booking = created()
    with app.app_context():
        # As a booking made before dates were bounded could be.
        db.session.get(Booking, booking["booking_id"]).scheduled_date = date(9999, 12, 31)
        db.session.commit()

    assigned = patch(booking["booking_id"], {"staff_id": tenants["everfresh"].staff_id}, "admin")
    noted = patch(booking["booking_id"], {"notes": "Still here."})

    assert list(invalid_fields(assigned)) == ["scheduled_date"]
    assert noted.status_code == 200


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("date_from=9999-12-31", []),
        ("date_to=9999-12-31", ["booked"]),
        ("date_from=0001-01-01", ["booked"]),
        ("date_to=0001-01-01", []),
        ("date_from=0001-01-01&date_to=9999-12-31", ["booked"]),
    ],
)
def test_list_filters_take_any_calendar_date(client, login_as, created, query, expected):
    # Filters only compare dates, so the ends of the calendar are fine and need no horizon.
    made = {"booked": created()}

    response = client.get(f"/bookings?{query}", headers=login_as("staff"))

    assert response.status_code == 200
    assert response.get_json() == {"items": [made[key] for key in expected], "next_cursor": None}


# --- Rule: one staff member, one booking at a time --------------------------------------------


@pytest.fixture
def one_hour_service(client: FlaskClient, login_as) -> str:
    """Create a 60-minute EverFresh service and return its id."""
    response = client.post(
        "/services",
        headers=login_as("admin"),
        json={"name": "Windows", "duration_minutes": 60, "price_cents": 4500},
    )
    assert response.status_code == 201
    return response.get_json()["id"]


def staff_conflict(response: TestResponse, detail: str) -> None:
    """Check a 409 in the JSON error shape that names `staff_id`."""
    assert response.status_code == 409
    assert response.get_json() == {
        "error": {
            "code": 409,
            "name": "Conflict",
            "message": "The staff member already has a booking at that time.",
            "fields": {"staff_id": detail},
        }
    }


# A one-hour booking of the staff member holds 10:00-11:00: where a new one-hour booking of
# theirs may start. Back-to-back bookings share no minute.
OVERLAPS = [
    ("10:00", False),
    ("10:30", False),
    ("09:01", False),
    ("10:59", False),
    ("09:00", True),
    ("11:00", True),
    ("07:00", True),
]


@pytest.mark.parametrize(("start", "free"), OVERLAPS)
def test_a_staff_member_cannot_be_booked_twice_at_once(
    book, created, written, tenants, one_hour_service, start, free
):
    staff_id = tenants["everfresh"].staff_id
    day = in_days(2)
    created(service_id=one_hour_service, staff_id=staff_id, scheduled_date=day)

    response = book(
        service_id=one_hour_service,
        staff_id=staff_id,
        scheduled_date=day,
        scheduled_time_start=start,
    )

    if free:
        assert response.status_code == 201
        assert written() == (2, 2)
        return
    staff_conflict(response, f"Already booked from 10:00 on {day} for 60 minutes.")
    assert written() == (1, 1)
    assert created()["booking_number"] == "BK-1002"


def test_the_new_bookings_own_length_counts(created, book, tenants, one_hour_service, app):
    staff_id = tenants["everfresh"].staff_id
    day = in_days(2)
    created(service_id=one_hour_service, staff_id=staff_id, scheduled_date=day)
    with app.app_context():
        minutes = db.session.get(Service, tenants["everfresh"].service_id).duration_minutes
    start = (datetime(2000, 1, 1, 10) - timedelta(minutes=minutes - 1)).strftime("%H:%M")

    response = book(staff_id=staff_id, scheduled_date=day, scheduled_time_start=start)

    staff_conflict(response, f"Already booked from 10:00 on {day} for 60 minutes.")


def test_a_booking_overlaps_across_midnight(created, book, tenants, one_hour_service):
    staff_id = tenants["everfresh"].staff_id
    day = in_days(2)
    created(
        service_id=one_hour_service,
        staff_id=staff_id,
        scheduled_date=day,
        scheduled_time_start="23:30",
    )

    response = book(
        service_id=one_hour_service,
        staff_id=staff_id,
        scheduled_date=day_after(day, 1),
        scheduled_time_start="00:15",
    )

    staff_conflict(response, f"Already booked from 23:30 on {day} for 60 minutes.")


def test_cancelled_bookings_free_the_staff_member(created, book, patch, tenants):
    staff_id = tenants["everfresh"].staff_id
    first = created(staff_id=staff_id)
    assert patch(first["booking_id"], {"status": "cancelled"}, "admin").status_code == 200

    response = book(staff_id=staff_id)

    assert response.status_code == 201


def test_other_staff_and_unassigned_bookings_may_share_a_time(
    client, login_as, created, book, tenants
):
    created(staff_id=tenants["everfresh"].staff_id)
    created()
    other = client.post("/staff", headers=login_as("admin"), json={"name": "Second Cleaner"})

    assert book().status_code == 201
    assert book(staff_id=other.get_json()["id"]).status_code == 201


@pytest.mark.parametrize(
    ("change", "conflicts"),
    [
        ({"staff_id": "{staff}"}, True),
        ({"scheduled_time_start": "10:30"}, True),
        ({"scheduled_time_start": "13:00"}, False),
        ({"scheduled_date": "{other_day}"}, False),
        ({"staff_id": "{staff}", "status": "cancelled"}, False),
        ({"notes": "Bring the ladder."}, False),
    ],
)
def test_an_update_may_not_double_book_a_staff_member(
    client, login_as, created, patch, tenants, one_hour_service, change, conflicts
):
    staff_id = tenants["everfresh"].staff_id
    day = in_days(2)
    created(service_id=one_hour_service, staff_id=staff_id, scheduled_date=day)
    # The moved booking is assigned already unless the change assigns it.
    assigned = None if "staff_id" in change else staff_id
    booking = created(
        service_id=one_hour_service,
        staff_id=assigned,
        scheduled_date=day,
        scheduled_time_start="12:00" if assigned else "10:00",
    )
    values = {"staff": staff_id, "other_day": in_days(3)}

    response = patch(
        booking["booking_id"],
        {name: value.format(**values) for name, value in change.items()},
        "admin",
    )

    if not conflicts:
        assert response.status_code == 200
        return
    staff_conflict(response, f"Already booked from 10:00 on {day} for 60 minutes.")
    read = client.get(f"/bookings/{booking['booking_id']}", headers=login_as("staff"))
    assert read.get_json() == booking


def test_a_booking_may_move_within_its_own_time(created, patch, tenants, one_hour_service):
    booking = created(service_id=one_hour_service, staff_id=tenants["everfresh"].staff_id)

    response = patch(booking["booking_id"], {"scheduled_time_start": "10:30"}, "admin")

    assert response.status_code == 200
    assert response.get_json()["scheduled_time_start"] == "10:30"


def test_a_retried_booking_of_a_staff_member_is_not_a_conflict(book, tenants, written):
    key = {"Idempotency-Key": "assign-once"}
    staff_id = tenants["everfresh"].staff_id

    first = book(headers=key, staff_id=staff_id)
    again = book(headers=key, staff_id=staff_id)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert written() == (1, 1)
