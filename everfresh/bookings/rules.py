"""Enforce the booking rules: a start neither past nor beyond the horizon, no staff member in two
places at once."""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from everfresh.bookings.models import Booking, BookingStatus
from everfresh.bookings.schemas import UpdateBookingRequest
from everfresh.catalog.models import Service, Staff
from everfresh.companies.models import Company, load_company
from everfresh.errors import FieldConflict, ValidationFailed
from everfresh.extensions import db
from everfresh.tenancy import get_in_company, lock_in_company
from everfresh.timestamps import utcnow

# A service lasts at most a day, and a daylight-saving change can stretch a day's wall clock
# by an hour: a booking that overlaps another starts at most two calendar days before it.
OVERLAP_WINDOW = timedelta(days=2)
# How many years ahead of the company's today a booking may start. Dates are bounded so that
# arithmetic on them never leaves the calendar (9999-12-31 plus a day was a 500).
BOOKING_HORIZON_YEARS = 5


@dataclass(frozen=True)
class Slot:
    """Who does a booking, which service, and when it starts on its company's wall clock."""

    staff_id: str | None
    service_id: str
    scheduled_date: date
    scheduled_time_start: time


def check_start(company: Company, scheduled_date: date, scheduled_time_start: time) -> None:
    """Refuse (422) a start in the past or beyond the booking horizon, on the company's clock.

    A date before the company's today names `scheduled_date`; today's date with a time
    already gone names `scheduled_time_start`; a date more than `BOOKING_HORIZON_YEARS`
    ahead names `scheduled_date`.
    """
    now = utcnow().astimezone(ZoneInfo(company.timezone))
    refuse_beyond_horizon(company, scheduled_date, now.date())
    if scheduled_date < now.date():
        raise ValidationFailed(
            {
                "scheduled_date": f"This date has passed in {company.timezone}, "
                f"where today is {now.date().isoformat()}."
            }
        )
    if scheduled_date == now.date() and scheduled_time_start < now.time().replace(
        second=0, microsecond=0
    ):
        raise ValidationFailed(
            {
                "scheduled_time_start": f"This time has passed today in {company.timezone}, "
                f"where it is {now:%H:%M}."
            }
        )


def last_bookable_date(today: date) -> date:
    """Return the last date a booking may start on, counted from the company's `today`."""
    year = today.year + BOOKING_HORIZON_YEARS
    # 29 February has no match five years on: the horizon ends on the 28th.
    return today.replace(year=year, day=min(today.day, monthrange(year, today.month)[1]))


def refuse_beyond_horizon(
    company: Company, scheduled_date: date, today: date | None = None
) -> None:
    """Refuse (422, naming `scheduled_date`) a date past the company's booking horizon."""
    if today is None:
        today = utcnow().astimezone(ZoneInfo(company.timezone)).date()
    last = last_bookable_date(today)
    if scheduled_date > last:
        raise ValidationFailed(
            {
                "scheduled_date": f"Bookings open {BOOKING_HORIZON_YEARS} years ahead: the last "
                f"date open in {company.timezone} is {last.isoformat()}."
            }
        )


def reserve_staff(company: Company, slot: Slot, booking_id: str | None = None) -> None:
    """Lock the slot's staff member for this transaction, then refuse (409) an overlapping booking.

    Another booking of theirs overlaps when its time, from its start to its start plus its
    service's `duration_minutes`, meets this one's; cancelled bookings and the booking itself
    (`booking_id`, when it is being changed) do not count.
    """
    if slot.staff_id is None:
        return
    # Two requests may each find the staff member free and both book them. Locking the staff
    # row first makes them queue, so the second checks after the first has committed.
    lock_in_company(Staff, slot.staff_id, company.id)
    zone = ZoneInfo(company.timezone)
    start, end = _interval(zone, slot, company.id)
    others = db.session.execute(
        db.select(Booking.scheduled_date, Booking.scheduled_time_start, Service.duration_minutes)
        .join(Service, Service.id == Booking.service_id)
        .where(
            Booking.staff_id == slot.staff_id,
            Booking.status != BookingStatus.CANCELLED,
            Booking.id != booking_id,
            Booking.scheduled_date.between(
                slot.scheduled_date - OVERLAP_WINDOW, slot.scheduled_date + OVERLAP_WINDOW
            ),
        )
    )
    for other_date, other_time, other_minutes in others:
        other_start = _utc_start(zone, other_date, other_time)
        other_end = other_start + timedelta(minutes=other_minutes)
        if other_start < end and start < other_end:
            raise FieldConflict(
                {
                    "staff_id": "Already booked from "
                    f"{other_time:%H:%M} on {other_date.isoformat()} for {other_minutes} minutes."
                },
                "The staff member already has a booking at that time.",
            )


def check_update(booking: Booking, changes: UpdateBookingRequest) -> None:
    """Apply the booking rules to a PATCH before it changes `booking`.

    A new schedule may not start in the past or beyond the horizon; a new staff member or
    schedule must leave the staff member free at that time, unless the booking ends up
    cancelled.
    """
    sent = changes.model_fields_set
    after = Slot(
        staff_id=changes.staff_id if "staff_id" in sent else booking.staff_id,
        service_id=booking.service_id,
        scheduled_date=changes.scheduled_date
        if "scheduled_date" in sent
        else booking.scheduled_date,
        scheduled_time_start=changes.scheduled_time_start
        if "scheduled_time_start" in sent
        else booking.scheduled_time_start,
    )
    status = changes.status if "status" in sent else booking.status
    rescheduled = (after.scheduled_date, after.scheduled_time_start) != (
        booking.scheduled_date,
        booking.scheduled_time_start,
    )
    if not rescheduled and after.staff_id == booking.staff_id:
        return
    company = load_company(booking.company_id)
    if rescheduled:
        check_start(company, after.scheduled_date, after.scheduled_time_start)
    if status != BookingStatus.CANCELLED:
        # A booking stored before dates were bounded may lie beyond the horizon: its time
        # cannot be compared with others', so it must move before it is assigned.
        refuse_beyond_horizon(company, after.scheduled_date)
        reserve_staff(company, after, booking.id)


def _utc_start(zone: ZoneInfo, scheduled_date: date, scheduled_time_start: time) -> datetime:
    # Aware datetimes sharing a zone compare and add on the wall clock; UTC measures real time,
    # which is what two bookings spanning a daylight-saving change share.
    return datetime.combine(scheduled_date, scheduled_time_start, tzinfo=zone).astimezone(UTC)


def _interval(zone: ZoneInfo, slot: Slot, company_id: str) -> tuple[datetime, datetime]:
    start = _utc_start(zone, slot.scheduled_date, slot.scheduled_time_start)
    minutes = get_in_company(
        Service, slot.service_id, company_id, field="service_id"
    ).duration_minutes
    return start, start + timedelta(minutes=minutes)
