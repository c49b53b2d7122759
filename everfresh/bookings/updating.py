"""Change a booking: check the change, log a `booking_updated` event with it, commit, announce."""

from __future__ import annotations

from typing import Any

from flask import abort

from everfresh.bookings.creation import announce
from everfresh.bookings.models import Booking, BookingStatus
from everfresh.bookings.rules import check_update
from everfresh.bookings.schemas import UpdateBookingRequest
from everfresh.catalog.models import Staff
from everfresh.eventlog.models import Event
from everfresh.extensions import db
from everfresh.metrics import BOOKING_UPDATES
from everfresh.signals import booking_updated
from everfresh.tenancy import get_in_company
from everfresh.timestamps import iso_utc, utcnow

BOOKING_UPDATED = "booking_updated"
FINAL_STATUSES = {BookingStatus.COMPLETED, BookingStatus.CANCELLED}


def changed_fields(booking: Booking, request: UpdateBookingRequest) -> dict[str, Any]:
    """Return the fields the request sets to a value other than the booking's, by name."""
    return {
        name: getattr(request, name)
        for name in sorted(request.model_fields_set)
        if getattr(request, name) != getattr(booking, name)
    }


def check_change(booking: Booking, changes: dict[str, Any]) -> None:
    """Refuse a change to a final status (409) or to another company's staff member (422).

    The booking rules (no start in the past, no double-booked staff) are `rules.check_update`.
    """
    if "status" in changes and booking.status in FINAL_STATUSES:
        abort(409, f"The booking is {booking.status}; its status can no longer change.")
    if changes.get("staff_id") is not None:
        get_in_company(
            Staff,
            changes["staff_id"],
            booking.company_id,
            field="staff_id",
            message="No such staff member in this company.",
        )


def update_booking(booking: Booking, request: UpdateBookingRequest) -> Booking:
    """Apply the change and log its event in one transaction, then send `booking_updated`.

    A request that changes nothing writes nothing: no event, and `updated_at` stays.
    """
    changes = changed_fields(booking, request)
    check_change(booking, changes)
    if not changes:
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
    db.session.commit()
    BOOKING_UPDATES.inc()
    announce(event, booking_updated)
    return booking
