"""Create, list, read and update bookings."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request
from sqlalchemy.exc import IntegrityError

from everfresh.auth.access import ANY_ROLE, STAFF_ROLES, caller, roles_required, visible_company_id
from everfresh.auth.models import Role
from everfresh.bookings.creation import IdempotencyClaim, create_booking
from everfresh.bookings.idempotency import earlier_response, idempotency_key, request_fingerprint
from everfresh.bookings.models import Booking
from everfresh.bookings.schemas import BookingListQuery, CreateBookingRequest, UpdateBookingRequest
from everfresh.bookings.updating import update_booking
from everfresh.errors import FieldConflict
from everfresh.extensions import db
from everfresh.web.pagination import paginate
from everfresh.web.validation import parse_body, parse_query

bp = Blueprint("bookings", __name__)


def _replay(body: str) -> Response:
    return Response(body, status=201, mimetype="application/json")


@bp.post("/bookings")
@roles_required(*ANY_ROLE)
def create():
    """Create a booking and push `booking_created` to the company's live streams."""
    fields = parse_body(CreateBookingRequest)
    user = caller()
    key = idempotency_key()
    if key is None:
        return create_booking(user, fields, None).to_json(), 201

    claim = IdempotencyClaim(key, request_fingerprint(request.get_json()))
    earlier = earlier_response(user.id, key, claim.fingerprint)
    if earlier is not None:
        return _replay(earlier)
    try:
        return create_booking(user, fields, claim).to_json(), 201
    except (IntegrityError, FieldConflict):
        # A concurrent request with the same key won the race (and, with a staff member,
        # took their time): answer as it did.
        db.session.rollback()
        earlier = earlier_response(user.id, key, claim.fingerprint)
        if earlier is None:
            raise
        return _replay(earlier)


def _visible_booking(booking_id: str) -> Booking:
    booking = db.session.get(Booking, booking_id)
    user = caller()
    if booking is None or (user.role != Role.SUPERADMIN and booking.company_id != user.company_id):
        abort(404, "Booking not found.")
    if user.role == Role.CUSTOMER and booking.customer_id != user.customer_id:
        abort(404, "Booking not found.")
    return booking


@bp.get("/bookings")
@roles_required(*ANY_ROLE)
def list_bookings():
    """List bookings the caller may see, filtered by status and date range."""
    filters = parse_query(BookingListQuery)
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
    return paginate(query, Booking.id, filters)


@bp.get("/bookings/<booking_id>")
@roles_required(*ANY_ROLE)
def get(booking_id: str):
    """Return one booking."""
    return _visible_booking(booking_id).to_json()


@bp.patch("/bookings/<booking_id>")
@roles_required(*STAFF_ROLES)
def update(booking_id: str):
    """Change a booking's status, assignee, schedule or notes, and push `booking_updated`."""
    changes = parse_body(UpdateBookingRequest)
    return update_booking(_visible_booking(booking_id), changes).to_json()
