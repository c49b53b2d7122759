"""List, create and change the user accounts of a company, and reset their passwords."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app
from sqlalchemy import func

from everfresh.accounts import schemas
from everfresh.auth.access import ADMIN_ROLES, caller
from everfresh.auth.models import Role, User
from everfresh.auth.passwords import hash_password, temporary_password
from everfresh.auth.ratelimits import limit_account_creation
from everfresh.catalog.models import Customer, Staff
from everfresh.demo import DEMO_LOGIN_REFUSAL, demo_emails
from everfresh.errors import FieldConflict, ValidationFailed
from everfresh.extensions import db
from everfresh.ids import prefixed_id
from everfresh.tenancy import (
    company_scope,
    find_in_company,
    get_in_company,
    owning_company_id,
    visible_company_id,
)
from everfresh.web.conflicts import commit_or_conflict, conflict_on_duplicate
from everfresh.web.endpoints import endpoint
from everfresh.web.pagination import PageQuery, paginate
from everfresh.web.responses import serialise
from everfresh.web.validation import parse_body, parse_query

bp = Blueprint("accounts", __name__)

EMAIL_TAKEN = "A user with this email already exists."
STAFF_UNLINKED_ONLY = "Only a staff user links to an unlinked staff member."


@bp.get("/users")
@endpoint("Users", roles=ADMIN_ROLES, query=PageQuery, response=schemas.UserPage, errors=(404,))
def list_users():
    """List the users of the caller's company (a superadmin: any company, or all)."""
    page = parse_query(PageQuery)
    query = db.select(User)
    company_id = visible_company_id(page.company_id)
    if company_id is not None:
        query = query.where(User.company_id == company_id)
    return paginate(query, User.id, page, schemas.User)


@bp.post("/users")
@endpoint(
    "Users",
    roles=ADMIN_ROLES,
    body=schemas.CreateUserRequest,
    response=schemas.User,
    status=201,
    errors=(404, 409, 429),
)
@limit_account_creation
def create_user():
    """Create a user in the caller's company (a superadmin: in any company, or a superadmin).

    Every check of the body comes before the email's: a request that would fail anyway says
    nothing about whether the email is taken, in this company or any other.
    """
    fields = parse_body(schemas.CreateUserRequest)
    if fields.role == Role.SUPERADMIN:
        if caller().role != Role.SUPERADMIN:
            abort(403, "Only a superadmin may create a superadmin.")
        if fields.company_id is not None:
            raise ValidationFailed({"company_id": "A superadmin belongs to no company."})
        company_id = None
    else:
        company_id = owning_company_id(fields.company_id)
    customer, staff = _linked_rows(fields, company_id)
    email = fields.email.lower()
    if db.session.scalar(db.select(func.count()).where(User.email == email)):
        # The same answer whichever company (or none) holds the email.
        abort(409, EMAIL_TAKEN)

    user = User(
        id=prefixed_id("user"),
        email=email,
        password_hash=hash_password(fields.password),
        name=fields.name,
        role=fields.role,
        company_id=company_id,
        customer_id=customer.id if customer else None,
    )
    db.session.add(user)
    # The check above cannot see a concurrent request for the same email: the constraint can.
    with conflict_on_duplicate(EMAIL_TAKEN):
        db.session.flush()
    if staff is not None:
        _link_staff(staff, user.id)
    commit_or_conflict(EMAIL_TAKEN)
    return serialise(schemas.User, user)


def _link_staff(staff: Staff, user_id: str) -> None:
    # Only while still unlinked: of concurrent requests linking one staff member, exactly one
    # wins; the others get what they would have got a moment later.
    linked = db.session.execute(
        db.update(Staff)
        .where(Staff.id == staff.id, Staff.company_id == staff.company_id, Staff.user_id.is_(None))
        .values(user_id=user_id)
        .execution_options(synchronize_session=False)
    )
    if linked.rowcount != 1:
        db.session.rollback()
        raise ValidationFailed({"staff_id": STAFF_UNLINKED_ONLY})


def _linked_rows(
    fields: schemas.CreateUserRequest, company_id: str | None
) -> tuple[Customer | None, Staff | None]:
    # Checks both links and reports every failing one at once.
    problems: dict[str, str] = {}
    customer = staff = None
    if fields.role == Role.CUSTOMER:
        customer = find_in_company(Customer, fields.customer_id, company_id)
        if customer is None:
            problems["customer_id"] = "A customer user needs a customer of the company."
    elif fields.customer_id is not None:
        problems["customer_id"] = "Only a customer user is linked to a customer."
    if fields.staff_id is not None:
        staff = find_in_company(Staff, fields.staff_id, company_id)
        if fields.role != Role.STAFF or staff is None or staff.user_id:
            problems["staff_id"] = STAFF_UNLINKED_ONLY
    if problems:
        raise ValidationFailed(problems)
    return customer, staff


def _check_role_change(user: User, role: Role) -> None:
    # The same rules as for a new account: only a superadmin makes superadmins, a superadmin
    # has no company, and a customer account is tied to its Customer row.
    if role == Role.SUPERADMIN and caller().role != Role.SUPERADMIN:
        abort(403, "Only a superadmin may make a superadmin.")
    if Role.SUPERADMIN in (role, user.role):
        raise ValidationFailed({"role": "A superadmin belongs to no company: create a new user."})
    if Role.CUSTOMER in (role, user.role):
        raise ValidationFailed({"role": "A customer account keeps its role: create a new user."})


@bp.patch("/users/<user_id>")
@endpoint(
    "Users",
    roles=ADMIN_ROLES,
    body=schemas.UpdateUserRequest,
    response=schemas.User,
    errors=(409,),
)
def update_user(user_id: str):
    """Rename a user, change their role or (de)activate them; deactivation voids their tokens."""
    changes = parse_body(schemas.UpdateUserRequest)
    editor = caller()
    user = get_in_company(User, user_id, company_scope(editor))
    sent = changes.model_fields_set
    role_changes = "role" in sent and changes.role != user.role
    if role_changes:
        _check_role_change(user, changes.role)
    if user.id == editor.id and (role_changes or changes.active is False):
        abort(409, "You cannot demote or deactivate yourself.")
    if changes.active and not user.active and _demo_login_in_production(user):
        raise FieldConflict({"active": DEMO_LOGIN_REFUSAL}, DEMO_LOGIN_REFUSAL)
    if changes.active is False and user.active:
        # Reactivating the user later must not bring these tokens back.
        user.end_sessions()
    for name in sent:
        setattr(user, name, getattr(changes, name))
    db.session.commit()
    return serialise(schemas.User, user)


@bp.post("/users/<user_id>/revoke-sessions")
@endpoint(
    "Users",
    roles=ADMIN_ROLES,
    status=204,
    response_description="Every token issued to the user until now is refused.",
    errors=(404,),
)
def revoke_sessions(user_id: str):
    """Void every access and refresh token the user holds now and end their open streams."""
    get_in_company(User, user_id, company_scope(caller())).end_sessions()
    db.session.commit()
    return Response(status=204)


def _demo_login_in_production(user: User) -> bool:
    # Their password is published: production keeps them switched off for good.
    return current_app.config["ENV_NAME"] == "production" and user.email in demo_emails()


@bp.post("/users/<user_id>/reset-password")
@endpoint(
    "Users",
    roles=ADMIN_ROLES,
    response=schemas.PasswordReset,
    errors=(404, 409),
    description=(
        "Answers a temporary password to hand to the user, ends every session of theirs "
        "(their open streams included) and makes them choose a new password: until they do, "
        "every call of theirs but `GET /auth/me`, `POST /auth/password`, refreshing and "
        "logging out is 403 with `\"name\": \"Password Change Required\"`. Your own "
        "password is changed with `POST /auth/password` instead (409)."
    ),
)
def reset_password(user_id: str):
    """Give a user a temporary password and make them choose a new one at their next login."""
    user = get_in_company(User, user_id, company_scope(caller()))
    if user.id == caller().id:
        abort(409, "Change your own password with POST /auth/password.")
    # Give the connection back during the slow hash, so other requests can use it.
    db.session.rollback()
    password = temporary_password()
    password_hash = hash_password(password)
    user.set_password_hash(password_hash, must_change=True)
    db.session.commit()
    return serialise(schemas.PasswordReset, {"temporary_password": password})
