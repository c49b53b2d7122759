"""Decide who may call a view: the caller's identity and the roles a view admits."""

from __future__ import annotations

from flask import abort
from flask_jwt_extended import current_user, verify_jwt_in_request

from everfresh.auth.models import Role, User

STAFF_ROLES = (Role.STAFF, Role.ADMIN, Role.SUPERADMIN)
ADMIN_ROLES = (Role.ADMIN, Role.SUPERADMIN)
ANY_ROLE = tuple(Role)
ROLE_REFUSAL = "Your role may not do this."


def require_role(
    roles: tuple[Role, ...], locations: list[str] | None = None, refusal: str = ROLE_REFUSAL
) -> None:
    """Require a valid access token (else 401) whose user has one of `roles` (else 403).

    The token is read from `locations` (None: every configured location).
    """
    verify_jwt_in_request(locations=locations)
    if caller().role not in roles:
        abort(403, refusal)


def caller() -> User:
    """Return the authenticated user of this request."""
    return current_user._get_current_object()
