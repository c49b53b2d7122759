"""Property-test tenant isolation: no stream or REST call ever crosses from company to company.

Hypothesis draws sequences of steps across three companies (the two demo companies and one
made here through the API, as a superadmin would): staff, admins and superadmins open
streams (superadmins for every company or, with `?company_id=`, one), and permitted users
create bookings, or try to with another company's customer. Then every stream must have
received exactly the bookings of its scope created after it opened, in order, and nothing
else; every other company's user must get, for each new booking, exactly the answer an
unknown id gets (404, never 403, so that ids are not confirmed); and lists stay in scope.

Streams are read in-process (the testing settings beat every second): a heartbeat that is the last
thing a stream has sent shows that nothing else is queued for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from everfresh.sse.frames import connection_established_frame
from tests.dates import in_days
from tests.live import parse_frame

COMPANIES = ("everfresh", "brighthome", "sparkle")
# Who someone is: (company, or None for a superadmin; role).
Who = tuple[str | None, str]
# (company, role) of everyone who may watch the stream, and of everyone who may book.
WATCHERS = [
    *((company, role) for company in COMPANIES for role in ("staff", "admin")),
    (None, "superadmin"),
]
BOOKERS = [("everfresh", "customer"), ("sparkle", "customer"), *WATCHERS]
# A booking id that exists nowhere: what another company's booking must look like.
UNKNOWN_BOOKING = "01J000000000000000000000ZZ"
# Chunks a stream may yield before its heartbeat: more would mean a runaway stream.
MAX_CHUNKS = 64


@dataclass(frozen=True)
class Company:
    """The rows of one company that bookings point at."""

    id: str
    customer_id: str
    service_id: str


@dataclass(frozen=True)
class Person:
    """Someone who logs in, with the Authorization header of their access token."""

    company: str | None
    role: str
    headers: dict[str, str]


@dataclass
class Tenancy:
    """Three companies and the people of each, plus a superadmin."""

    companies: dict[str, Company]
    people: dict[Who, Person]


@dataclass
class Stream:
    """A stream opened during one example, and what it saw."""

    watcher: Who
    scope: str | None
    opened_after: int
    response: TestResponse
    chunks: Iterator[bytes]
    # Bytes read but not yet parsed: a chunk may hold several frames, or part of one.
    pending: bytes = b""
    received: list[tuple[str, str]] = field(default_factory=list)


def _created(response: TestResponse) -> dict[str, Any]:
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _third_company(client: FlaskClient, superadmin: dict[str, str]) -> tuple[Company, dict]:
    """Create Sparkle Demo, its customer, service and users through the API; log them in."""
    company_id = _created(
        client.post("/companies", headers=superadmin, json={"name": "Sparkle Demo"})
    )["id"]
    owned = {"company_id": company_id}
    customer_id = _created(
        client.post("/customers", headers=superadmin, json={"name": "Ada Lovelace", **owned})
    )["id"]
    service_id = _created(
        client.post(
            "/services",
            headers=superadmin,
            json={"name": "Deep clean", "duration_minutes": 120, "price_cents": 9000, **owned},
        )
    )["id"]
    people = {}
    for role in ("customer", "staff", "admin"):
        email = f"{role}@sparkle.test"
        extra = {"customer_id": customer_id} if role == "customer" else {}
        _created(
            client.post(
                "/users",
                headers=superadmin,
                json={
                    "email": email,
                    "password": "sparkle-password",
                    "name": f"Sparkle {role}",
                    "role": role,
                    **owned,
                    **extra,
                },
            )
        )
        login = client.post("/auth/login", json={"email": email, "password": "sparkle-password"})
        token = login.get_json()["access_token"]
        people[("sparkle", role)] = Person("sparkle", role, {"Authorization": f"Bearer {token}"})
    return Company(company_id, customer_id, service_id), people


@pytest.fixture
def tenancy(app: Flask, client: FlaskClient, tenants, login_as) -> Iterator[Tenancy]:
    """Add a third company through the API and gather everyone's tokens."""
    sparkle, people = _third_company(client, login_as("superadmin"))
    companies = {
        key: Company(tenant.company_id, tenant.customer_id, tenant.service_id)
        for key, tenant in tenants.items()
    }
    companies["sparkle"] = sparkle
    for company, role in [("everfresh", "customer"), *WATCHERS]:
        if company != "sparkle":
            people[(company, role)] = Person(company, role, login_as(role, company))
    yield Tenancy(companies, people)
    # Stops the broker's and the stream guard's loops, which would otherwise outlive the app.
    app.extensions["everfresh.broker"].shutdown()


open_step = st.tuples(
    st.just("open"), st.sampled_from(WATCHERS), st.sampled_from([None, *COMPANIES])
)
book_step = st.tuples(st.just("book"), st.sampled_from(BOOKERS), st.sampled_from(COMPANIES))
# Someone of one company names another company's customer and service.
foreign_step = st.tuples(
    st.just("foreign"),
    st.sampled_from([booker for booker in BOOKERS if booker[0] is not None]),
    st.sampled_from([1, 2]),
)
STEPS = st.lists(st.one_of(open_step, book_step, foreign_step), min_size=1, max_size=10)


def _open(
    client: FlaskClient, tenancy: Tenancy, watcher: Who, scope: str | None, step: int
) -> Stream | None:
    company, role = watcher
    path = (
        "/sse/events" if scope is None else f"/sse/events?company_id={tenancy.companies[scope].id}"
    )
    response = client.get(path, headers=tenancy.people[watcher].headers, buffered=False)
    if company is not None and scope not in (None, company):
        # Naming another company is answered as if it did not exist.
        assert response.status_code == 404
        assert response.get_json()["error"]["message"] == "Company not found."
        return None
    assert response.status_code == 200
    chunks = iter(response.response)
    greeting, _, rest = next(chunks).partition(b"\n\n")
    resume_from = int(greeting.split(b"\n")[0].removeprefix(b"id: "))
    assert greeting + b"\n\n" == connection_established_frame(resume_from)
    effective = scope if company is None else company
    return Stream(watcher, effective, step, response, chunks, rest)


def _book(client: FlaskClient, tenancy: Tenancy, booker: Who, target: str) -> tuple[str, str]:
    company, role = booker
    owner = tenancy.companies[target if company is None else company]
    body = {
        "service_id": owner.service_id,
        "scheduled_date": in_days(1),
        "scheduled_time_start": "10:00",
    }
    if role != "customer":
        body["customer_id"] = owner.customer_id
    booking = _created(client.post("/bookings", headers=tenancy.people[booker].headers, json=body))
    assert booking["company_id"] == owner.id
    return booking["booking_id"], owner.id


def _book_elsewhere(client: FlaskClient, tenancy: Tenancy, booker: Who, offset: int) -> None:
    company, _ = booker
    foreign = tenancy.companies[COMPANIES[(COMPANIES.index(company) + offset) % 3]]
    response = client.post(
        "/bookings",
        headers=tenancy.people[booker].headers,
        json={
            "customer_id": foreign.customer_id,
            "service_id": foreign.service_id,
            "scheduled_date": in_days(1),
            "scheduled_time_start": "10:00",
        },
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) <= {"customer_id", "service_id"}


def _drain(stream: Stream) -> None:
    """Record the stream's booking frames up to a heartbeat with nothing after it."""
    for _ in range(MAX_CHUNKS):
        while b"\n\n" in stream.pending:
            raw, _, stream.pending = stream.pending.partition(b"\n\n")
            frame = parse_frame(raw)
            if frame.comments == ["keep-alive"]:
                # Everything queued arrives together: a heartbeat sent before the steps'
                # frames has them behind it, one sent after them has nothing.
                if not stream.pending:
                    return
                continue
            assert frame.event == "booking_created", raw
            stream.received.append((frame.json["booking_id"], frame.json["company_id"]))
        stream.pending += next(stream.chunks)
    pytest.fail(f"{stream.watcher}'s stream never went quiet")


def _every_page(client: FlaskClient, path: str, headers: dict[str, str]) -> list[dict]:
    items, cursor = [], None
    while True:
        page = f"{path}{'&' if '?' in path else '?'}limit=100" + (
            f"&cursor={cursor}" if cursor else ""
        )
        body = client.get(page, headers=headers).get_json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def _check_rest(client: FlaskClient, tenancy: Tenancy, bookings: list[tuple[str, str]]) -> None:
    for booking_id, company_id in bookings:
        for (company, role), person in tenancy.people.items():
            if company is None or tenancy.companies[company].id == company_id:
                continue
            for method, body in (("GET", None), ("PATCH", {"notes": "Mine now."})):
                answers = [
                    client.open(
                        f"/bookings/{target}", method=method, headers=person.headers, json=body
                    )
                    for target in (booking_id, UNKNOWN_BOOKING)
                ]
                statuses = [answer.status_code for answer in answers]
                expected = 403 if (method, role) == ("PATCH", "customer") else 404
                assert statuses == [expected, expected], (company, role, method)
                assert answers[0].get_json() == answers[1].get_json()
    superadmin = tenancy.people[(None, "superadmin")].headers
    for key, company in tenancy.companies.items():
        scoped = _every_page(client, f"/bookings?company_id={company.id}", superadmin)
        assert {item["company_id"] for item in scoped} <= {company.id}
        mine = {booking_id for booking_id, owner in bookings if owner == company.id}
        assert mine <= {item["booking_id"] for item in scoped}
        for role in ("staff", "admin", "customer"):
            if (key, role) in tenancy.people:
                seen = _every_page(client, "/bookings", tenancy.people[(key, role)].headers)
                assert {item["company_id"] for item in seen} <= {company.id}


# As many examples as the profile gives (tests/conftest.py): 20, or 5 under `--fast`.
@settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_nothing_crosses_from_one_company_to_another(client, tenancy, steps):
    streams: list[Stream] = []
    bookings: list[tuple[str, str, int]] = []
    try:
        for number, (kind, who, choice) in enumerate(steps):
            if kind == "open":
                stream = _open(client, tenancy, who, choice, number)
                if stream is not None:
                    streams.append(stream)
            elif kind == "book":
                bookings.append((*_book(client, tenancy, who, choice), number))
            else:
                _book_elsewhere(client, tenancy, who, choice)

        for stream in streams:
            _drain(stream)
            scope_id = None if stream.scope is None else tenancy.companies[stream.scope].id
            expected = [
                (booking_id, company_id)
                for booking_id, company_id, step in bookings
                if step > stream.opened_after and scope_id in (None, company_id)
            ]
            assert stream.received == expected, json.dumps(
                {"watcher": stream.watcher, "scope": stream.scope}
            )
        _check_rest(
            client, tenancy, [(booking_id, company_id) for booking_id, company_id, _ in bookings]
        )
    finally:
        for stream in streams:
            stream.response.close()
