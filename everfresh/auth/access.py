"""Decide who may call a view: the caller's identity and the roles a view admits."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import abort
from flask_jwt_extended import current_user, verify_jwt_in_request

from everfresh.auth.models import Role, User

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
