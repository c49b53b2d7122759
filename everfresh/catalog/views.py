"""List and create each company's customers, services and staff members."""

from __future__ import annotations

from flask import Blueprint

from everfresh.auth.access import ADMIN_ROLES, ANY_ROLE, STAFF_ROLES, roles_required
from everfresh.catalog.models import Customer, Service, Staff
from everfresh.catalog.schemas import (
    CreateCustomerRequest,
    CreateServiceRequest,
    CreateStaffRequest,
)
from everfresh.extensions import db
from everfresh.tenancy import owning_company_id, visible_company_id
from everfresh.web.pagination import PageQuery, paginate
from everfresh.web.validation import parse_body, parse_query

bp = Blueprint("catalog", __name__)


def _list(model: type[Customer] | type[Service] | type[Staff]) -> dict:
    page = parse_query(PageQuery)
    query = db.select(model)
    company_id = visible_company_id(page.company_id)
    if company_id is not None:
        query = query.where(model.company_id == company_id)
    return paginate(query, model.id, page)


def _create(row: Customer | Service | Staff) -> tuple[dict, int]:
    db.session.add(row)
    db.session.commit()
    return row.to_json(), 201


@bp.get("/customers")
@roles_required(*STAFF_ROLES)
def list_customers():
    """List the company's customers."""
    return _list(Customer)


@bp.post("/customers")
@roles_required(*STAFF_ROLES)
def create_customer():
    """Create a customer in the caller's company."""
    fields = parse_body(CreateCustomerRequest)
    company_id = owning_company_id(fields.company_id)
    return _create(Customer(company_id=company_id, **fields.model_dump(exclude={"company_id"})))


@bp.get("/services")
@roles_required(*ANY_ROLE)
def list_services():
    """List the services the caller's company sells."""
    return _list(Service)


@bp.post("/services")
@roles_required(*ADMIN_ROLES)
def create_service():
    """Create a service in the caller's company."""
    fields = parse_body(CreateServiceRequest)
    company_id = owning_company_id(fields.company_id)
    return _create(Service(company_id=company_id, **fields.model_dump(exclude={"company_id"})))


@bp.get("/staff")
@roles_required(*STAFF_ROLES)
def list_staff():
    """List the company's staff members."""
    return _list(Staff)


@bp.post("/staff")
@roles_required(*ADMIN_ROLES)
def create_staff():
    """Create a staff member in the caller's company."""
    fields = parse_body(CreateStaffRequest)
    company_id = owning_company_id(fields.company_id)
    return _create(Staff(company_id=company_id, name=fields.name))
