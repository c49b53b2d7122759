"""List, create and change the user accounts of a company."""

from __future__ import annotations

from flask import Blueprint, abort
from sqlalchemy import func

from everfresh.accounts import schemas
from everfresh.auth.access import ADMIN_ROLES, caller
from everfresh.auth.models import Role, User
from everfresh.auth.passwords import hash_password
from everfresh.catalog.models import Customer, Staff
from everfresh.errors import ValidationFailed
from everfresh.extensions import db
from everfresh.tenancy import (
    company_scope,
    find_in_company,
    get_in_company,
    owning_company_id,
    visible_company_id,
)
from everfresh.web.endpoints import endpoint
from everfresh.web.pagination import PageQuery, paginate
from everfresh.web.responses import serialise
from everfresh.web.validation import parse_body, parse_query

bp = Blueprint("accounts", __name__)


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
    errors=(404, 409),
)
def create_user():
    """Create a user in the caller's company (a superadmin: in any company, or a superadmin)."""
    fields = parse_body(schemas.CreateUserRequest)
    if fields.role == Role.SUPERADMIN:
        if caller().role != Role.SUPERADMIN:
            abort(403, "Only a superadmin may create a superadmin.")
        if fields.company_id is not None:
            raise ValidationFailed({"company_id": "A superadmin belongs to no company."})
        company_id = None
    else:
        company_id = owning_company_id(fields.company_id)
    email = fields.email.lower()
    if db.session.scalar(db.select(func.count()).where(User.email == email)):
        abort(409, "A user with this email already exists.")

    customer = staff = None
    if fields.role == Role.CUSTOMER:
        customer = get_in_company(
            Customer,
            fields.customer_id,
            company_id,
            field="customer_id",
            message="A customer user needs a customer of the company.",
        )
    elif fields.customer_id is not None:
        raise ValidationFailed({"customer_id": "Only a customer user is linked to a customer."})
    if fields.staff_id is not None:
        staff = find_in_company(Staff, fields.staff_id, company_id)
        if fields.role != Role.STAFF or staff is None or staff.user_id:
            raise ValidationFailed(
                {"staff_id": "Only a staff user links to an unlinked staff member."}
            )

    user = User(
        email=email,
        password_hash=hash_password(fields.password),
        name=fields.name,
        role=fields.role,
        company_id=company_id,
        customer_id=customer.id if customer else None,
    )
    db.session.add(user)
    db.session.flush()
    if staff is not None:
        staff.user_id = user.id
    db.session.commit()
    return serialise(schemas.User, user)


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
    for name in sent:
        setattr(user, name, getattr(changes, name))
    db.session.commit()
    return serialise(schemas.User, user)
