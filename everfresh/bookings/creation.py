"""Create a booking: check its references, number it, log its event, commit, then announce it."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from blinker import NamedSignal
from flask import current_app

from everfresh.auth.models import Role, User
from everfresh.bookings import schemas
from everfresh.bookings.answers import booking_answer
from everfresh.bookings.models import Booking, BookingStatus, IdempotencyKey
from everfresh.bookings.numbering import claim_number_and_sequence
from everfresh.bookings.rules import Slot, check_start, reserve_staff
from everfresh.bookings.workflow import Caller
from everfresh.catalog.models import Customer, Service, Staff
from everfresh.companies.models import load_company
from everfresh.database import commit_keeping_loaded
from everfresh.errors import ValidationFailed
from everfresh.eventlog.models import Event
from everfresh.extensions import db
from everfresh.ids import new_ulid
from everfresh.metrics import BOOKINGS_CREATED
from everfresh.signals import booking_created
from everfresh.tenancy import company_scope, find_in_company, get_in_company
from everfresh.timestamps import utcnow

log = logging.getLogger(__name__)

BOOKING_CREATED = "booking_created"


@dataclass(frozen=True)
class IdempotencyClaim:
    """The key a request was sent with and the fingerprint of its body."""

    key: str
    fingerprint: str


def resolve_customer(user: User, fields: schemas.CreateBookingRequest) -> Customer:
    """Return the customer the booking is for, enforcing who may book for whom (422 otherwise).

    Customers book for themselves and leave the staff member to the company.
    """
    if user.role == Role.CUSTOMER:
        if fields.staff_id is not None:
            # The answer to a customer's choice would tell them when staff are busy.
            raise ValidationFailed({"staff_id": "Customers do not choose staff."})
        if fields.customer_id not in (None, user.customer_id) or user.customer_id is None:
            raise ValidationFailed({"customer_id": "You may only book for yourself."})
        customer_id = user.customer_id
    elif fields.customer_id is None:
        raise ValidationFailed({"customer_id": "Field required."})
    else:
        customer_id = fields.customer_id
    return get_in_company(
        Customer,
        customer_id,
        company_scope(user),
        field="customer_id",
        message="No such customer in this company.",
    )


def check_same_company(company_id: str, fields: schemas.CreateBookingRequest) -> Service:
    """Return the service, refusing one or a staff member from another company or deactivated."""
    problems = {}
    service = find_in_company(Service, fields.service_id, company_id)
    if service is None:
        problems["service_id"] = "No such service in this company."
    elif not service.active:
        problems["service_id"] = "This service is deactivated: it can no longer be booked."
    staff = find_in_company(Staff, fields.staff_id, company_id)
    if fields.staff_id is not None and staff is None:
        problems["staff_id"] = "No such staff member in this company."
    elif staff is not None and not staff.active:
        problems["staff_id"] = "This staff member is deactivated: choose another."
    if problems:
        raise ValidationFailed(problems)
    return service


def create_booking(
    caller: Caller, fields: schemas.CreateBookingRequest, claim: IdempotencyClaim | None
) -> Booking:
    """Write the booking and its event-log row in one transaction, then send `booking_created`."""
    user = caller.user
    customer = resolve_customer(user, fields)
    if not customer.active:
        raise ValidationFailed({"customer_id": "This customer is deactivated: no new bookings."})
    # Held until the booking is built: the session keeps only rows something refers to, and
    # the staff member's slot check reads the service's duration from it.
    service = check_same_company(customer.company_id, fields)
    company = load_company(customer.company_id)
    check_start(company, fields.scheduled_date, fields.scheduled_time_start)
    # Before the booking number: the staff row is always locked before the company row.
    reserve_staff(
        company,
        Slot(
            fields.staff_id, fields.service_id, fields.scheduled_date, fields.scheduled_time_start
        ),
    )

    booking_number, sequence = claim_number_and_sequence(customer.company_id)
    now = utcnow()
    booking = Booking(
        id=new_ulid(),
        company_id=customer.company_id,
        booking_number=booking_number,
        customer_id=customer.id,
        service_id=service.id,
        staff_id=fields.staff_id,
        scheduled_date=fields.scheduled_date,
        scheduled_time_start=fields.scheduled_time_start,
        notes=fields.notes,
        status=BookingStatus.PENDING,
        created_at=now,
        updated_at=now,
    )
    db.session.add(booking)
    event = Event.record(booking.company_id, BOOKING_CREATED, booking.to_event_payload(), sequence)
    if claim is not None:
        db.session.add(
            IdempotencyKey(
                user_id=user.id,
                key=claim.key,
                request_fingerprint=claim.fingerprint,
                booking_id=booking.id,
                response_body=json.dumps(booking_answer(caller, booking)),
            )
        )
    commit_keeping_loaded()
    BOOKINGS_CREATED.inc()
    announce(event)
    return booking


def announce(event: Event, signal: NamedSignal = booking_created) -> None:
    """Tell receivers about a committed event; their failure must not fail the request."""
    try:
        signal.send(current_app._get_current_object(), event=event)
    except Exception:
        # The event is in the log, so streams still get it by replay.
        log.exception("A %s receiver failed for event %s", signal.name, event.id)
