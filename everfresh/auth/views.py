"""Log users in, refresh their tokens, and manage user accounts."""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint, Response, abort, current_app, request
from flask_jwt_extended import decode_token, get_jwt, jwt_required, unset_jwt_cookies
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import PyJWTError
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
from everfresh.auth.denylist import revoke
from everfresh.auth.models import Role, User
from everfresh.auth.passwords import hash_password, verify_password
from everfresh.auth.ratelimits import limit_login_attempts
from everfresh.auth.tokens import issue_access_token, issue_tokens, session_response
from everfresh.catalog.models import Customer, Staff
from everfresh.errors import ValidationFailed
from everfresh.extensions import db
from everfresh.pagination import PageQuery, paginate
from everfresh.validation import (
    EmailAddress,
    NotNull,
    RequestModel,
    UpdateRequest,
    parse_body,
    parse_query,
)

bp = Blueprint("auth", __name__)


class LoginRequest(RequestModel):
    """Credentials for `POST /auth/login`."""

    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class LogoutRequest(RequestModel):
    """The optional body of `POST /auth/logout`: a refresh token to revoke as well."""

    refresh_token: str | None = Field(default=None, min_length=1, max_length=4096)


class UpdateUserRequest(UpdateRequest):
    """Changes for `PATCH /users/<id>`; only the fields sent are changed."""

    name: Annotated[Annotated[str, Field(min_length=1, max_length=200)] | None, NotNull] = None
    role: Annotated[Role | None, NotNull] = None
    active: Annotated[Annotated[bool, Field(strict=True)] | None, NotNull] = None


class CreateUserRequest(RequestModel):
    """A new account for `POST /users`."""

    email: EmailAddress = Field(max_length=254)
    password: str = Field(min_length=8, max_length=1024)
    name: str = Field(min_length=1, max_length=200)
    role: Role
    company_id: str | None = None
    customer_id: str | None = None
    staff_id: str | None = None


def authenticate(credentials: LoginRequest) -> User:
    """Return the active user these credentials belong to, or fail with 401."""
    user = db.session.scalars(
        db.select(User).where(User.email == credentials.email.lower())
    ).one_or_none()
    password_hash = user.password_hash if user is not None else None
    # Give the connection back before the slow hash check, so other requests can use it.
    db.session.rollback()
    if not verify_password(password_hash, credentials.password) or not user.active:
        abort(401, "Invalid email or password.")
    return user


@bp.post("/auth/login")
@limit_login_attempts
def login():
    """Exchange an email and password for an access and a refresh token."""
    user = authenticate(parse_body(LoginRequest))
    return {**issue_tokens(user), "user": user.to_json()}


@bp.post("/auth/session")
@limit_login_attempts
def start_session():
    """Log the board in: check the password and keep the tokens in HttpOnly cookies."""
    return session_response(authenticate(parse_body(LoginRequest)))


@bp.post("/auth/session/refresh")
@jwt_required(refresh=True, locations=["cookies"])
def refresh_session():
    """Renew the board's access cookie with its refresh cookie (CSRF header required)."""
    return session_response(caller(), refresh=False)


@bp.delete("/auth/session")
def end_session():
    """Log the board out: revoke the tokens in its cookies and clear them; this always works."""
    # No CSRF check: a forged request could only log the board out, never act as it.
    for setting in ("JWT_ACCESS_COOKIE_NAME", "JWT_REFRESH_COOKIE_NAME"):
        token = request.cookies.get(current_app.config[setting])
        try:
            claims = decode_token(token, allow_expired=True) if token else None
        except (PyJWTError, JWTExtendedException):
            claims = None
        if claims is not None:
            revoke(claims)
    db.session.commit()
    response = Response(status=204)
    unset_jwt_cookies(response)
    return response


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


def _own_refresh_token(token: str) -> dict[str, Any]:
    # Only a genuine refresh token of the caller's may be revoked by their logout.
    try:
        claims = decode_token(token, allow_expired=True)
    except (PyJWTError, JWTExtendedException):
        claims = {}
    if claims.get("type") != "refresh" or claims.get("sub") != caller().id:
        raise ValidationFailed({"refresh_token": "Not a refresh token of yours."})
    return claims


@bp.post("/auth/logout")
@roles_required(*ANY_ROLE)
def logout():
    """Revoke the access token presented and, if the body holds one, the caller's refresh token."""
    refresh_token = parse_body(LogoutRequest).refresh_token if request.get_data() else None
    if refresh_token is not None:
        revoke(_own_refresh_token(refresh_token))
    revoke(get_jwt())
    db.session.commit()
    return Response(status=204)


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
@roles_required(*ADMIN_ROLES)
def update_user(user_id: str):
    """Rename a user, change their role or (de)activate them; deactivation voids their tokens."""
    changes = parse_body(UpdateUserRequest)
    user = db.session.get(User, user_id)
    editor = caller()
    if user is None or (editor.role != Role.SUPERADMIN and user.company_id != editor.company_id):
        abort(404, "User not found.")
    sent = changes.model_fields_set
    role_changes = "role" in sent and changes.role != user.role
    if role_changes:
        _check_role_change(user, changes.role)
    if user.id == editor.id and (role_changes or changes.active is False):
        abort(409, "You cannot demote or deactivate yourself.")
    for name in sent:
        setattr(user, name, getattr(changes, name))
    db.session.commit()
    return user.to_json()
