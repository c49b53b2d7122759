"""List, read and create each company's customers, services and staff members."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from everfresh.auth.access import ADMIN_ROLES, ANY_ROLE, STAFF_ROLES, caller
from everfresh.catalog import schemas
from everfresh.catalog.models import Customer, Service, Staff
from everfresh.extensions import db
from everfresh.tenancy import (
    company_scope,
    get_in_company,
    owning_company_id,
    visible_company_id,
)
from everfresh.web.endpoints import endpoint
from everfresh.web.pagination import PageQuery, paginate
from everfresh.web.responses import Answer, serialise
from everfresh.web.validation import parse_body, parse_query

bp = Blueprint("catalog", __name__)


def _list(model: type[Customer] | type[Service] | type[Staff], item: type[Answer]) -> dict:
    page = parse_query(PageQuery)
    query = db.select(model)
    company_id = visible_company_id(page.company_id)
    if company_id is not None:
        query = query.where(model.company_id == company_id)
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


@bp.get("/customers")
@endpoint(
    "Catalogue", roles=STAFF_ROLES, query=PageQuery, response=schemas.CustomerPage, errors=(404,)
)
def list_customers():
    """List the company's customers."""
    return _list(Customer, schemas.Customer)


@bp.get("/customers/<customer_id>")
@endpoint("Catalogue", roles=STAFF_ROLES, response=schemas.Customer)
def get_customer(customer_id: str):
    """Return one of the company's customers."""
    return _get(Customer, customer_id, schemas.Customer, "Customer not found.")


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


@bp.get("/services")
@endpoint("Catalogue", roles=ANY_ROLE, query=PageQuery, response=schemas.ServicePage, errors=(404,))
def list_services():
    """List the services the caller's company sells."""
    return _list(Service, schemas.Service)


@bp.get("/services/<service_id>")
@endpoint("Catalogue", roles=ANY_ROLE, response=schemas.Service)
def get_service(service_id: str):
    """Return one of the services the caller's company sells."""
    return _get(Service, service_id, schemas.Service, "Service not found.")


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


@bp.get("/staff")
@endpoint(
    "Catalogue", roles=STAFF_ROLES, query=PageQuery, response=schemas.StaffPage, errors=(404,)
)
def list_staff():
    """List the company's staff members."""
    return _list(Staff, schemas.Staff)


@bp.get("/staff/<staff_id>")
@endpoint("Catalogue", roles=STAFF_ROLES, response=schemas.Staff)
def get_staff(staff_id: str):
    """Return one of the company's staff members."""
    return _get(Staff, staff_id, schemas.Staff, "Staff member not found.")


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
