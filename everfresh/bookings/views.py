"""Create, list, read and update bookings."""

from __future__ import annotations

import json

from flask import Blueprint, abort, request
from sqlalchemy.exc import IntegrityError

from everfresh.auth.access import ANY_ROLE, STAFF_ROLES, caller
from everfresh.auth.models import Role
from everfresh.bookings import schemas
from everfresh.bookings.answers import booking_answer, seen_by
from everfresh.bookings.creation import IdempotencyClaim, create_booking
from everfresh.bookings.idempotency import earlier_response, idempotency_key, request_fingerprint
from everfresh.bookings.models import Booking
from everfresh.bookings.updating import update_booking
from everfresh.bookings.workflow import Caller
from everfresh.errors import FieldConflict
from everfresh.extensions import db
from everfresh.tenancy import company_scope, get_in_company, visible_company_id
from everfresh.web.endpoints import Parameter, endpoint
from everfresh.web.pagination import paginate
from everfresh.web.validation import parse_body, parse_query

bp = Blueprint("bookings", __name__)


@bp.post("/bookings")
@endpoint(
    "Bookings",
    roles=ANY_ROLE,
    body=schemas.CreateBookingRequest,
    response=schemas.Booking,
    status=201,
    errors=(409,),
    parameters=(
        Parameter(
            "Idempotency-Key",
            "header",
            "Retrying with the same key and body returns the first booking and emits no "
            "second event; the same key with another body is 409. Kept 24 hours per user.",
            schema={"type": "string", "maxLength": 255},
        ),
    ),
)
def create():
    """Create a booking and push `booking_created` to the company's live streams."""
    fields = parse_body(schemas.CreateBookingRequest)
    who = Caller(caller())
    key = idempotency_key()
    if key is None:
        return booking_answer(who, create_booking(who, fields, None))

    claim = IdempotencyClaim(key, request_fingerprint(request.get_json()))
    # A retry gets the first answer as it was then, `allowed_actions` included: the key
    # belongs to this caller, and a GET tells the booking's state now.
    earlier = earlier_response(who.user.id, key, claim.fingerprint)
    if earlier is not None:
        return json.loads(earlier)
    try:
        return booking_answer(who, create_booking(who, fields, claim))
    except (IntegrityError, FieldConflict):
        # A concurrent request with the same key won the race (and, with a staff member,
        # took their time): answer as it did.
        db.session.rollback()
        earlier = earlier_response(who.user.id, key, claim.fingerprint)
        if earlier is None:
            raise
        return json.loads(earlier)


def _visible_booking(booking_id: str) -> Booking:
    user = caller()
    booking = get_in_company(Booking, booking_id, company_scope(user))
    if user.role == Role.CUSTOMER and booking.customer_id != user.customer_id:
        abort(404, "Booking not found.")
    return booking


@bp.get("/bookings")
@endpoint(
    "Bookings",
    roles=ANY_ROLE,
    query=schemas.BookingListQuery,
    response=schemas.BookingPage,
    errors=(404,),
)
def list_bookings():
    """List bookings the caller may see, filtered by status and date range."""
    filters = parse_query(schemas.BookingListQuery)
    query = db.select(Booking)
    company_id = visible_company_id(filters.company_id)
    if company_id is not None:
        query = query.where(Booking.company_id == company_id)
    if caller().role == Role.CUSTOMER:
        query = query.where(Booking.customer_id == caller().customer_id)
    if filters.status is not None:
        query = query.where(Booking.status == filters.status)
    if filters.date_from is not None:
        query = query.where(Booking.scheduled_date >= filters.date_from)
    if filters.date_to is not None:
        query = query.where(Booking.scheduled_date <= filters.date_to)
    who = Caller(caller())
    return paginate(
        query, Booking.id, filters, schemas.Booking, present=lambda row: seen_by(who, row)
    )


@bp.get("/bookings/<booking_id>")
@endpoint("Bookings", roles=ANY_ROLE, response=schemas.Booking)
def get(booking_id: str):
    """Return one booking."""
    return booking_answer(Caller(caller()), _visible_booking(booking_id))


@bp.patch("/bookings/<booking_id>")
@endpoint(
    "Bookings",
    roles=STAFF_ROLES,
    body=schemas.UpdateBookingRequest,
    response=schemas.Booking,
    errors=(409,),
)
def update(booking_id: str):
    """Change a booking's status, assignee, schedule or notes, and push `booking_updated`."""
    changes = parse_body(schemas.UpdateBookingRequest)
    who = Caller(caller())
    return booking_answer(who, update_booking(who, _visible_booking(booking_id), changes))
