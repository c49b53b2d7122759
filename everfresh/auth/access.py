"""Decide who may call a view: the caller's identity and the roles a view admits."""

from __future__ import annotations

from flask import abort
from flask_jwt_extended import current_user, verify_jwt_in_request
from werkzeug.exceptions import Forbidden

from everfresh.auth.models import Role, User

STAFF_ROLES = (Role.STAFF, Role.ADMIN, Role.SUPERADMIN)
ADMIN_ROLES = (Role.ADMIN, Role.SUPERADMIN)
ANY_ROLE = tuple(Role)
ROLE_REFUSAL = "Your role may not do this."


class PasswordChangeRequired(Forbidden):
    """Refuse a call of a user whose password was reset, until they choose a new one."""

    # The error's `name`, which the board turns into its "choose a new password" form.
    error_name = "Password Change Required"
    description = (
        "Your password was reset: choose a new one with POST /auth/password before anything else."
    )


def require_role(
    roles: tuple[Role, ...],
    locations: list[str] | None = None,
    refusal: str = ROLE_REFUSAL,
    before_password_change: bool = False,
) -> None:
    """Require a valid access token (else 401) whose user has one of `roles` (else 403).

    The token is read from `locations` (None: every configured location). A user who must
    change their password is refused (403 "Password Change Required") unless the view is one
    they need meanwhile (`before_password_change`): who they are, the change, logging out.
    """
    verify_jwt_in_request(locations=locations)
    user = caller()
    if user.must_change_password and not before_password_change:
        raise PasswordChangeRequired()
    if user.role not in roles:
        abort(403, refusal)


def caller() -> User:
    """Return the authenticated user of this request."""
    return current_user._get_current_object()
