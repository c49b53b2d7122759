"""Change a booking: check the change, log a `booking_updated` event with it, commit, announce."""

from __future__ import annotations

from typing import Any

from everfresh.bookings.creation import announce
from everfresh.bookings.models import Booking
from everfresh.bookings.rules import check_update
from everfresh.bookings.schemas import UpdateBookingRequest
from everfresh.bookings.workflow import Caller, check_change
from everfresh.catalog.models import Staff
from everfresh.database import commit_keeping_loaded
from everfresh.eventlog.models import Event
from everfresh.extensions import db
from everfresh.metrics import BOOKING_UPDATES
from everfresh.signals import booking_updated
from everfresh.tenancy import get_in_company, lock_in_company
from everfresh.timestamps import iso_utc, utcnow

BOOKING_UPDATED = "booking_updated"


def changed_fields(booking: Booking, request: UpdateBookingRequest) -> dict[str, Any]:
    """Return the fields the request sets to a value other than the booking's, by name."""
    return {
        name: getattr(request, name)
        for name in sorted(request.model_fields_set)
        if getattr(request, name) != getattr(booking, name)
    }


def lock_booking(booking: Booking) -> Booking:
    """Lock the booking's row until the transaction ends and read it afresh under the lock.

    Two PATCHes of one booking would otherwise each judge the row as it was before the
    other committed, and both win: under the lock the second waits, then sees the first.
    """
    lock_in_company(Booking, booking.id, booking.company_id)
    db.session.refresh(booking)
    return booking


def update_booking(caller: Caller, booking: Booking, request: UpdateBookingRequest) -> Booking:
    """Apply the change and log its event in one transaction, then send `booking_updated`.

    The workflow and the caller's role are checked first, then the staff member's company,
    then the booking rules. A request that changes nothing writes nothing: no event, and
    `updated_at` stays.
    """
    booking = lock_booking(booking)
    changes = changed_fields(booking, request)
    check_change(caller, booking, changes)
    if changes.get("staff_id") is not None:
        get_in_company(
            Staff,
            changes["staff_id"],
            booking.company_id,
            field="staff_id",
            message="No such staff member in this company.",
        )
    if not changes:
        # Nothing to write: end the transaction, and with it the lock, keeping the row read.
        commit_keeping_loaded()
        return booking
    check_update(booking, request)
    for name, value in changes.items():
        setattr(booking, name, value)
    booking.updated_at = utcnow()
    event = Event.record(
        booking.company_id,
        BOOKING_UPDATED,
        {
            **booking.to_event_payload(),
            "updated_at": iso_utc(booking.updated_at),
            "changes": list(changes),
        },
    )
    commit_keeping_loaded()
    BOOKING_UPDATES.inc()
    announce(event, booking_updated)
    return booking
