"""Call every route as every kind of caller, and hold each answer to the table below.

The table has one row per (URL rule, method) the app serves, so a new route without a row
fails `test_every_route_has_a_row`. Implicit methods (HEAD mirrors GET, OPTIONS is answered
by Flask and CORS) are left out. Callers: no token, each role of EverFresh Demo, and an admin
of BrightHome Demo asking for EverFresh's rows ("other company"), who must get 404 wherever a
resource of another company is involved, never 403, so that ids are not confirmed. Requests
that name a company name EverFresh (`company_id`), so the same request serves every caller.
Every answer must carry the security headers. The same bodies then show that every body
route refuses unknown fields and large bodies.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from werkzeug.test import TestResponse

from everfresh.auth.models import User
from everfresh.extensions import db
from everfresh.web.security_headers import HEADERS
from tests.dates import in_days

CALLERS = ("anonymous", "customer", "staff", "admin", "superadmin", "other_company")
DEMO_EMAILS = {
    "customer": "customer@everfresh.test",
    "staff": "staff@everfresh.test",
    "admin": "admin@everfresh.test",
    "superadmin": "superadmin@everfresh.test",
    "other_company": "admin@brighthome.test",
}
# Methods Flask adds to rules by itself.
IMPLICIT_METHODS = {"HEAD", "OPTIONS"}
_unique = itertools.count(1)
NUL_REFUSED = "Text may not contain NUL characters."


def statuses(
    anonymous: int, customer: int, staff: int, admin: int, superadmin: int, other_company: int
) -> dict[str, int]:
    """Name the status each caller must get, in the order of `CALLERS`."""
    return dict(
        zip(CALLERS, (anonymous, customer, staff, admin, superadmin, other_company), strict=True)
    )


def public(status: int) -> dict[str, int]:
    """Every caller gets `status`: the route needs no token and ignores one."""
    return dict.fromkeys(CALLERS, status)


@dataclass(frozen=True)
class World:
    """The EverFresh rows that requests point at."""

    company: str
    customer: str
    service: str
    staff_member: str
    staff_user: str
    booking: str

    def fill(self, value: Any) -> Any:
        """Put the ids (and a fresh number for unique names) into a path or a body."""
        if isinstance(value, str):
            return value.format(**self.__dict__, unique=next(_unique))
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        return value


@dataclass(frozen=True)
class Row:
    """What one route must answer each caller, and the request that asks it."""

    path: str
    expected: dict[str, int]
    body: dict[str, Any] | None = None
    # How the caller's credentials travel: access token, refresh token, or refresh cookie.
    credentials: str = "access"


BOOKING = {
    "customer_id": "{customer}",
    "service_id": "{service}",
    "scheduled_date": in_days(1),
    "scheduled_time_start": "10:00",
}
LOGIN = {"email": "admin@everfresh.test", "password": "everfresh-demo"}
OF_EVERFRESH = "?company_id={company}"

MATRIX: dict[tuple[str, str], Row] = {
    # Pages, documents and operations endpoints are public on purpose.
    ("/", "GET"): Row("/", public(200)),
    ("/board/static/<path:filename>", "GET"): Row("/board/static/board.css", public(200)),
    ("/docs", "GET"): Row("/docs", public(200)),
    ("/docs/static/<path:filename>", "GET"): Row("/docs/static/docs.js", public(200)),
    ("/static/<path:filename>", "GET"): Row("/static/board.css", public(404)),
    ("/openapi.json", "GET"): Row("/openapi.json", public(200)),
    ("/healthz", "GET"): Row("/healthz", public(200)),
    ("/readyz", "GET"): Row("/readyz", public(200)),
    ("/metrics", "GET"): Row("/metrics", public(200)),
    # Logging in needs only the credentials in the body; a token sent along changes nothing.
    ("/auth/login", "POST"): Row("/auth/login", public(200), LOGIN),
    ("/auth/session", "POST"): Row("/auth/session", public(200), LOGIN),
    ("/auth/session", "DELETE"): Row("/auth/session", public(204)),
    ("/auth/session/refresh", "POST"): Row(
        "/auth/session/refresh",
        statuses(401, 200, 200, 200, 200, 200),
        credentials="refresh_cookie",
    ),
    ("/auth/refresh", "POST"): Row(
        "/auth/refresh", statuses(401, 200, 200, 200, 200, 200), credentials="refresh"
    ),
    ("/auth/logout", "POST"): Row("/auth/logout", statuses(401, 204, 204, 204, 204, 204), {}),
    ("/auth/me", "GET"): Row("/auth/me", statuses(401, 200, 200, 200, 200, 200)),
    ("/users", "GET"): Row("/users" + OF_EVERFRESH, statuses(401, 403, 403, 200, 200, 404)),
    ("/users", "POST"): Row(
        "/users",
        statuses(401, 403, 403, 201, 201, 404),
        {
            "email": "new-{unique}@everfresh.test",
            "password": "a-long-password",
            "name": "New Cleaner",
            "role": "staff",
            "company_id": "{company}",
        },
    ),
    ("/users/<user_id>", "PATCH"): Row(
        "/users/{staff_user}", statuses(401, 403, 403, 200, 200, 404), {"name": "Renamed"}
    ),
    ("/users/<user_id>/revoke-sessions", "POST"): Row(
        "/users/{staff_user}/revoke-sessions", statuses(401, 403, 403, 204, 204, 404)
    ),
    ("/companies", "GET"): Row("/companies", statuses(401, 403, 403, 403, 200, 403)),
    ("/companies", "POST"): Row(
        "/companies", statuses(401, 403, 403, 403, 201, 403), {"name": "Company {unique}"}
    ),
    ("/companies/<company_id>", "GET"): Row(
        "/companies/{company}", statuses(401, 200, 200, 200, 200, 404)
    ),
    ("/companies/<company_id>", "PATCH"): Row(
        "/companies/{company}",
        statuses(401, 403, 403, 403, 200, 403),
        {"timezone": "Europe/London"},
    ),
    ("/customers", "GET"): Row("/customers" + OF_EVERFRESH, statuses(401, 403, 200, 200, 200, 404)),
    ("/customers", "POST"): Row(
        "/customers",
        statuses(401, 403, 201, 201, 201, 404),
        {"name": "Grace Hopper", "company_id": "{company}"},
    ),
    # The demo customer user's own customer record.
    ("/customers/<customer_id>", "GET"): Row(
        "/customers/{customer}", statuses(401, 200, 200, 200, 200, 404)
    ),
    ("/customers/<customer_id>", "PATCH"): Row(
        "/customers/{customer}", statuses(401, 403, 200, 200, 200, 404), {"city": "London"}
    ),
    ("/services", "GET"): Row("/services" + OF_EVERFRESH, statuses(401, 200, 200, 200, 200, 404)),
    ("/services", "POST"): Row(
        "/services",
        statuses(401, 403, 403, 201, 201, 404),
        {"name": "Windows", "duration_minutes": 60, "price_cents": 4500, "company_id": "{company}"},
    ),
    ("/services/<service_id>", "GET"): Row(
        "/services/{service}", statuses(401, 200, 200, 200, 200, 404)
    ),
    ("/services/<service_id>", "PATCH"): Row(
        "/services/{service}", statuses(401, 403, 403, 200, 200, 404), {"price_cents": 9500}
    ),
    ("/staff", "GET"): Row("/staff" + OF_EVERFRESH, statuses(401, 403, 200, 200, 200, 404)),
    ("/staff", "POST"): Row(
        "/staff",
        statuses(401, 403, 403, 201, 201, 404),
        {"name": "New Cleaner", "company_id": "{company}"},
    ),
    ("/staff/<staff_id>", "GET"): Row(
        "/staff/{staff_member}", statuses(401, 403, 200, 200, 200, 404)
    ),
    ("/staff/<staff_id>", "PATCH"): Row(
        "/staff/{staff_member}", statuses(401, 403, 403, 200, 200, 404), {"name": "Renamed"}
    ),
    ("/bookings", "GET"): Row("/bookings" + OF_EVERFRESH, statuses(401, 200, 200, 200, 200, 404)),
    # Another company's customer in a new booking is a field error, as DESIGN.md §4 says.
    ("/bookings", "POST"): Row("/bookings", statuses(401, 201, 201, 201, 201, 422), BOOKING),
    ("/bookings/<booking_id>", "GET"): Row(
        "/bookings/{booking}", statuses(401, 200, 200, 200, 200, 404)
    ),
    ("/bookings/<booking_id>", "PATCH"): Row(
        "/bookings/{booking}", statuses(401, 403, 200, 200, 200, 404), {"notes": "Ring twice."}
    ),
    ("/sse/events", "GET"): Row(
        "/sse/events" + OF_EVERFRESH, statuses(401, 403, 200, 200, 200, 404)
    ),
}


@pytest.fixture
def world(app: Flask, client: FlaskClient, tenants, login_as) -> World:
    """Create an EverFresh booking for the demo customer and gather the ids requests use."""
    everfresh = tenants["everfresh"]
    booking = client.post(
        "/bookings",
        headers=login_as("admin"),
        json={**BOOKING, "customer_id": everfresh.customer_id, "service_id": everfresh.service_id},
    )
    assert booking.status_code == 201
    with app.app_context():
        staff_user = db.session.scalars(
            db.select(User.id).where(User.email == "staff@everfresh.test")
        ).one()
    return World(
        company=everfresh.company_id,
        customer=everfresh.customer_id,
        service=everfresh.service_id,
        staff_member=everfresh.staff_id,
        staff_user=staff_user,
        booking=booking.get_json()["booking_id"],
    )


@pytest.fixture
def call(app: Flask, world: World) -> Callable[..., TestResponse]:
    """Return a function sending one route's request as one caller, each from a new client."""

    def send(
        caller: str, method: str, path: str, body: dict[str, Any] | None, credentials: str
    ) -> TestResponse:
        # A new client each time: cookies set by one answer must not log in the next caller.
        client = app.test_client()
        headers = _credentials(app, client, caller, credentials)
        response = client.open(
            world.fill(path),
            method=method,
            headers=headers,
            json=world.fill(body) if body is not None else None,
            buffered=False,
        )
        return response

    return send


def _credentials(app: Flask, client: FlaskClient, caller: str, kind: str) -> dict[str, str]:
    if caller == "anonymous":
        return {}
    with app.app_context():
        user = db.session.scalars(db.select(User).where(User.email == DEMO_EMAILS[caller])).one()
        if kind == "access":
            token = create_access_token(
                identity=user.id,
                additional_claims={"role": str(user.role), "company_id": user.company_id},
            )
            return {"Authorization": f"Bearer {token}"}
        refresh = create_refresh_token(identity=user.id)
        if kind == "refresh":
            return {"Authorization": f"Bearer {refresh}"}
        # The board's way: the refresh token in its cookie, its CSRF value in a header.
        csrf = decode_token(refresh)["csrf"]
    client.set_cookie(
        app.config["JWT_REFRESH_COOKIE_NAME"], refresh, path=app.config["JWT_REFRESH_COOKIE_PATH"]
    )
    return {app.config["JWT_REFRESH_CSRF_HEADER_NAME"]: csrf}


def _status_of(response: TestResponse) -> int:
    """Return the status after checking body and security headers; read a stream's first frame."""
    try:
        assert {name: response.headers.get(name) for name in HEADERS} == HEADERS
        if response.mimetype == "text/event-stream":
            assert response.status_code == 200
            first = next(iter(response.response))
            assert re.match(rb'id: \d+\ndata: \{"type":"connection_established"', first)
        elif response.status_code >= 400:
            error = response.get_json()["error"]
            assert error["code"] == response.status_code, error
        return response.status_code
    finally:
        response.close()


def _rows() -> list[Any]:
    return [pytest.param(method, rule, id=f"{method} {rule}") for rule, method in MATRIX]


def test_every_route_has_a_row(app: Flask) -> None:
    """A route added without a row here fails, and so does a row for a route that is gone."""
    served = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - IMPLICIT_METHODS
    }

    assert served == set(MATRIX)


@pytest.mark.parametrize(("method", "rule"), _rows())
def test_each_caller_gets_the_status_in_the_table(call, method: str, rule: str) -> None:
    row = MATRIX[(rule, method)]

    answered = {
        caller: _status_of(call(caller, method, row.path, row.body, row.credentials))
        for caller in CALLERS
    }

    assert answered == row.expected


# --- The input rules every body route shares ------------------------------------------------

BODY_ROUTES = [
    pytest.param(method, rule, id=f"{method} {rule}")
    for (rule, method), row in MATRIX.items()
    if row.body is not None
]


def _permitted_caller(row: Row) -> str:
    return next(c for c in ("admin", "superadmin", "staff") if 200 <= row.expected[c] < 300)


@pytest.mark.parametrize(("method", "rule"), BODY_ROUTES)
def test_unknown_fields_are_refused_with_422(call, method: str, rule: str) -> None:
    row = MATRIX[(rule, method)]
    body = {**row.body, "isAdmin": True}

    response = call(_permitted_caller(row), method, row.path, body, row.credentials)

    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"isAdmin": "Unknown field."}


@pytest.mark.parametrize(("method", "rule"), BODY_ROUTES)
def test_bodies_over_max_content_length_are_refused_with_413(
    app: Flask, call, method: str, rule: str
) -> None:
    row = MATRIX[(rule, method)]
    body = {**row.body, "padding": "x" * app.config["MAX_CONTENT_LENGTH"]}

    response = call(_permitted_caller(row), method, row.path, body, row.credentials)

    assert response.status_code == 413
    assert response.get_json() == {
        "error": {
            "code": 413,
            "name": "Request Entity Too Large",
            "message": "The data value transmitted exceeds the capacity limit.",
        }
    }


@pytest.mark.parametrize(("method", "rule"), BODY_ROUTES)
def test_nul_characters_in_a_body_are_refused_with_422(call, method: str, rule: str) -> None:
    row = MATRIX[(rule, method)]
    # PostgreSQL cannot hold U+0000 in text: unchecked, these would be 500s there.
    body = {**row.body, "notes": "a\x00b"}

    response = call(_permitted_caller(row), method, row.path, body, row.credentials)

    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"notes": NUL_REFUSED}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"notes": ["ok", {"inner": "\x00"}]}, ["notes.1.inner"]),
        ({"key\x00": 1, "fine": "yes"}, ["body"]),
        ("\x00", ["body"]),
    ],
    ids=["nested", "in-a-key", "the-whole-body"],
)
def test_nul_characters_are_named_where_they_are(client, login_as, body, fields):
    response = client.post("/bookings", headers=login_as("admin"), json=body)

    assert response.get_json()["error"]["fields"] == dict.fromkeys(fields, NUL_REFUSED)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/bookings?company_id=%00", 422),
        ("/sse/events?company_id=a%00", 422),
        ("/sse/events?lastEventId=%00", 422),
        ("/bookings/%00", 404),
        ("/users/user_%00", 404),
    ],
)
def test_nul_characters_in_a_query_or_path_are_refused(client, login_as, path: str, status: int):
    response = client.open(
        path, method="PATCH" if path.startswith("/users") else "GET", headers=login_as("superadmin")
    )

    assert response.status_code == status
    assert response.get_json()["error"]["code"] == status


# --- Edge cases of the stream route -----------------------------------------------------------


def test_head_on_the_stream_holds_no_stream_slot(app, client, login_as):
    for _ in range(app.config["SSE_MAX_STREAMS_PER_USER"]):
        assert client.head("/sse/events", headers=login_as("staff")).status_code == 200

    response = client.get("/sse/events", headers=login_as("staff"), buffered=False)

    assert response.status_code == 200
    response.close()


@pytest.mark.parametrize("last_id", [10**20, 2**63, 2**63 - 1, 2**40, "²"])
def test_a_last_event_id_beyond_any_event_is_not_a_server_error(client, login_as, last_id):
    response = client.get(
        f"/sse/events?lastEventId={last_id}", headers=login_as("staff"), buffered=False
    )

    assert response.status_code == 200
    response.close()
