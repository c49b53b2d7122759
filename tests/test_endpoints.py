"""Check `@endpoint`: it enforces the roles it documents, answers with the declared status, and
names what a 201 created in its `Location` header."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Response

from everfresh.auth.access import STAFF_ROLES
from everfresh.auth.models import Role
from everfresh.web.endpoints import ACCESS, PUBLIC, endpoint, operation_of
from everfresh.web.responses import Answer, UtcTimestamp, serialise
from tests.assertions import assert_error
from tests.dates import in_days

PACKAGE = Path(__file__).resolve().parent.parent / "everfresh"


class Stamp(Answer):
    """A timestamp, as every answer writes one."""

    at: UtcTimestamp


class Made(Answer):
    """Something a declared route creates."""

    id: str


@pytest.fixture
def declared(app):
    """Add three declared routes to `app` and return it."""

    @endpoint("Other", roles=STAFF_ROLES, status=201)
    def created():
        """Answer a bare body."""
        return {"made": True}

    @endpoint("Other", roles=(Role.SUPERADMIN,), refusal="Superadmins only.")
    def superadmin_only():
        """Answer only a superadmin."""
        return {}

    @endpoint("Other", status=201)
    def passthrough():
        """Answer with a response of its own."""
        return Response(status=204)

    @endpoint("Other", response=Made, status=201)
    def made():
        """Answer a created thing."""
        return {"id": "made_1"}

    for view in (created, superadmin_only, passthrough, made):
        app.add_url_rule(f"/declared/{view.__name__}", view_func=view)
    return app


def test_the_declaration_is_kept_on_the_view(declared):
    operation = operation_of(declared.view_functions["created"])
    assert (operation.tag, operation.roles, operation.status) == ("Other", STAFF_ROLES, 201)
    assert operation.security == ACCESS
    assert operation_of(declared.view_functions["passthrough"]).security == PUBLIC


def test_a_route_with_roles_needs_a_token(declared):
    response = declared.test_client().get("/declared/created")
    assert_error(response, 401, "Unauthorized", "Missing or malformed access token.")


@pytest.mark.parametrize(
    ("role", "status"), [("customer", 403), ("staff", 201), ("admin", 201), ("superadmin", 201)]
)
def test_the_roles_declared_are_the_roles_admitted(declared, login_as, role, status):
    response = declared.test_client().get("/declared/created", headers=login_as(role))
    assert response.status_code == status
    if status == 403:
        assert_error(response, 403, "Forbidden", "Your role may not do this.")
    else:
        assert response.json == {"made": True}


def test_a_refusal_can_say_why(declared, login_as):
    response = declared.test_client().get("/declared/superadmin_only", headers=login_as("admin"))
    assert_error(response, 403, "Forbidden", "Superadmins only.")


def test_a_response_the_view_built_is_sent_as_it_is(declared):
    response = declared.test_client().get("/declared/passthrough")
    assert response.status_code == 204


@pytest.mark.parametrize(
    ("moment", "written"),
    [
        (datetime(2026, 11, 26, 14, 30, 0, 123456, tzinfo=UTC), "2026-11-26T14:30:00.123Z"),
        (datetime(2026, 11, 26, 14, 30), "2026-11-26T14:30:00.000Z"),
    ],
)
def test_timestamps_are_written_with_milliseconds_and_z(moment, written):
    assert serialise(Stamp, {"at": moment}) == {"at": written}


def test_no_model_serialises_itself():
    # Answers go through the response models in each feature's schemas.py.
    for path in sorted(PACKAGE.rglob("models.py")):
        methods = {
            node.name
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.FunctionDef)
        }
        assert "to_json" not in methods, path


def test_a_201_with_a_model_names_the_new_resource(declared):
    response = declared.test_client().get("/declared/made")

    assert response.status_code == 201
    assert response.headers["Location"] == "/declared/made/made_1"


def test_a_201_model_without_an_id_is_refused_when_declared():
    with pytest.raises(TypeError, match="Stamp answers a 201 but has no id field."):
        endpoint("Other", response=Stamp, status=201)


# Each route that creates, the caller, and a body it accepts ({n}: unique per test).
CREATES = {
    "/bookings": ("staff", {"scheduled_date": in_days(1), "scheduled_time_start": "10:00"}),
    "/customers": ("staff", {"name": "Grace Hopper"}),
    "/services": ("admin", {"name": "Windows", "duration_minutes": 60, "price_cents": 4500}),
    "/staff": ("admin", {"name": "Katherine Johnson"}),
    "/companies": ("superadmin", {"name": "Sparkle Ltd"}),
    "/users": (
        "admin",
        {
            "email": "ada@everfresh.test",
            "password": "a-long-password-nobody-guesses",
            "name": "Ada",
            "role": "staff",
        },
    ),
}


def test_every_route_answering_201_is_checked_below(app):
    creating = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if (operation := operation_of(app.view_functions[rule.endpoint])) is not None
        and operation.status == 201
    }

    assert creating == set(CREATES)


@pytest.mark.parametrize("path", sorted(CREATES))
def test_each_201_names_the_new_resource_in_location(app, client, login_as, tenants, path):
    role, body = CREATES[path]
    if path == "/bookings":
        everfresh = tenants["everfresh"]
        body = {**body, "customer_id": everfresh.customer_id, "service_id": everfresh.service_id}
    headers = login_as(role)

    response = client.post(path, headers=headers, json=body)

    assert response.status_code == 201, response.json
    new_id = response.json["booking_id" if path == "/bookings" else "id"]
    assert response.headers["Location"] == f"{path}/{new_id}"
    # The header names a route of the app: read it where it can be read, else it can be changed.
    location = response.headers["Location"]
    if path == "/users":
        endpoint_name, _ = app.url_map.bind("localhost").match(location, method="PATCH")
        assert endpoint_name == "accounts.update_user"
    else:
        read = client.get(location, headers=headers)
        assert read.status_code == 200
        assert read.json == response.json
