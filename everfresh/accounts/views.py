"""List, create and change the user accounts of a company."""

from __future__ import annotations

from flask import Blueprint, Response, abort
from sqlalchemy import func

from everfresh.accounts.schemas import CreateUserRequest, UpdateUserRequest
from everfresh.auth.access import (
    ADMIN_ROLES,
    caller,
    in_company,
    owning_company_id,
    roles_required,
    visible_company_id,
)
from everfresh.auth.models import Role, User
from everfresh.auth.passwords import hash_password
from everfresh.auth.ratelimits import limit_account_creation
from everfresh.catalog.models import Customer, Staff
from everfresh.errors import ValidationFailed
from everfresh.extensions import db
from everfresh.ids import prefixed_id
from everfresh.web.conflicts import commit_or_conflict, conflict_on_duplicate
from everfresh.web.pagination import PageQuery, paginate
from everfresh.web.validation import parse_body, parse_query

bp = Blueprint("accounts", __name__)

EMAIL_TAKEN = "A user with this email already exists."
STAFF_UNLINKED_ONLY = "Only a staff user links to an unlinked staff member."


@bp.get("/users")
@roles_required(*ADMIN_ROLES)
def list_users():
    """List the users of the caller's company (a superadmin: any company, or all)."""
    page = parse_query(PageQuery)
    query = db.select(User)
    company_id = visible_company_id(page.company_id)
    if company_id is not None:
        query = query.where(User.company_id == company_id)
    return paginate(query, User.id, page)


@bp.post("/users")
@roles_required(*ADMIN_ROLES)
@limit_account_creation
def create_user():
    """Create a user in the caller's company (a superadmin: in any company, or a superadmin).

    Every check of the body comes before the email's: a request that would fail anyway says
    nothing about whether the email is taken, in this company or any other.
    """
    fields = parse_body(CreateUserRequest)
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
        _link_staff(staff.id, user.id)
    commit_or_conflict(EMAIL_TAKEN)
    return user.to_json(), 201


def _link_staff(staff_id: str, user_id: str) -> None:
    # Only while still unlinked: of concurrent requests linking one staff member, exactly one
    # wins; the others get what they would have got a moment later.
    linked = db.session.execute(
        db.update(Staff)
        .where(Staff.id == staff_id, Staff.user_id.is_(None))
        .values(user_id=user_id)
        .execution_options(synchronize_session=False)
    )
    if linked.rowcount != 1:
        db.session.rollback()
        raise ValidationFailed({"staff_id": STAFF_UNLINKED_ONLY})


def _linked_rows(
    fields: CreateUserRequest, company_id: str | None
) -> tuple[Customer | None, Staff | None]:
    # Checks both links and reports every failing one at once.
    problems: dict[str, str] = {}
    customer = staff = None
    if fields.role == Role.CUSTOMER:
        customer = db.session.get(Customer, fields.customer_id) if fields.customer_id else None
        if not in_company(customer, company_id):
            problems["customer_id"] = "A customer user needs a customer of the company."
    elif fields.customer_id is not None:
        problems["customer_id"] = "Only a customer user is linked to a customer."
    if fields.staff_id is not None:
        staff = db.session.get(Staff, fields.staff_id)
        if fields.role != Role.STAFF or not in_company(staff, company_id) or staff.user_id:
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


def _managed_user(user_id: str) -> User:
    # An admin manages their own company's users; another company's look as if absent.
    user = db.session.get(User, user_id)
    editor = caller()
    if user is None or (editor.role != Role.SUPERADMIN and user.company_id != editor.company_id):
        abort(404, "User not found.")
    return user


@bp.patch("/users/<user_id>")
@roles_required(*ADMIN_ROLES)
def update_user(user_id: str):
    """Rename a user, change their role or (de)activate them; deactivation voids their tokens."""
    changes = parse_body(UpdateUserRequest)
    user = _managed_user(user_id)
    editor = caller()
    sent = changes.model_fields_set
    role_changes = "role" in sent and changes.role != user.role
    if role_changes:
        _check_role_change(user, changes.role)
    if user.id == editor.id and (role_changes or changes.active is False):
        abort(409, "You cannot demote or deactivate yourself.")
    if changes.active is False and user.active:
        # Reactivating the user later must not bring these tokens back.
        user.end_sessions()
    for name in sent:
        setattr(user, name, getattr(changes, name))
    db.session.commit()
    return user.to_json()


@bp.post("/users/<user_id>/revoke-sessions")
@roles_required(*ADMIN_ROLES)
def revoke_sessions(user_id: str):
    """Void every access and refresh token the user holds now and end their open streams."""
    _managed_user(user_id).end_sessions()
    db.session.commit()
    return Response(status=204)
