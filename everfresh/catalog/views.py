"""List and create each company's customers, services and staff members."""

from __future__ import annotations

from flask import Blueprint, abort

from everfresh.auth.access import (
    ADMIN_ROLES,
    ANY_ROLE,
    STAFF_ROLES,
    in_company,
    owning_company_id,
    roles_required,
    visible_company_id,
)
from everfresh.catalog.models import Customer, Service, Staff
from everfresh.catalog.schemas import (
    CreateCustomerRequest,
    CreateServiceRequest,
    CreateStaffRequest,
)
from everfresh.extensions import db
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


def _get(model: type[Customer] | type[Service] | type[Staff], row_id: str, label: str) -> dict:
    row = db.session.get(model, row_id)
    # Another company's row is answered like a missing one, so ids reveal nothing.
    if not in_company(row, visible_company_id(None)):
        abort(404, f"{label} not found.")
    return row.to_json()


def _create(row: Customer | Service | Staff) -> tuple[dict, int]:
    db.session.add(row)
    db.session.commit()
    return row.to_json(), 201


@bp.get("/customers")
@roles_required(*STAFF_ROLES)
def list_customers():
    """List the company's customers."""
    return _list(Customer)


@bp.get("/customers/<customer_id>")
@roles_required(*STAFF_ROLES)
def get_customer(customer_id: str):
    """Return one of the company's customers."""
    return _get(Customer, customer_id, "Customer")


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


@bp.get("/services/<service_id>")
@roles_required(*ANY_ROLE)
def get_service(service_id: str):
    """Return one of the services the caller's company sells."""
    return _get(Service, service_id, "Service")


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


@bp.get("/staff/<staff_id>")
@roles_required(*STAFF_ROLES)
def get_staff(staff_id: str):
    """Return one of the company's staff members."""
    return _get(Staff, staff_id, "Staff member")


@bp.post("/staff")
@roles_required(*ADMIN_ROLES)
def create_staff():
    """Create a staff member in the caller's company."""
    fields = parse_body(CreateStaffRequest)
    company_id = owning_company_id(fields.company_id)
    return _create(Staff(company_id=company_id, name=fields.name))
