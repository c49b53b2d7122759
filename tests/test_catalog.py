"""Test the catalogue and company endpoints: roles, tenancy, cursor pagination and validation."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from everfresh.bookings.models import Booking
from everfresh.catalog.models import Customer, Service, Staff
from everfresh.companies.models import Company
from everfresh.extensions import db
from tests.assertions import ISO_UTC_MS, assert_error, invalid_fields
from tests.dates import in_days

UNKNOWN_COMPANY = "comp_01J000000000000000000000000"

# A valid body for each creating endpoint, without the company.
BODIES: dict[str, dict[str, Any]] = {
    "/customers": {"name": "Alan Turing", "email": "alan@example.com", "phone": "+44 20 7946 0000"},
    "/services": {"name": "Window clean", "duration_minutes": 60, "price_cents": 4500},
    "/staff": {"name": "Rosalind Franklin"},
    "/companies": {"name": "SparkleCo"},
}
MODELS = {"/customers": Customer, "/services": Service, "/staff": Staff, "/companies": Company}
PREFIXES = {"/customers": "cust", "/services": "serv", "/staff": "staff", "/companies": "comp"}
KEYS = {
    "/customers": [
        "id",
        "company_id",
        "name",
        "email",
        "phone",
        "address_line1",
        "address_line2",
        "city",
        "postcode",
        "access_notes",
        "active",
        "created_at",
    ],
    "/services": [
        "id",
        "company_id",
        "name",
        "duration_minutes",
        "price_cents",
        "active",
        "created_at",
    ],
    "/staff": ["id", "company_id", "name", "user_id", "active", "created_at"],
    "/companies": ["id", "name", "timezone", "currency", "created_at"],
}
# What a new row holds beyond its creation body.
DEFAULTS = {
    "/customers": dict.fromkeys(
        ["address_line1", "address_line2", "city", "postcode", "access_notes"]
    )
    | {"active": True},
    "/services": {"active": True},
    "/staff": {"user_id": None, "active": True},
}
CATALOG = ["/customers", "/services", "/staff"]


@pytest.fixture
def ids_in_db(app: Flask) -> Callable[..., list[str]]:
    """Return a function listing the ids of a model's rows, optionally of one company, sorted."""

    def ids(model: type, company_id: str | None = None) -> list[str]:
        with app.app_context():
            query = db.select(model.id).order_by(model.id)
            if company_id is not None:
                query = query.where(model.company_id == company_id)
            return list(db.session.scalars(query))

    return ids


@pytest.fixture
def add_rows(app: Flask, tenants) -> Callable[[str, int], None]:
    """Return a function adding `count` extra rows behind an endpoint to both demo companies."""

    def add(path: str, count: int) -> None:
        with app.app_context():
            for number in range(count):
                if path == "/companies":
                    db.session.add(Company(name=f"Extra company {number}"))
                    continue
                for tenant in tenants.values():
                    fields: dict[str, Any] = {
                        "company_id": tenant.company_id,
                        "name": f"Extra {number}",
                    }
                    if path == "/services":
                        fields |= {"duration_minutes": 30, "price_cents": 1000}
                    db.session.add(MODELS[path](**fields))
            db.session.commit()

    return add


def body_for(path: str, role: str, company_id: str) -> dict[str, Any]:
    """Return a valid creation body, naming the company when a superadmin must."""
    if role == "superadmin" and path != "/companies":
        return {**BODIES[path], "company_id": company_id}
    return dict(BODIES[path])


# --- Role matrix ----------------------------------------------------------------------------

ROLE_MATRIX = [
    # (method, path, {role: status})
    ("GET", "/customers", {"customer": 403, "staff": 200, "admin": 200, "superadmin": 200}),
    ("POST", "/customers", {"customer": 403, "staff": 201, "admin": 201, "superadmin": 201}),
    ("GET", "/services", {"customer": 200, "staff": 200, "admin": 200, "superadmin": 200}),
    ("POST", "/services", {"customer": 403, "staff": 403, "admin": 201, "superadmin": 201}),
    ("GET", "/staff", {"customer": 403, "staff": 200, "admin": 200, "superadmin": 200}),
    ("POST", "/staff", {"customer": 403, "staff": 403, "admin": 201, "superadmin": 201}),
    ("GET", "/companies", {"customer": 403, "staff": 403, "admin": 403, "superadmin": 200}),
    ("POST", "/companies", {"customer": 403, "staff": 403, "admin": 403, "superadmin": 201}),
]


@pytest.mark.parametrize(
    ("method", "path", "role", "status"),
    [
        (method, path, role, status)
        for method, path, statuses in ROLE_MATRIX
        for role, status in statuses.items()
    ],
)
def test_role_matrix(client, login_as, tenants, method, path, role, status):
    body = body_for(path, role, tenants["everfresh"].company_id) if method == "POST" else None

    response = client.open(path, method=method, headers=login_as(role), json=body)

    if status == 403:
        assert_error(response, 403, "Forbidden", "Your role may not do this.")
    else:
        assert response.status_code == status


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/customers"), ("POST", "/services"), ("GET", "/staff"), ("POST", "/companies")],
)
def test_catalog_needs_a_token(client, method, path):
    response = client.open(path, method=method, json=BODIES[path])

    assert_error(response, 401, "Unauthorized", "Missing or malformed access token.")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="everfresh"'


# --- Creating -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", CATALOG)
def test_admin_creates_in_own_company(client, login_as, tenants, ids_in_db, path):
    company_id = tenants["everfresh"].company_id

    response = client.post(path, headers=login_as("admin"), json=BODIES[path])

    assert response.status_code == 201
    body = response.get_json()
    assert list(body) == KEYS[path]
    assert re.fullmatch(rf"{PREFIXES[path]}_[0-7][0-9A-HJKMNP-TV-Z]{{25}}", body["id"])
    assert ISO_UTC_MS.fullmatch(body["created_at"])
    expected = {**BODIES[path], **DEFAULTS[path], "id": body["id"], "company_id": company_id}
    assert {k: v for k, v in body.items() if k != "created_at"} == expected
    assert body["id"] in ids_in_db(MODELS[path], company_id)
    listed = client.get(f"{path}?limit=100", headers=login_as("admin")).get_json()["items"]
    assert body in listed


def test_staff_creates_customers(client, login_as, tenants):
    response = client.post("/customers", headers=login_as("staff"), json={"name": "Only A Name"})

    assert response.status_code == 201
    body = response.get_json()
    assert (body["company_id"], body["name"], body["email"], body["phone"]) == (
        tenants["everfresh"].company_id,
        "Only A Name",
        None,
        None,
    )


def test_customer_email_may_use_a_test_domain(client, login_as):
    response = client.post(
        "/customers",
        headers=login_as("staff"),
        json={"name": "Demo", "email": "Demo@EverFresh.test"},
    )

    assert response.status_code == 201
    assert response.get_json()["email"] == "Demo@everfresh.test"


def test_strings_are_trimmed(client, login_as):
    response = client.post("/staff", headers=login_as("admin"), json={"name": "  Spaced Out  "})

    assert response.status_code == 201
    assert response.get_json()["name"] == "Spaced Out"


@pytest.mark.parametrize("path", CATALOG)
def test_superadmin_creates_in_the_named_company(client, login_as, tenants, ids_in_db, path):
    company_id = tenants["brighthome"].company_id

    response = client.post(
        path, headers=login_as("superadmin"), json={**BODIES[path], "company_id": company_id}
    )

    assert response.status_code == 201
    assert response.get_json()["company_id"] == company_id
    assert response.get_json()["id"] in ids_in_db(MODELS[path], company_id)


@pytest.mark.parametrize("path", CATALOG)
def test_superadmin_must_name_the_company(client, login_as, ids_in_db, path):
    before = ids_in_db(MODELS[path])

    response = client.post(path, headers=login_as("superadmin"), json=BODIES[path])

    assert invalid_fields(response) == {"company_id": "A superadmin must name the company."}
    assert ids_in_db(MODELS[path]) == before


@pytest.mark.parametrize("path", CATALOG)
@pytest.mark.parametrize("role", ["admin", "superadmin"])
def test_unknown_company_is_404(client, login_as, ids_in_db, path, role):
    before = ids_in_db(MODELS[path])

    response = client.post(
        path, headers=login_as(role), json={**BODIES[path], "company_id": UNKNOWN_COMPANY}
    )

    assert_error(response, 404, "Not Found", "Company not found.")
    assert ids_in_db(MODELS[path]) == before


@pytest.mark.parametrize("path", CATALOG)
def test_admin_cannot_create_in_another_company(client, login_as, tenants, ids_in_db, path):
    company_id = tenants["brighthome"].company_id
    before = ids_in_db(MODELS[path], company_id)

    response = client.post(
        path, headers=login_as("admin"), json={**BODIES[path], "company_id": company_id}
    )

    assert_error(response, 404, "Not Found", "Company not found.")
    assert ids_in_db(MODELS[path], company_id) == before


@pytest.mark.parametrize("path", CATALOG)
def test_admin_may_name_own_company(client, login_as, tenants, path):
    company_id = tenants["everfresh"].company_id

    response = client.post(
        path, headers=login_as("admin"), json={**BODIES[path], "company_id": company_id}
    )

    assert response.status_code == 201
    assert response.get_json()["company_id"] == company_id


def test_superadmin_creates_a_company(client, login_as, ids_in_db):
    response = client.post("/companies", headers=login_as("superadmin"), json={"name": "SparkleCo"})

    assert response.status_code == 201
    body = response.get_json()
    assert list(body) == KEYS["/companies"]
    assert (body["name"], body["timezone"], body["currency"]) == ("SparkleCo", "UTC", "GBP")
    assert re.fullmatch(r"comp_[0-7][0-9A-HJKMNP-TV-Z]{25}", body["id"])
    assert ISO_UTC_MS.fullmatch(body["created_at"])
    assert body["id"] in ids_in_db(Company)


def test_superadmin_creates_a_company_in_a_time_zone(client, login_as, app):
    response = client.post(
        "/companies",
        headers=login_as("superadmin"),
        json={"name": "SparkleCo", "timezone": "Pacific/Auckland"},
    )

    assert response.status_code == 201
    assert response.get_json()["timezone"] == "Pacific/Auckland"
    with app.app_context():
        assert db.session.get(Company, response.get_json()["id"]).timezone == "Pacific/Auckland"


def test_new_company_is_usable_at_once(client, login_as):
    headers = login_as("superadmin")
    company_id = client.post("/companies", headers=headers, json={"name": "SparkleCo"}).get_json()[
        "id"
    ]

    created = client.post(
        "/services", headers=headers, json={**BODIES["/services"], "company_id": company_id}
    )
    listed = client.get(f"/services?company_id={company_id}", headers=headers)

    assert created.status_code == 201
    assert listed.get_json() == {"items": [created.get_json()], "next_cursor": None}


def test_duplicate_company_name_is_409(client, login_as, ids_in_db):
    before = ids_in_db(Company)

    response = client.post(
        "/companies", headers=login_as("superadmin"), json={"name": "EverFresh Demo"}
    )

    assert_error(response, 409, "Conflict", "A company with this name already exists.")
    assert ids_in_db(Company) == before


# --- Changing a company ----------------------------------------------------------------------


def company_row(app: Flask, company_id: str) -> tuple[str, str]:
    """Return a company's stored name and time zone."""
    with app.app_context():
        company = db.session.get(Company, company_id)
        return company.name, company.timezone


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"timezone": "Asia/Tokyo"}, ("EverFresh Demo", "Asia/Tokyo")),
        ({"name": "EverFresh Ltd"}, ("EverFresh Ltd", "Europe/London")),
        ({"name": "EverFresh Ltd", "timezone": "UTC"}, ("EverFresh Ltd", "UTC")),
        ({"name": "EverFresh Demo"}, ("EverFresh Demo", "Europe/London")),
    ],
)
def test_superadmin_changes_a_company(client, login_as, tenants, app, body, expected):
    company_id = tenants["everfresh"].company_id

    response = client.patch(f"/companies/{company_id}", headers=login_as("superadmin"), json=body)

    assert response.status_code == 200
    answer = response.get_json()
    assert list(answer) == KEYS["/companies"]
    assert (answer["id"], answer["name"], answer["timezone"]) == (company_id, *expected)
    assert company_row(app, company_id) == expected


@pytest.mark.parametrize(
    ("role", "company"), [("customer", "everfresh"), ("staff", "everfresh"), ("admin", "everfresh")]
)
def test_only_a_superadmin_changes_a_company(client, login_as, tenants, app, role, company):
    company_id = tenants[company].company_id

    response = client.patch(
        f"/companies/{company_id}", headers=login_as(role, company), json={"timezone": "UTC"}
    )

    assert_error(response, 403, "Forbidden", "Your role may not do this.")
    assert company_row(app, company_id) == ("EverFresh Demo", "Europe/London")


def test_changing_an_unknown_company_is_404(client, login_as):
    response = client.patch(
        f"/companies/{UNKNOWN_COMPANY}", headers=login_as("superadmin"), json={"name": "X"}
    )

    assert_error(response, 404, "Not Found", "Company not found.")


def test_renaming_a_company_to_a_taken_name_is_409(client, login_as, tenants, app):
    company_id = tenants["everfresh"].company_id

    response = client.patch(
        f"/companies/{company_id}",
        headers=login_as("superadmin"),
        json={"name": "BrightHome Demo", "timezone": "UTC"},
    )

    assert_error(response, 409, "Conflict", "A company with this name already exists.")
    assert company_row(app, company_id) == ("EverFresh Demo", "Europe/London")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["body"]),
        ({"timezone": "Mars/Olympus_Mons"}, ["timezone"]),
        ({"timezone": "US/Nowhere"}, ["timezone"]),
        ({"timezone": None}, ["timezone"]),
        ({"name": None}, ["name"]),
        ({"name": ""}, ["name"]),
        ({"name": "Co", "last_booking_number": 1}, ["last_booking_number"]),
    ],
)
def test_company_changes_are_validated(client, login_as, tenants, app, body, fields):
    company_id = tenants["everfresh"].company_id

    response = client.patch(f"/companies/{company_id}", headers=login_as("superadmin"), json=body)

    assert sorted(invalid_fields(response)) == fields
    assert company_row(app, company_id) == ("EverFresh Demo", "Europe/London")


def test_unknown_time_zone_message(client, login_as):
    response = client.post(
        "/companies", headers=login_as("superadmin"), json={"name": "Co", "timezone": "Mars/Base"}
    )

    assert invalid_fields(response) == {
        "timezone": "Unknown time zone: use an IANA name such as Europe/London."
    }


# --- Tenancy when reading ---------------------------------------------------------------------


@pytest.mark.parametrize("path", CATALOG)
@pytest.mark.parametrize("company", ["everfresh", "brighthome"])
def test_company_users_see_only_their_company(
    client, login_as, tenants, ids_in_db, add_rows, path, company
):
    add_rows(path, 2)
    company_id = tenants[company].company_id

    body = client.get(path, headers=login_as("admin", company)).get_json()

    assert [item["id"] for item in body["items"]] == ids_in_db(MODELS[path], company_id)
    assert {item["company_id"] for item in body["items"]} == {company_id}
    assert body["next_cursor"] is None


def test_customer_sees_only_own_company_services(client, login_as, tenants, ids_in_db):
    body = client.get("/services", headers=login_as("customer")).get_json()

    assert [item["id"] for item in body["items"]] == ids_in_db(
        Service, tenants["everfresh"].company_id
    )
    assert sorted(item["name"] for item in body["items"]) == ["Deep clean", "Standard clean"]


@pytest.mark.parametrize("path", CATALOG)
def test_brighthome_never_sees_everfresh_rows(client, login_as, tenants, path):
    everfresh = tenants["everfresh"].company_id

    response = client.get(f"{path}?company_id={everfresh}", headers=login_as("staff", "brighthome"))

    assert_error(response, 404, "Not Found", "Company not found.")


@pytest.mark.parametrize("path", CATALOG)
def test_naming_own_company_is_allowed(client, login_as, tenants, ids_in_db, path):
    company_id = tenants["brighthome"].company_id

    body = client.get(
        f"{path}?company_id={company_id}", headers=login_as("admin", "brighthome")
    ).get_json()

    assert [item["id"] for item in body["items"]] == ids_in_db(MODELS[path], company_id)


@pytest.mark.parametrize("path", [*CATALOG, "/companies"])
def test_superadmin_sees_every_company(client, login_as, ids_in_db, path):
    body = client.get(path, headers=login_as("superadmin")).get_json()

    assert [item["id"] for item in body["items"]] == ids_in_db(MODELS[path])
    if path != "/companies":
        assert len({item["company_id"] for item in body["items"]}) == 2


@pytest.mark.parametrize("path", CATALOG)
def test_superadmin_filters_one_company(client, login_as, tenants, ids_in_db, path):
    company_id = tenants["brighthome"].company_id

    body = client.get(f"{path}?company_id={company_id}", headers=login_as("superadmin")).get_json()

    assert [item["id"] for item in body["items"]] == ids_in_db(MODELS[path], company_id)
    assert body["items"]


@pytest.mark.parametrize("path", CATALOG)
def test_superadmin_naming_unknown_company_is_404(client, login_as, path):
    response = client.get(f"{path}?company_id={UNKNOWN_COMPANY}", headers=login_as("superadmin"))

    assert_error(response, 404, "Not Found", "Company not found.")


def test_company_list_items(client, login_as, tenants):
    items = client.get("/companies", headers=login_as("superadmin")).get_json()["items"]

    assert sorted(
        (item["id"], item["name"], item["timezone"], item["currency"]) for item in items
    ) == sorted(
        [
            (tenants["everfresh"].company_id, "EverFresh Demo", "Europe/London", "GBP"),
            (tenants["brighthome"].company_id, "BrightHome Demo", "America/New_York", "USD"),
        ]
    )
    assert all(list(item) == KEYS["/companies"] for item in items)


# --- Cursor pagination ---------------------------------------------------------------------


def walk(client: FlaskClient, path: str, headers: dict[str, str], limit: int) -> list[list[str]]:
    """Follow `next_cursor` from the first page to the last; return each page's ids."""
    pages: list[list[str]] = []
    url = f"{path}?limit={limit}"
    while True:
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        body = response.get_json()
        assert sorted(body) == ["items", "next_cursor"]
        pages.append([item["id"] for item in body["items"]])
        if body["next_cursor"] is None:
            return pages
        assert isinstance(body["next_cursor"], str)
        assert len(pages) < 50, "pagination does not end"
        url = f"{path}?limit={limit}&cursor={body['next_cursor']}"


@pytest.mark.parametrize("path", [*CATALOG, "/companies"])
@pytest.mark.parametrize("limit", [1, 2])
def test_pages_walk_every_row_once(client, login_as, ids_in_db, add_rows, path, limit):
    add_rows(path, 3)
    everything = ids_in_db(MODELS[path])

    pages = walk(client, path, login_as("superadmin"), limit)

    assert [row for page in pages for row in page] == everything
    assert all(len(page) == limit for page in pages[:-1])
    assert 1 <= len(pages[-1]) <= limit


def test_last_page_has_no_cursor_when_exactly_full(client, login_as, tenants, ids_in_db):
    everfresh = ids_in_db(Service, tenants["everfresh"].company_id)

    body = client.get("/services?limit=2", headers=login_as("admin")).get_json()

    assert len(everfresh) == 2
    assert [item["id"] for item in body["items"]] == everfresh
    assert body["next_cursor"] is None


def test_pagination_keeps_the_company_scope(client, login_as, tenants, ids_in_db, add_rows):
    add_rows("/customers", 3)

    pages = walk(client, "/customers", login_as("staff", "brighthome"), 1)

    assert [row for page in pages for row in page] == ids_in_db(
        Customer, tenants["brighthome"].company_id
    )


def test_default_page_size_is_fifty(client, login_as, add_rows):
    add_rows("/staff", 30)

    first = client.get("/staff", headers=login_as("superadmin")).get_json()
    second = client.get(
        f"/staff?cursor={first['next_cursor']}", headers=login_as("superadmin")
    ).get_json()

    assert len(first["items"]) == 50
    assert len(second["items"]) == 62 - 50
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/customers", "0"),
        ("/services", "-1"),
        ("/staff", "101"),
        ("/companies", "abc"),
        ("/users", "1.5"),
        ("/customers", ""),
    ],
)
def test_bad_limit_is_422(client, login_as, path, limit):
    response = client.get(f"{path}?limit={limit}", headers=login_as("superadmin"))

    assert list(invalid_fields(response, "The query string has invalid parameters.")) == ["limit"]


def test_limit_of_a_hundred_is_allowed(client, login_as):
    response = client.get("/customers?limit=100", headers=login_as("superadmin"))

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        ("/customers", "!!!!"),
        ("/services", ""),
        ("/staff", "caf%C3%A9"),
        ("/companies", "not a cursor"),
        ("/customers", "cust-01"),
        ("/services", "x" * 41),
        ("/staff", "Y3VzdF8/"),
    ],
    ids=["bangs", "empty", "not-ascii", "spaces", "dash", "long", "slash"],
)
def test_garbage_cursor_is_422(client, login_as, path, cursor):
    response = client.get(f"{path}?cursor={cursor}", headers=login_as("superadmin"))

    assert invalid_fields(response, "The query string has invalid parameters.") == {
        "cursor": "Not a cursor from a previous page."
    }


def test_nul_in_a_cursor_is_refused_before_the_view(client, login_as):
    # everfresh/web/text_input.py refuses NUL in any parameter: PostgreSQL cannot compare it.
    response = client.get("/users?cursor=%00", headers=login_as("superadmin"))

    assert invalid_fields(response, "The query string has invalid parameters.") == {
        "cursor": "Text may not contain NUL characters."
    }


# --- Validation of bodies -------------------------------------------------------------------


VALIDATION = [
    ("/customers", {}, ["name"]),
    ("/customers", {"name": "   "}, ["name"]),
    ("/customers", {"name": 5}, ["name"]),
    ("/customers", {"name": "A", "email": "not-an-email"}, ["email"]),
    ("/customers", {"name": "A", "phone": "call me"}, ["phone"]),
    ("/customers", {"name": "A", "address": "1 Road"}, ["address"]),
    ("/services", {}, ["duration_minutes", "name", "price_cents"]),
    (
        "/services",
        {"name": "S", "duration_minutes": "60", "price_cents": 100},
        ["duration_minutes"],
    ),
    (
        "/services",
        {"name": "S", "duration_minutes": True, "price_cents": 100},
        ["duration_minutes"],
    ),
    ("/services", {"name": "S", "duration_minutes": 60, "price_cents": False}, ["price_cents"]),
    (
        "/services",
        {"name": "S", "duration_minutes": 60.5, "price_cents": 100},
        ["duration_minutes"],
    ),
    ("/services", {"name": "S", "duration_minutes": 0, "price_cents": 100}, ["duration_minutes"]),
    ("/services", {"name": "S", "duration_minutes": 60, "price_cents": -1}, ["price_cents"]),
    ("/services", {"name": "S", "duration_minutes": 60, "price_cents": 100, "tax": 1}, ["tax"]),
    ("/staff", {}, ["name"]),
    ("/staff", {"name": 1}, ["name"]),
    ("/staff", {"name": "Ann", "user_id": "user_x"}, ["user_id"]),
    ("/companies", {}, ["name"]),
    ("/companies", {"name": 1}, ["name"]),
    ("/companies", {"name": "x" * 201}, ["name"]),
    ("/companies", {"name": "Co", "id": "comp_mine"}, ["id"]),
    ("/companies", {"name": "Co", "timezone": "Mars/Olympus_Mons"}, ["timezone"]),
    ("/companies", {"name": "Co", "timezone": "europe/london"}, ["timezone"]),
    ("/companies", {"name": "Co", "timezone": "localtime"}, ["timezone"]),
    ("/companies", {"name": "Co", "timezone": "+01:00"}, ["timezone"]),
    ("/companies", {"name": "Co", "timezone": ""}, ["timezone"]),
    ("/companies", {"name": "Co", "timezone": None}, ["timezone"]),
    ("/companies", {"name": "Co", "timezone": 1}, ["timezone"]),
]


@pytest.mark.parametrize(
    ("path", "body", "fields"),
    VALIDATION,
    ids=[f"{path}-{json.dumps(body)[:40]}" for path, body, _ in VALIDATION],
)
def test_create_validates_body(client, login_as, ids_in_db, path, body, fields):
    role = "superadmin" if path == "/companies" else "admin"
    before = ids_in_db(MODELS[path])

    response = client.post(path, headers=login_as(role), json=body)

    failing = invalid_fields(response)
    assert sorted(failing) == fields
    for name in fields:
        if name not in BODIES[path] and name not in ("company_id", "timezone"):
            assert failing[name] == "Unknown field."
    assert ids_in_db(MODELS[path]) == before


@pytest.mark.parametrize(
    ("path", "body"),
    [("/customers", []), ("/services", "a string"), ("/staff", 12), ("/companies", None)],
)
def test_body_must_be_an_object(client, login_as, path, body):
    response = client.post(
        path, headers=login_as("superadmin"), data=json.dumps(body), content_type="application/json"
    )

    assert list(invalid_fields(response)) == ["body"]


@pytest.mark.parametrize("path", [*CATALOG, "/companies"])
def test_create_needs_json(client, login_as, path):
    response = client.post(path, headers=login_as("superadmin"), data="name=x")

    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == 415
    assert response.get_json()["error"]["name"] == "Unsupported Media Type"


@pytest.mark.parametrize("path", [*CATALOG, "/companies"])
def test_create_refuses_malformed_json(client, login_as, path):
    response = client.post(
        path, headers=login_as("superadmin"), data='{"name": ', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == 400
    assert response.get_json()["error"]["name"] == "Bad Request"


# --- Reading one row ----------------------------------------------------------------------------

ONE_ROW = {"/customers": "customer_id", "/services": "service_id", "/staff": "staff_id"}
ONE_ROW_MISSING = {
    "/customers": "Customer not found.",
    "/services": "Service not found.",
    "/staff": "Staff member not found.",
}


@pytest.mark.parametrize("path", CATALOG)
@pytest.mark.parametrize("role", ["staff", "admin", "superadmin"])
def test_one_row_is_read_by_its_id(client, login_as, tenants, path, role):
    row_id = getattr(tenants["everfresh"], ONE_ROW[path])

    response = client.get(f"{path}/{row_id}", headers=login_as(role))

    assert response.status_code == 200
    assert list(response.json) == KEYS[path]
    assert response.json["id"] == row_id


@pytest.mark.parametrize("path", CATALOG)
def test_another_companys_row_is_404(client, login_as, tenants, path):
    row_id = getattr(tenants["brighthome"], ONE_ROW[path])

    response = client.get(f"{path}/{row_id}", headers=login_as("admin"))

    assert_error(response, 404, "Not Found", ONE_ROW_MISSING[path])


@pytest.mark.parametrize("path", CATALOG)
def test_an_unknown_row_is_404(client, login_as, path):
    response = client.get(f"{path}/nothing_01J000000000000000000000000", headers=login_as("admin"))

    assert_error(response, 404, "Not Found", ONE_ROW_MISSING[path])


@pytest.mark.parametrize(
    ("path", "role", "status"),
    [
        ("/customers", "customer", 200),
        ("/staff", "customer", 403),
        ("/services", "customer", 200),
    ],
)
def test_one_row_follows_the_list_roles(client, login_as, tenants, path, role, status):
    row_id = getattr(tenants["everfresh"], ONE_ROW[path])

    response = client.get(f"{path}/{row_id}", headers=login_as(role))

    assert response.status_code == status


@pytest.mark.parametrize("role", ["customer", "staff", "admin", "superadmin"])
def test_a_company_is_read_by_its_users_and_superadmins(client, login_as, tenants, role):
    company_id = tenants["everfresh"].company_id

    response = client.get(f"/companies/{company_id}", headers=login_as(role))

    assert response.status_code == 200
    assert response.json["id"] == company_id
    assert response.json["name"] == "EverFresh Demo"


@pytest.mark.parametrize("company_id", ["brighthome", UNKNOWN_COMPANY])
def test_another_or_unknown_company_is_404(client, login_as, tenants, company_id):
    if company_id in tenants:
        company_id = tenants[company_id].company_id

    response = client.get(f"/companies/{company_id}", headers=login_as("staff"))

    assert_error(response, 404, "Not Found", "Company not found.")


# --- Addresses and access notes --------------------------------------------------------------

ADDRESS = {
    "address_line1": "Flat 3",
    "address_line2": "14 Elm Grove",
    "city": "London",
    "postcode": "N8 9AJ",
    "access_notes": "Key safe left of the door, code 4821.\nFriendly cat: keep the door shut.",
}


def customer_row(app: Flask, customer_id: str) -> dict[str, Any]:
    """Return a customer's stored details, by column."""
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        return {name: getattr(customer, name) for name in KEYS["/customers"][2:-1]}


def test_a_customer_is_created_with_an_address(client, login_as, app):
    response = client.post(
        "/customers", headers=login_as("staff"), json={"name": "Oliver Bennett", **ADDRESS}
    )

    assert response.status_code == 201
    body = response.get_json()
    assert {name: body[name] for name in ADDRESS} == ADDRESS
    assert customer_row(app, body["id"]) == {
        "name": "Oliver Bennett",
        "email": None,
        "phone": None,
        **ADDRESS,
        "active": True,
    }
    assert client.get(f"/customers/{body['id']}", headers=login_as("admin")).get_json() == body


ADDRESS_VALIDATION = [
    ({"address_line1": ""}, "address_line1"),
    ({"address_line1": "x" * 201}, "address_line1"),
    ({"address_line1": "Flat 3\n14 Elm Grove"}, "address_line1"),
    ({"address_line2": "14 Elm\u200bGrove"}, "address_line2"),
    ({"address_line2": 14}, "address_line2"),
    ({"city": "\u202eLondon"}, "city"),
    ({"city": "x" * 101}, "city"),
    ({"city": "Lon\tdon"}, "city"),
    ({"postcode": "N8 9AJ!"}, "postcode"),
    ({"postcode": "N"}, "postcode"),
    ({"postcode": "N8  9AJ"}, "postcode"),
    ({"postcode": "1" * 17}, "postcode"),
    ({"access_notes": "x" * 2001}, "access_notes"),
    ({"access_notes": "Key safe\r\ncode 4821"}, "access_notes"),
    ({"access_notes": "Alarm\x07"}, "access_notes"),
    ({"access_notes": "Code \ufeff4821"}, "access_notes"),
    ({"access_notes": ["a note"]}, "access_notes"),
    ({"name": "Ada\u200d Lovelace"}, "name"),
]


@pytest.mark.parametrize(("fields", "failing"), ADDRESS_VALIDATION)
def test_addresses_and_notes_are_validated(client, login_as, ids_in_db, fields, failing):
    before = ids_in_db(Customer)

    response = client.post("/customers", headers=login_as("staff"), json={"name": "A", **fields})

    assert list(invalid_fields(response)) == [failing]
    assert ids_in_db(Customer) == before


def test_hidden_characters_are_refused_in_words(client, login_as):
    response = client.post(
        "/customers",
        headers=login_as("staff"),
        json={"name": "A", "city": "Lon\u200bdon", "access_notes": "Key\u2066 safe"},
    )

    assert invalid_fields(response) == {
        "city": "Use visible characters only: no line breaks, control or hidden characters.",
        "access_notes": "Use visible characters and line breaks only: no control or hidden "
        "characters.",
    }


@pytest.mark.parametrize(
    "fields",
    [
        {"postcode": "SW1A 1AA"},
        {"postcode": "10001-1234"},
        {"postcode": "D02 X285"},
        {"city": "São Paulo", "address_line1": "Rua Augusta, 1500 – apto 42"},
        {"access_notes": "Chien gentil 🐕\nClé chez la voisine (n° 21)."},
        {"address_line1": None, "access_notes": None},
    ],
)
def test_real_addresses_are_taken_as_sent(client, login_as, fields):
    response = client.post("/customers", headers=login_as("staff"), json={"name": "A", **fields})

    assert response.status_code == 201
    assert {name: response.get_json()[name] for name in fields} == fields


def test_a_customer_user_reads_their_own_record_only(client, login_as, tenants, app):
    own = tenants["everfresh"].customer_id
    with app.app_context():
        other = Customer(company_id=tenants["everfresh"].company_id, name="Someone Else")
        db.session.add(other)
        db.session.commit()
        other_id = other.id

    mine = client.get(f"/customers/{own}", headers=login_as("customer"))
    theirs = client.get(f"/customers/{other_id}", headers=login_as("customer"))
    listed = client.get("/customers", headers=login_as("customer"))

    assert mine.status_code == 200
    assert (mine.get_json()["id"], mine.get_json()["name"]) == (own, "Ada Lovelace")
    assert mine.get_json()["access_notes"]
    assert_error(theirs, 404, "Not Found", "Customer not found.")
    assert_error(listed, 403, "Forbidden", "Your role may not do this.")


# --- Changing customers, services and staff members --------------------------------------------

ROW_OF = {"/customers": "customer_id", "/services": "service_id", "/staff": "staff_id"}


def stored(app: Flask, path: str, row_id: str) -> dict[str, Any]:
    """Return the row behind `path/row_id` as its answer model would show it, from the database."""
    with app.app_context():
        row = db.session.get(MODELS[path], row_id)
        return {name: getattr(row, name) for name in KEYS[path] if name != "created_at"}


CHANGES = [
    ("/customers", "staff", {"phone": "020 7946 0101", **ADDRESS}),
    ("/customers", "admin", {"name": "Ada King", "email": None, "address_line2": None}),
    ("/customers", "admin", {"active": False}),
    ("/services", "admin", {"name": "Regular clean", "price_cents": 9500}),
    ("/services", "admin", {"duration_minutes": 90, "active": False}),
    ("/staff", "admin", {"name": "Maria Santos"}),
    ("/staff", "superadmin", {"active": False}),
]


@pytest.mark.parametrize(("path", "role", "changes"), CHANGES)
def test_a_catalogue_row_is_changed(client, login_as, tenants, app, path, role, changes):
    row_id = getattr(tenants["everfresh"], ROW_OF[path])
    before = stored(app, path, row_id)

    response = client.patch(f"{path}/{row_id}", headers=login_as(role), json=changes)

    assert response.status_code == 200
    assert {**before, **changes} == stored(app, path, row_id)
    answer = response.get_json()
    assert list(answer) == KEYS[path]
    assert {name: answer[name] for name in changes} == changes


@pytest.mark.parametrize(
    ("path", "role", "body", "message"),
    [
        ("/customers", "customer", {"city": "Leeds"}, "Your role may not do this."),
        (
            "/customers",
            "staff",
            {"active": False},
            "Only an admin may deactivate or reactivate a customer.",
        ),
        ("/services", "staff", {"price_cents": 1}, "Your role may not do this."),
        ("/staff", "staff", {"name": "Me"}, "Your role may not do this."),
        ("/staff", "customer", {"active": False}, "Your role may not do this."),
    ],
)
def test_only_the_right_roles_change_rows(
    client, login_as, tenants, app, path, role, body, message
):
    row_id = getattr(tenants["everfresh"], ROW_OF[path])
    before = stored(app, path, row_id)

    response = client.patch(f"{path}/{row_id}", headers=login_as(role), json=body)

    assert_error(response, 403, "Forbidden", message)
    assert stored(app, path, row_id) == before


@pytest.mark.parametrize("path", CATALOG)
def test_another_companys_row_cannot_be_changed(client, login_as, tenants, app, path):
    row_id = getattr(tenants["brighthome"], ROW_OF[path])
    before = stored(app, path, row_id)

    response = client.patch(f"{path}/{row_id}", headers=login_as("admin"), json={"name": "Mine"})

    assert_error(response, 404, "Not Found", ONE_ROW_MISSING[path])
    assert stored(app, path, row_id) == before


CHANGE_VALIDATION = [
    ("/customers", {}, ["body"]),
    ("/customers", {"name": None}, ["name"]),
    ("/customers", {"name": ""}, ["name"]),
    ("/customers", {"active": None}, ["active"]),
    ("/customers", {"active": "false"}, ["active"]),
    ("/customers", {"postcode": "??"}, ["postcode"]),
    ("/customers", {"company_id": "comp_x"}, ["company_id"]),
    ("/services", {"duration_minutes": 0}, ["duration_minutes"]),
    ("/services", {"duration_minutes": None}, ["duration_minutes"]),
    ("/services", {"price_cents": -5}, ["price_cents"]),
    ("/services", {"name": "Clean\u200b"}, ["name"]),
    ("/staff", {"user_id": None}, ["user_id"]),
    ("/staff", {"active": 0}, ["active"]),
    ("/staff", {"name": "x" * 201}, ["name"]),
]


@pytest.mark.parametrize(
    ("path", "body", "fields"),
    CHANGE_VALIDATION,
    ids=[f"{path}-{json.dumps(body)[:30]}" for path, body, _ in CHANGE_VALIDATION],
)
def test_changes_are_validated(client, login_as, tenants, app, path, body, fields):
    row_id = getattr(tenants["everfresh"], ROW_OF[path])
    before = stored(app, path, row_id)

    response = client.patch(f"{path}/{row_id}", headers=login_as("admin"), json=body)

    assert sorted(invalid_fields(response)) == fields
    assert stored(app, path, row_id) == before


# --- Deactivation ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", CATALOG)
def test_lists_leave_deactivated_rows_out_unless_asked(client, login_as, tenants, path):
    headers = login_as("admin")
    row_id = getattr(tenants["everfresh"], ROW_OF[path])
    everything = [item["id"] for item in client.get(path, headers=headers).get_json()["items"]]

    client.patch(f"{path}/{row_id}", headers=headers, json={"active": False})
    active = client.get(path, headers=headers).get_json()["items"]
    listed = client.get(f"{path}?include_inactive=true", headers=headers).get_json()["items"]
    one = client.get(f"{path}/{row_id}", headers=headers)

    assert [item["id"] for item in active] == [i for i in everything if i != row_id]
    assert [item["id"] for item in listed] == everything
    assert next(item for item in listed if item["id"] == row_id)["active"] is False
    assert (one.status_code, one.get_json()["active"]) == (200, False)


def test_a_reactivated_row_is_listed_again(client, login_as, tenants):
    headers = login_as("admin")
    staff_id = tenants["everfresh"].staff_id

    client.patch(f"/staff/{staff_id}", headers=headers, json={"active": False})
    client.patch(f"/staff/{staff_id}", headers=headers, json={"active": True})

    assert staff_id in [item["id"] for item in client.get("/staff", headers=headers).json["items"]]


@pytest.mark.parametrize("value", ["maybe", "", "2"])
def test_include_inactive_takes_a_boolean(client, login_as, value):
    response = client.get(f"/staff?include_inactive={value}", headers=login_as("admin"))

    assert list(invalid_fields(response, "The query string has invalid parameters.")) == [
        "include_inactive"
    ]


def booking_body(tenant, **fields: Any) -> dict[str, Any]:
    """Return a valid new booking for tomorrow at 10:00 with the tenant's rows."""
    return {
        "customer_id": tenant.customer_id,
        "service_id": tenant.service_id,
        "staff_id": tenant.staff_id,
        "scheduled_date": in_days(1),
        "scheduled_time_start": "10:00",
        **fields,
    }


@pytest.mark.parametrize(
    ("path", "field", "message"),
    [
        ("/customers", "customer_id", "This customer is deactivated: no new bookings."),
        ("/services", "service_id", "This service is deactivated: it can no longer be booked."),
        ("/staff", "staff_id", "This staff member is deactivated: choose another."),
    ],
)
def test_a_deactivated_row_takes_no_new_booking_but_keeps_its_own(
    client, login_as, tenants, app, path, field, message
):
    everfresh = tenants["everfresh"]
    headers = login_as("admin")
    existing = client.post("/bookings", headers=headers, json=booking_body(everfresh)).get_json()
    client.patch(
        f"{path}/{getattr(everfresh, ROW_OF[path])}", headers=headers, json={"active": False}
    )
    with app.app_context():
        before = db.session.scalar(db.select(db.func.count()).select_from(Booking))

    refused = client.post(
        "/bookings",
        headers=headers,
        json=booking_body(everfresh, scheduled_time_start="15:00"),
    )
    kept = client.patch(
        f"/bookings/{existing['booking_id']}", headers=headers, json={"notes": "Ring twice."}
    )

    assert invalid_fields(refused) == {field: message}
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Booking)) == before
    assert kept.status_code == 200
    assert kept.get_json()["notes"] == "Ring twice."
    assert client.get(f"/bookings/{existing['booking_id']}", headers=headers).status_code == 200


def test_a_deactivated_customer_user_cannot_book(client, login_as, tenants):
    client.patch(
        f"/customers/{tenants['everfresh'].customer_id}",
        headers=login_as("admin"),
        json={"active": False},
    )

    response = client.post(
        "/bookings",
        headers=login_as("customer"),
        json={
            "service_id": tenants["everfresh"].service_id,
            "scheduled_date": in_days(1),
            "scheduled_time_start": "10:00",
        },
    )

    assert invalid_fields(response) == {
        "customer_id": "This customer is deactivated: no new bookings."
    }


# --- A service's length and its staff members' bookings -----------------------------------------


def back_to_back(client: FlaskClient, headers: dict[str, str], tenant) -> tuple[str, int]:
    """Book the tenant's staff member for two jobs of its service, the second right after the
    first; return the service id and its length."""
    service = client.get(f"/services/{tenant.service_id}", headers=headers).get_json()
    minutes = service["duration_minutes"]
    second = (datetime(2000, 1, 1, 9, 0) + timedelta(minutes=minutes)).strftime("%H:%M")
    for start in ("09:00", second):
        response = client.post(
            "/bookings",
            headers=headers,
            json=booking_body(tenant, scheduled_date=in_days(2), scheduled_time_start=start),
        )
        assert response.status_code == 201, response.get_json()
    return service["id"], minutes


def test_a_longer_service_may_not_double_book_a_staff_member(client, login_as, tenants, app):
    headers = login_as("admin")
    service_id, minutes = back_to_back(client, headers, tenants["everfresh"])

    response = client.patch(
        f"/services/{service_id}", headers=headers, json={"duration_minutes": minutes + 15}
    )

    assert response.status_code == 409
    error = response.get_json()["error"]
    assert list(error["fields"]) == ["duration_minutes"]
    assert error["fields"]["duration_minutes"].startswith("BK-1001 would overlap")
    assert error["message"] == (
        f"At {minutes + 15} minutes, BK-1001 would overlap another booking of its staff "
        "member; move one of them first."
    )
    assert stored(app, "/services", service_id)["duration_minutes"] == minutes


def test_a_shorter_or_harmless_length_is_taken(client, login_as, tenants, app):
    headers = login_as("admin")
    service_id, minutes = back_to_back(client, headers, tenants["everfresh"])

    shorter = client.patch(
        f"/services/{service_id}", headers=headers, json={"duration_minutes": minutes - 30}
    )
    longer_again = client.patch(
        f"/services/{service_id}", headers=headers, json={"duration_minutes": minutes}
    )

    assert (shorter.status_code, longer_again.status_code) == (200, 200)
    assert stored(app, "/services", service_id)["duration_minutes"] == minutes


def test_a_cancelled_booking_does_not_hold_a_service_back(client, login_as, tenants):
    headers = login_as("admin")
    service_id, minutes = back_to_back(client, headers, tenants["everfresh"])
    bookings = client.get("/bookings", headers=headers).get_json()["items"]
    client.patch(
        f"/bookings/{bookings[-1]['booking_id']}", headers=headers, json={"status": "cancelled"}
    )

    response = client.patch(
        f"/services/{service_id}", headers=headers, json={"duration_minutes": minutes + 60}
    )

    assert response.status_code == 200


# --- Currency ------------------------------------------------------------------------------------


@pytest.mark.parametrize("currency", ["USD", "EUR", "JPY", "CHF", "GBP"])
def test_a_company_prices_in_any_iso_4217_currency(client, login_as, tenants, app, currency):
    company_id = tenants["everfresh"].company_id
    headers = login_as("superadmin")

    created = client.post(
        "/companies", headers=headers, json={"name": "SparkleCo", "currency": currency}
    )
    changed = client.patch(f"/companies/{company_id}", headers=headers, json={"currency": currency})

    assert (created.status_code, created.get_json()["currency"]) == (201, currency)
    assert (changed.status_code, changed.get_json()["currency"]) == (200, currency)
    with app.app_context():
        assert db.session.get(Company, company_id).currency == currency


@pytest.mark.parametrize("currency", ["gbp", "XXX", "XAU", "XTS", "ABC", "", "GBPX", None, 826])
def test_an_unknown_currency_is_refused(client, login_as, tenants, app, currency):
    company_id = tenants["everfresh"].company_id

    response = client.patch(
        f"/companies/{company_id}", headers=login_as("superadmin"), json={"currency": currency}
    )

    assert list(invalid_fields(response)) == ["currency"]
    with app.app_context():
        assert db.session.get(Company, company_id).currency == "GBP"


def test_unknown_currency_message(client, login_as):
    response = client.post(
        "/companies", headers=login_as("superadmin"), json={"name": "Co", "currency": "XAU"}
    )

    assert invalid_fields(response) == {
        "currency": "Unknown currency: use an ISO 4217 code such as GBP, EUR or USD."
    }
