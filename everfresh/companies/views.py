"""Let a superadmin list and create companies, and every user read their own."""

from __future__ import annotations

from flask import Blueprint, abort

from everfresh.auth.access import ANY_ROLE, caller, roles_required
from everfresh.auth.models import Role
from everfresh.companies.models import Company
from everfresh.companies.schemas import CreateCompanyRequest
from everfresh.extensions import db
from everfresh.web.pagination import PageQuery, paginate
from everfresh.web.validation import parse_body, parse_query

bp = Blueprint("companies", __name__)


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
    """Create a company."""
    fields = parse_body(CreateCompanyRequest)
    if db.session.scalars(db.select(Company).where(Company.name == fields.name)).first():
        abort(409, "A company with this name already exists.")
    company = Company(name=fields.name)
    db.session.add(company)
    db.session.commit()
    return company.to_json(), 201
