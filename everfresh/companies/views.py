"""Let a superadmin list, create and change companies, and every user read their own."""

from __future__ import annotations

from flask import Blueprint, abort

from everfresh.auth.access import ANY_ROLE, caller
from everfresh.auth.models import Role
from everfresh.companies import schemas
from everfresh.companies.models import Company
from everfresh.extensions import db
from everfresh.web.conflicts import commit_or_conflict
from everfresh.web.endpoints import endpoint
from everfresh.web.pagination import PageQuery, paginate
from everfresh.web.responses import serialise
from everfresh.web.validation import parse_body, parse_query

bp = Blueprint("companies", __name__)

NAME_TAKEN = "A company with this name already exists."


@bp.get("/companies")
@endpoint("Companies", roles=(Role.SUPERADMIN,), query=PageQuery, response=schemas.CompanyPage)
def list_companies():
    """List every company."""
    return paginate(db.select(Company), Company.id, parse_query(PageQuery), schemas.Company)


@bp.get("/companies/<company_id>")
@endpoint("Companies", roles=ANY_ROLE, response=schemas.Company)
def get_company(company_id: str):
    """Return a company to its own users (every role) or to a superadmin."""
    user = caller()
    company = db.session.get(Company, company_id)
    # Another company is answered like a missing one, so ids reveal nothing.
    if company is None or (user.role != Role.SUPERADMIN and user.company_id != company_id):
        abort(404, "Company not found.")
    return serialise(schemas.Company, company)


@bp.post("/companies")
@endpoint(
    "Companies",
    roles=(Role.SUPERADMIN,),
    body=schemas.CreateCompanyRequest,
    response=schemas.Company,
    status=201,
    errors=(409,),
)
def create_company():
    """Create a company, working in `UTC` and `GBP` unless a time zone and currency are given."""
    fields = parse_body(schemas.CreateCompanyRequest)
    company = Company(name=fields.name, timezone=fields.timezone, currency=fields.currency)
    db.session.add(company)
    # The unique name decides, also between concurrent requests.
    commit_or_conflict(NAME_TAKEN)
    return serialise(schemas.Company, company)


@bp.patch("/companies/<company_id>")
@endpoint(
    "Companies",
    roles=(Role.SUPERADMIN,),
    body=schemas.UpdateCompanyRequest,
    response=schemas.Company,
    errors=(404, 409),
)
def update_company(company_id: str):
    """Rename a company, or change its bookings' time zone or its prices' currency."""
    changes = parse_body(schemas.UpdateCompanyRequest)
    company = db.session.get(Company, company_id)
    if company is None:
        abort(404, "Company not found.")
    for name in changes.model_fields_set:
        setattr(company, name, getattr(changes, name))
    # The unique name decides, also between concurrent requests.
    commit_or_conflict(NAME_TAKEN)
    return serialise(schemas.Company, company)
