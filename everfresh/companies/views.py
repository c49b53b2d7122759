"""Let a superadmin list and create companies."""

from __future__ import annotations

from flask import Blueprint

from everfresh.auth.access import roles_required
from everfresh.auth.models import Role
from everfresh.companies.models import Company
from everfresh.companies.schemas import CreateCompanyRequest
from everfresh.extensions import db
from everfresh.web.conflicts import commit_or_conflict
from everfresh.web.pagination import PageQuery, paginate
from everfresh.web.validation import parse_body, parse_query

bp = Blueprint("companies", __name__)


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
    company = Company(name=fields.name)
    db.session.add(company)
    # The unique name decides, also between concurrent requests.
    commit_or_conflict("A company with this name already exists.")
    return company.to_json(), 201
