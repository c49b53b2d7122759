"""Check the one tenancy lookup, and that no other code reads a company's row by id itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from werkzeug.exceptions import NotFound

from everfresh.auth.models import User
from everfresh.bookings.models import Booking
from everfresh.catalog.models import Customer, Service, Staff
from everfresh.errors import ValidationFailed
from everfresh.extensions import db
from everfresh.tenancy import find_in_company, get_in_company

PACKAGE = Path(__file__).resolve().parent.parent / "everfresh"
UNKNOWN_ID = "01JD4Z6M3Q5Y7C9V2B4N6R8T0W"
# (module, model) pairs allowed to read by id without a company: each says why.
UNSCOPED_READS = {
    # The token's own user, looked up before anything about a company is known.
    ("auth/tokens.py", "User"),
    # Links a staff member already read through the tenancy module, only while still unlinked,
    # so that of concurrent links exactly one wins.
    ("accounts/views.py", "Staff"),
}


def company_owned_models() -> set[str]:
    """Return the names of the mapped classes that have a `company_id` column."""
    return {
        mapper.class_.__name__
        for mapper in db.Model.registry.mappers
        if "company_id" in mapper.columns
    }


def reads_by_id(tree: ast.AST, models: set[str]) -> set[str]:
    """Return the models `tree` reads by id: `session.get(Model, ...)` or `Model.id == ...`.

    `Model.id == Other.model_id` compares two columns: a join, not a read by id.
    """
    found = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get", "get_one")
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "session"
            and node.args
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id in models
        ):
            found.add(node.args[0].id)
        if isinstance(node, ast.Compare):
            sides = (node.left, *node.comparators)
            if all(_is_column(side) for side in sides):
                continue
            for side in sides:
                if (
                    isinstance(side, ast.Attribute)
                    and side.attr == "id"
                    and isinstance(side.value, ast.Name)
                    and side.value.id in models
                    and any(isinstance(op, ast.Eq | ast.In) for op in node.ops)
                ):
                    found.add(side.value.id)
    return found


def _is_column(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and (node.value.id[:1].isupper())
    )


def test_company_owned_models_are_found_from_their_columns():
    assert {"Booking", "Customer", "Service", "Staff", "User", "Event"} <= company_owned_models()
    assert "Company" not in company_owned_models()


def test_the_scan_sees_both_ways_of_reading_by_id():
    source = "db.session.get(Booking, x)\ndb.select(Staff).where(Staff.id == y)\nCompany.id == z"
    assert reads_by_id(ast.parse(source), {"Booking", "Staff"}) == {"Booking", "Staff"}
    assert reads_by_id(ast.parse("db.session.get_one(Staff, x)"), {"Staff"}) == {"Staff"}
    assert (
        reads_by_id(ast.parse("join(Service, Service.id == Booking.service_id)"), {"Service"})
        == set()
    )


def test_only_the_tenancy_module_reads_company_rows_by_id():
    models = company_owned_models()
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).as_posix()
        if module == "tenancy.py":
            continue
        for model in sorted(reads_by_id(ast.parse(path.read_text()), models)):
            if (module, model) not in UNSCOPED_READS:
                offenders.append(f"{module}: {model}")
    assert offenders == [], "read company rows through everfresh.tenancy.get_in_company"


def test_a_row_of_the_company_is_returned(app, tenants):
    tenant = tenants["everfresh"]
    with app.app_context():
        customer = get_in_company(Customer, tenant.customer_id, tenant.company_id)
        assert customer.id == tenant.customer_id


def test_a_superadmin_scope_reaches_every_company(app, tenants):
    with app.app_context():
        for tenant in tenants.values():
            assert get_in_company(Service, tenant.service_id, None).company_id == tenant.company_id


@pytest.mark.parametrize("model", [Booking, Customer, Service, Staff, User])
def test_another_companys_row_is_answered_like_a_missing_one(app, tenants, model):
    other = tenants["brighthome"].company_id
    with app.app_context():
        row_id = db.session.scalars(db.select(model.id).where(model.company_id == other)).first()
        row_id = row_id or UNKNOWN_ID
        for wanted in (row_id, UNKNOWN_ID):
            with pytest.raises(NotFound) as raised:
                get_in_company(model, wanted, tenants["everfresh"].company_id)
            assert raised.value.description == f"{model.__name__} not found."


@pytest.mark.parametrize(
    ("message", "expected"),
    [(None, "No such staff_id in this company."), ("No such cleaner.", "No such cleaner.")],
)
def test_a_body_field_naming_another_companys_row_is_a_422(app, tenants, message, expected):
    with app.app_context():
        with pytest.raises(ValidationFailed) as raised:
            get_in_company(
                Staff,
                tenants["brighthome"].staff_id,
                tenants["everfresh"].company_id,
                field="staff_id",
                message=message,
            )
    assert raised.value.fields == {"staff_id": expected}


def test_no_id_finds_nothing(app, tenants):
    with app.app_context():
        assert find_in_company(Customer, None, None) is None
        assert find_in_company(Customer, UNKNOWN_ID, None) is None
