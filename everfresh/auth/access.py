"""Decide who may call a view and which company's rows a caller may touch."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import abort
from flask_jwt_extended import current_user, verify_jwt_in_request

from everfresh.auth.models import Role, User
from everfresh.companies.models import Company
from everfresh.errors import ValidationFailed
from everfresh.extensions import db

P = ParamSpec("P")
R = TypeVar("R")

STAFF_ROLES = (Role.STAFF, Role.ADMIN, Role.SUPERADMIN)
ADMIN_ROLES = (Role.ADMIN, Role.SUPERADMIN)
ANY_ROLE = tuple(Role)


def roles_required(*roles: Role) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Require a valid access token (else 401) whose user has one of `roles` (else 403)."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            verify_jwt_in_request()
            if current_user.role not in roles:
                abort(403, "Your role may not do this.")
            return view(*args, **kwargs)

        return wrapper

    return decorator


def caller() -> User:
    """Return the authenticated user of this request."""
    return current_user._get_current_object()


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


def in_company(row: object | None, company_id: str | None) -> bool:
    """Tell whether `row` exists and belongs to `company_id` (None: any company)."""
    return row is not None and (company_id is None or row.company_id == company_id)
