"""Let a superadmin list and create companies."""

from __future__ import annotations

from flask import Blueprint, abort

from everfresh.auth.models import Role
from everfresh.companies import schemas
from everfresh.companies.models import Company
from everfresh.extensions import db
from everfresh.web.endpoints import endpoint
from everfresh.web.pagination import PageQuery, paginate
from everfresh.web.responses import serialise
from everfresh.web.validation import parse_body, parse_query

bp = Blueprint("companies", __name__)


@bp.get("/companies")
@endpoint("Companies", roles=(Role.SUPERADMIN,), query=PageQuery, response=schemas.CompanyPage)
def list_companies():
    """List every company."""
    return paginate(db.select(Company), Company.id, parse_query(PageQuery), schemas.Company)


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
    """Create a company."""
    fields = parse_body(schemas.CreateCompanyRequest)
    if db.session.scalars(db.select(Company).where(Company.name == fields.name)).first():
        abort(409, "A company with this name already exists.")
    company = Company(name=fields.name)
    db.session.add(company)
    db.session.commit()
    return serialise(schemas.Company, company)
