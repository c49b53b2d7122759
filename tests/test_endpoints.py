"""Check `@endpoint`: it enforces the roles it documents and answers with the declared status."""

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

PACKAGE = Path(__file__).resolve().parent.parent / "everfresh"


class Stamp(Answer):
    """A timestamp, as every answer writes one."""

    at: UtcTimestamp


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

    for view in (created, superadmin_only, passthrough):
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
