"""Hold every caller to their own company's rows; a superadmin may reach every company's."""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from flask import abort
from sqlalchemy import Select, bindparam, inspect, select, update

from everfresh.auth.access import caller
from everfresh.auth.models import Role, User
from everfresh.companies.models import Company
from everfresh.errors import ValidationFailed
from everfresh.extensions import db

RowT = TypeVar("RowT")


def company_scope(user: User) -> str | None:
    """Return the company whose rows `user` may reach, or None for a superadmin (every one)."""
    return None if user.role == Role.SUPERADMIN else user.company_id


def find_in_company(model: type[RowT], row_id: Any, company_id: str | None) -> RowT | None:
    """Return the `model` row `row_id` if it belongs to `company_id` (None: any), else None."""
    if row_id is None:
        return None
    row = _already_read(model, row_id)
    if row is None:
        row = db.session.execute(_select_by_id(model), {"row_id": row_id}).scalar_one_or_none()
    if row is None or (company_id is not None and row.company_id != company_id):
        return None
    return row


def _already_read(model: type[RowT], row_id: Any) -> RowT | None:
    # A row this session holds and has not expired is current: reading it again, as
    # `Session.get` would not, costs a round trip.
    row = db.session.identity_map.get(db.session.identity_key(model, row_id))
    return row if row is not None and not inspect(row).expired else None


@cache
def _select_by_id(model: type[RowT]) -> Select:
    # Built once per model: building and keying a fresh select on every read, as
    # `Session.get` does, cost about as much CPU as the round trip.
    return select(model).where(model.id == bindparam("row_id"))


def get_in_company(
    model: type[RowT],
    row_id: Any,
    company_id: str | None,
    field: str | None = None,
    message: str | None = None,
) -> RowT:
    """Return the `model` row `row_id` of `company_id` (None: any company), or fail.

    Without `field` the row is what the URL names, so another company's row is answered
    like a missing one: 404 with `message`, by default "<Model> not found.". With `field`
    the id came in the body, so the answer is a 422 naming that field.
    """
    row = find_in_company(model, row_id, company_id)
    if row is not None:
        return row
    if field is None:
        abort(404, message or f"{model.__name__} not found.")
    raise ValidationFailed({field: message or f"No such {field} in this company."})


def lock_in_company(model: type[RowT], row_id: Any, company_id: str) -> None:
    """Lock the `model` row `row_id` of `company_id` until the transaction ends.

    A no-op UPDATE rather than SELECT ... FOR UPDATE: PostgreSQL holds the row lock until
    commit, and SQLite, which ignores FOR UPDATE, lets one writer in at a time.
    """
    db.session.execute(
        update(model)
        .where(model.id == row_id, model.company_id == company_id)
        .values(company_id=model.company_id)
        .execution_options(synchronize_session=False)
    )


def visible_company_id(requested: str | None) -> str | None:
    """Return the company a read is scoped to, or None for a superadmin reading every company.

    A superadmin may name any company; everyone else is held to their own, and naming
    another company is answered like any other company's resource: 404.
    """
    user = caller()
    if user.role == Role.SUPERADMIN:
        if requested is not None and db.session.get(Company, requested) is None:
            abort(404, "Company not found.")
        return requested
    if requested is not None and requested != user.company_id:
        abort(404, "Company not found.")
    return user.company_id


def owning_company_id(requested: str | None) -> str:
    """Return the company a new row belongs to; a superadmin must name it in `company_id`."""
    company_id = visible_company_id(requested)
    if company_id is None:
        raise ValidationFailed({"company_id": "A superadmin must name the company."})
    return company_id
