"""Let a superadmin list and create companies."""

from __future__ import annotations

from flask import Blueprint, abort
from pydantic import Field

from everfresh.auth.access import roles_required
from everfresh.auth.models import Role
from everfresh.companies.models import Company
from everfresh.extensions import db
from everfresh.pagination import PageQuery, paginate
from everfresh.validation import RequestModel, parse_body, parse_query

bp = Blueprint("companies", __name__)


class CreateCompanyRequest(RequestModel):
    """A new tenant for `POST /companies`."""

    name: str = Field(min_length=1, max_length=200)


@bp.get("/companies")
@roles_required(Role.SUPERADMIN)
def list_companies():
    """List every company."""
    return paginate(db.select(Company), Company.id, parse_query(PageQuery))


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
