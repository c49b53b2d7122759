"""Let a superadmin list, create and change companies, and every user read their own."""

from __future__ import annotations

from flask import Blueprint, abort
from sqlalchemy.exc import IntegrityError

from everfresh.auth.access import ANY_ROLE, caller, roles_required
from everfresh.auth.models import Role
from everfresh.companies.models import Company
from everfresh.companies.schemas import CreateCompanyRequest, UpdateCompanyRequest
from everfresh.extensions import db
from everfresh.web.pagination import PageQuery, paginate
from everfresh.web.validation import parse_body, parse_query

bp = Blueprint("companies", __name__)

NAME_TAKEN = "A company with this name already exists."


def _refuse_taken_name(name: str, company_id: str | None = None) -> None:
    taken = db.session.scalars(
        db.select(Company.id).where(Company.name == name, Company.id != company_id)
    ).first()
    if taken is not None:
        abort(409, NAME_TAKEN)


def _commit_unless_name_taken() -> None:
    try:
        db.session.commit()
    except IntegrityError:
        # Another request took the name between our check and our commit.
        db.session.rollback()
        abort(409, NAME_TAKEN)


@bp.get("/companies")
@roles_required(Role.SUPERADMIN)
def list_companies():
    """List every company."""
    return paginate(db.select(Company), Company.id, parse_query(PageQuery))


@bp.get("/companies/<company_id>")
@roles_required(*ANY_ROLE)
def get_company(company_id: str):
    """Return a company to its own users (every role) or to a superadmin."""
    user = caller()
    company = db.session.get(Company, company_id)
    if company is None or (user.role != Role.SUPERADMIN and user.company_id != company_id):
        abort(404, "Company not found.")
    return company.to_json()


@bp.post("/companies")
@roles_required(Role.SUPERADMIN)
def create_company():
    """Create a company, working in `UTC` unless a time zone is given."""
    fields = parse_body(CreateCompanyRequest)
    _refuse_taken_name(fields.name)
    company = Company(name=fields.name, timezone=fields.timezone)
    db.session.add(company)
    _commit_unless_name_taken()
    return company.to_json(), 201


@bp.patch("/companies/<company_id>")
@roles_required(Role.SUPERADMIN)
def update_company(company_id: str):
    """Rename a company or change the time zone its bookings are read in."""
    changes = parse_body(UpdateCompanyRequest)
    company = db.session.get(Company, company_id)
    if company is None:
        abort(404, "Company not found.")
    if "name" in changes.model_fields_set:
        _refuse_taken_name(changes.name, company.id)
    for name in changes.model_fields_set:
        setattr(company, name, getattr(changes, name))
    _commit_unless_name_taken()
    return company.to_json()
