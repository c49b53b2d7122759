"""List, read, create, change and deactivate each company's customers, services and staff."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort

from everfresh.auth.access import ADMIN_ROLES, ANY_ROLE, STAFF_ROLES, caller
from everfresh.auth.models import Role
from everfresh.catalog import schemas
from everfresh.catalog.models import Customer, Service, Staff
from everfresh.catalog.service_length import change_service_length
from everfresh.extensions import db
from everfresh.tenancy import (
    company_scope,
    get_in_company,
    owning_company_id,
    visible_company_id,
)
from everfresh.web.endpoints import endpoint
from everfresh.web.pagination import paginate
from everfresh.web.responses import Answer, serialise
from everfresh.web.validation import UpdateRequest, parse_body, parse_query

bp = Blueprint("catalog", __name__)

CUSTOMER_NOT_FOUND = "Customer not found."
SERVICE_NOT_FOUND = "Service not found."
STAFF_NOT_FOUND = "Staff member not found."


def _list(model: type[Customer] | type[Service] | type[Staff], item: type[Answer]) -> dict:
    page = parse_query(schemas.CatalogueQuery)
    query = db.select(model)
    company_id = visible_company_id(page.company_id)
    if company_id is not None:
        query = query.where(model.company_id == company_id)
    if not page.include_inactive:
        query = query.where(model.active.is_(True))
    return paginate(query, model.id, page, item)


def _get(
    model: type[Customer] | type[Service] | type[Staff],
    row_id: str,
    item: type[Answer],
    missing: str,
) -> dict[str, Any]:
    row = get_in_company(model, row_id, company_scope(caller()), message=missing)
    return serialise(item, row)


def _create(row: Customer | Service | Staff, item: type[Answer]) -> dict[str, Any]:
    db.session.add(row)
    db.session.commit()
    return serialise(item, row)


def _update(
    row: Customer | Service | Staff, changes: UpdateRequest, item: type[Answer]
) -> dict[str, Any]:
    for name in changes.model_fields_set:
        setattr(row, name, getattr(changes, name))
    db.session.commit()
    return serialise(item, row)


@bp.get("/customers")
@endpoint(
    "Catalogue",
    roles=STAFF_ROLES,
    query=schemas.CatalogueQuery,
    response=schemas.CustomerPage,
    errors=(404,),
)
def list_customers():
    """List the company's active customers (`include_inactive=true`: all of them)."""
    return _list(Customer, schemas.Customer)


@bp.get("/customers/<customer_id>")
@endpoint("Catalogue", roles=ANY_ROLE, response=schemas.Customer)
def get_customer(customer_id: str):
    """Return one of the company's customers; a customer user may read only their own."""
    user = caller()
    if user.role == Role.CUSTOMER and customer_id != user.customer_id:
        abort(404, CUSTOMER_NOT_FOUND)
    return _get(Customer, customer_id, schemas.Customer, CUSTOMER_NOT_FOUND)


@bp.post("/customers")
@endpoint(
    "Catalogue",
    roles=STAFF_ROLES,
    body=schemas.CreateCustomerRequest,
    response=schemas.Customer,
    status=201,
    errors=(404,),
)
def create_customer():
    """Create a customer in the caller's company."""
    fields = parse_body(schemas.CreateCustomerRequest)
    company_id = owning_company_id(fields.company_id)
    row = Customer(company_id=company_id, **fields.model_dump(exclude={"company_id"}))
    return _create(row, schemas.Customer)


@bp.patch("/customers/<customer_id>")
@endpoint(
    "Catalogue",
    roles=STAFF_ROLES,
    body=schemas.UpdateCustomerRequest,
    response=schemas.Customer,
)
def update_customer(customer_id: str):
    """Change a customer's details; only an admin (de)activates one."""
    changes = parse_body(schemas.UpdateCustomerRequest)
    user = caller()
    if "active" in changes.model_fields_set and user.role not in ADMIN_ROLES:
        abort(403, "Only an admin may deactivate or reactivate a customer.")
    row = get_in_company(Customer, customer_id, company_scope(user), message=CUSTOMER_NOT_FOUND)
    return _update(row, changes, schemas.Customer)


@bp.get("/services")
@endpoint(
    "Catalogue",
    roles=ANY_ROLE,
    query=schemas.CatalogueQuery,
    response=schemas.ServicePage,
    errors=(404,),
)
def list_services():
    """List the services the caller's company sells (`include_inactive=true`: also retired ones)."""
    return _list(Service, schemas.Service)


@bp.get("/services/<service_id>")
@endpoint("Catalogue", roles=ANY_ROLE, response=schemas.Service)
def get_service(service_id: str):
    """Return one of the services the caller's company sells."""
    return _get(Service, service_id, schemas.Service, SERVICE_NOT_FOUND)


@bp.post("/services")
@endpoint(
    "Catalogue",
    roles=ADMIN_ROLES,
    body=schemas.CreateServiceRequest,
    response=schemas.Service,
    status=201,
    errors=(404,),
)
def create_service():
    """Create a service in the caller's company."""
    fields = parse_body(schemas.CreateServiceRequest)
    company_id = owning_company_id(fields.company_id)
    row = Service(company_id=company_id, **fields.model_dump(exclude={"company_id"}))
    return _create(row, schemas.Service)


@bp.patch("/services/<service_id>")
@endpoint(
    "Catalogue",
    roles=ADMIN_ROLES,
    body=schemas.UpdateServiceRequest,
    response=schemas.Service,
    errors=(409,),
)
def update_service(service_id: str):
    """Change a service's name, length or price, or (de)activate it."""
    changes = parse_body(schemas.UpdateServiceRequest)
    row = get_in_company(Service, service_id, company_scope(caller()), message=SERVICE_NOT_FOUND)
    if "duration_minutes" in changes.model_fields_set:
        change_service_length(row, changes.duration_minutes)
    return _update(row, changes, schemas.Service)


@bp.get("/staff")
@endpoint(
    "Catalogue",
    roles=STAFF_ROLES,
    query=schemas.CatalogueQuery,
    response=schemas.StaffPage,
    errors=(404,),
)
def list_staff():
    """List the company's active staff members (`include_inactive=true`: all of them)."""
    return _list(Staff, schemas.Staff)


@bp.get("/staff/<staff_id>")
@endpoint("Catalogue", roles=STAFF_ROLES, response=schemas.Staff)
def get_staff(staff_id: str):
    """Return one of the company's staff members."""
    return _get(Staff, staff_id, schemas.Staff, STAFF_NOT_FOUND)


@bp.post("/staff")
@endpoint(
    "Catalogue",
    roles=ADMIN_ROLES,
    body=schemas.CreateStaffRequest,
    response=schemas.Staff,
    status=201,
    errors=(404,),
)
def create_staff():
    """Create a staff member in the caller's company."""
    fields = parse_body(schemas.CreateStaffRequest)
    company_id = owning_company_id(fields.company_id)
    return _create(Staff(company_id=company_id, name=fields.name), schemas.Staff)


@bp.patch("/staff/<staff_id>")
@endpoint(
    "Catalogue",
    roles=ADMIN_ROLES,
    body=schemas.UpdateStaffRequest,
    response=schemas.Staff,
)
def update_staff(staff_id: str):
    """Rename a staff member or (de)activate them; their bookings stay as they are."""
    changes = parse_body(schemas.UpdateStaffRequest)
    row = get_in_company(Staff, staff_id, company_scope(caller()), message=STAFF_NOT_FOUND)
    return _update(row, changes, schemas.Staff)
