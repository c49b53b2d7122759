"""Keep a staff member's coming bookings apart when their service gets longer."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from everfresh.bookings.models import Booking, BookingStatus
from everfresh.bookings.rules import Slot, reserve_staff
from everfresh.catalog.models import Service
from everfresh.companies.models import load_company
from everfresh.errors import FieldConflict
from everfresh.extensions import db
from everfresh.timestamps import utcnow

# A booking from yesterday may still be under way today (a long service started late).
STILL_RUNNING = timedelta(days=1)


def change_service_length(service: Service, minutes: int) -> None:
    """Give `service` its new length, refusing (409) one that would double-book a staff member.

    A booking lasts its service's `duration_minutes`, so a longer service makes every
    booking of it longer, and two bookings of one staff member that used to follow each
    other could then overlap. Each coming booking of the service that has a staff member is
    checked again by the booking rule itself, with the new length in place.
    """
    if minutes <= service.duration_minutes:
        service.duration_minutes = minutes
        return
    company = load_company(service.company_id)
    today = utcnow().astimezone(ZoneInfo(company.timezone)).date()
    service.duration_minutes = minutes
    db.session.flush()
    coming = db.session.scalars(
        db.select(Booking)
        .where(
            Booking.service_id == service.id,
            Booking.staff_id.is_not(None),
            Booking.status.not_in([BookingStatus.CANCELLED, BookingStatus.COMPLETED]),
            Booking.scheduled_date >= today - STILL_RUNNING,
        )
        .order_by(Booking.scheduled_date, Booking.scheduled_time_start)
    ).all()
    for booking in coming:
        slot = Slot(
            booking.staff_id,
            booking.service_id,
            booking.scheduled_date,
            booking.scheduled_time_start,
        )
        try:
            reserve_staff(company, slot, booking.id)
        except FieldConflict as clash:
            number = booking.booking_number
            db.session.rollback()
            raise FieldConflict(
                {
                    "duration_minutes": f"{number} would overlap another booking of its staff "
                    f"member: {clash.fields['staff_id']}"
                },
                f"At {minutes} minutes, {number} would overlap another booking of its staff "
                "member; move one of them first.",
            ) from None
