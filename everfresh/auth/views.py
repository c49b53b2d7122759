"""Log users in, refresh their tokens, and manage user accounts."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_jwt_extended import jwt_required
from pydantic import Field
from sqlalchemy import func

from everfresh.auth.access import (
    ADMIN_ROLES,
    ANY_ROLE,
    caller,
    in_company,
    owning_company_id,
    roles_required,
    visible_company_id,
)
from everfresh.auth.models import Role, User
from everfresh.auth.passwords import hash_password, verify_password
from everfresh.auth.tokens import issue_access_token, issue_tokens
from everfresh.catalog.models import Customer, Staff
from everfresh.errors import ValidationFailed
from everfresh.extensions import db
from everfresh.pagination import PageQuery, paginate
from everfresh.validation import EmailAddress, RequestModel, parse_body, parse_query

bp = Blueprint("auth", __name__)


class LoginRequest(RequestModel):
    """Credentials for `POST /auth/login`."""

    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class CreateUserRequest(RequestModel):
    """A new account for `POST /users`."""

    email: EmailAddress = Field(max_length=254)
    password: str = Field(min_length=8, max_length=1024)
    name: str = Field(min_length=1, max_length=200)
    role: Role
    company_id: str | None = None
    customer_id: str | None = None
    staff_id: str | None = None


@bp.post("/auth/login")
def login():
    """Exchange an email and password for an access and a refresh token."""
    credentials = parse_body(LoginRequest)
    user = db.session.scalars(
        db.select(User).where(User.email == credentials.email.lower())
    ).one_or_none()
    password_hash = user.password_hash if user is not None else None
    # Give the connection back before the slow hash check, so other requests can use it.
    db.session.rollback()
    if not verify_password(password_hash, credentials.password) or not user.active:
        abort(401, "Invalid email or password.")
    return {**issue_tokens(user), "user": user.to_json()}


@bp.post("/auth/refresh")
@jwt_required(refresh=True)
def refresh():
    """Exchange a refresh token for a new access token."""
    return issue_access_token(caller())


@bp.get("/auth/me")
@roles_required(*ANY_ROLE)
def me():
    """Return the authenticated user."""
    return caller().to_json()


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
def create_user():
    """Create a user in the caller's company (a superadmin: in any company, or a superadmin)."""
    fields = parse_body(CreateUserRequest)
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
        customer = db.session.get(Customer, fields.customer_id) if fields.customer_id else None
        if not in_company(customer, company_id):
            raise ValidationFailed(
                {"customer_id": "A customer user needs a customer of the company."}
            )
    elif fields.customer_id is not None:
        raise ValidationFailed({"customer_id": "Only a customer user is linked to a customer."})
    if fields.staff_id is not None:
        staff = db.session.get(Staff, fields.staff_id)
        if fields.role != Role.STAFF or not in_company(staff, company_id) or staff.user_id:
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
    return user.to_json(), 201
