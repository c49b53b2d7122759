"""Lay out a demo company's bookings for today and tomorrow around the moment it is seeded.

The plan is a pure function of the company's wall clock, so the demo looks like a working
day whenever it is made: jobs that ended are completed, the ones under way are in progress,
one is running late, the rest are still to come. Writing it keeps the booking rules that a
plan can keep (one job at a time per staff member, checked by the rule itself) and logs each
booking's events as if it had been booked and worked through the API, so that a stream
replaying the log shows them. Only the rule against starting in the past is left out, since
earlier today is in the past.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from everfresh.bookings.creation import BOOKING_CREATED
from everfresh.bookings.models import Booking, BookingStatus
from everfresh.bookings.numbering import claim_number_and_sequence
from everfresh.bookings.rules import Slot, reserve_staff
from everfresh.bookings.updating import BOOKING_UPDATED
from everfresh.catalog.models import Customer, Service, Staff
from everfresh.companies.models import Company
from everfresh.eventlog.models import Event
from everfresh.extensions import db
from everfresh.ids import new_ulid
from everfresh.timestamps import iso_utc

BOOKINGS_PER_DAY = 20
UNASSIGNED_PER_DAY = 3
CANCELLED_PER_DAY = 1
DAY_STARTS = (time(8, 0), time(8, 30), time(9, 0))
# The last job of a day ends by then.
DAY_ENDS = time(18, 30)
# Unassigned jobs wait in the tray between these hours.
TRAY_FIRST, TRAY_LAST = time(9, 0), time(16, 0)
# Travel between two jobs, in minutes.
TRAVEL = (30, 45, 60)
SLOT = timedelta(minutes=15)
# How often each service of the catalogue is booked, in its order: standard cleans most.
SERVICE_WEIGHTS = (6, 2, 2, 2, 1)
NOTES = (
    "Please use the eco products under the sink.",
    "Focus on the kitchen and bathrooms this time.",
    "Customer works from home: quiet in the study, please.",
    "Change the bed linen; fresh sheets are in the airing cupboard.",
    "Bring the ladder for the high windows.",
    "Fridge clear-out as well, if time allows.",
)
# The status moves a booking makes from `pending` to where the plan wants it.
STEPS = {
    BookingStatus.PENDING: (),
    BookingStatus.CONFIRMED: (BookingStatus.CONFIRMED,),
    BookingStatus.IN_PROGRESS: (BookingStatus.CONFIRMED, BookingStatus.IN_PROGRESS),
    BookingStatus.COMPLETED: (
        BookingStatus.CONFIRMED,
        BookingStatus.IN_PROGRESS,
        BookingStatus.COMPLETED,
    ),
    BookingStatus.CANCELLED: (BookingStatus.CANCELLED,),
}


@dataclass(frozen=True)
class PlannedBooking:
    """One booking of the plan, by index into the company's staff, customers and services."""

    staff: int | None
    customer: int
    service: int
    scheduled_date: date
    scheduled_time_start: time
    status: BookingStatus
    notes: str | None = None


def plan_demo_days(
    now: datetime,
    durations: Sequence[int],
    staff_count: int,
    customer_count: int,
    seed: str,
) -> list[PlannedBooking]:
    """Plan today's and tomorrow's bookings around `now`, an aware time in the company's zone.

    `durations` are the services' lengths in minutes, in catalogue order. The same `now`
    and `seed` give the same plan.
    """
    chooser = random.Random(seed)
    today = now.date()
    planned: list[PlannedBooking] = []
    # Tray jobs that find no time left today wait for tomorrow instead.
    carried = 0
    for day in (today, today + timedelta(days=1)):
        jobs = _staff_jobs(chooser, day, durations, staff_count)
        tray = BOOKINGS_PER_DAY - len(jobs) + carried
        jobs += _tray_jobs(chooser, day, now, durations, tray)
        carried = BOOKINGS_PER_DAY + carried - len(jobs)
        # A household has at most one cleaning a day.
        customers = chooser.sample(range(customer_count), min(len(jobs), customer_count))
        for (staff, service, start), customer in zip(jobs, customers, strict=False):
            minutes = durations[service]
            planned.append(
                PlannedBooking(
                    staff=staff,
                    customer=customer,
                    service=service,
                    scheduled_date=day,
                    scheduled_time_start=start,
                    status=_status_at(chooser, now, day, start, minutes, staff is not None),
                    notes=chooser.choice(NOTES) if chooser.random() < 0.25 else None,
                )
            )
    return _with_exceptions(chooser, planned)


def _staff_jobs(
    chooser: random.Random, day: date, durations: Sequence[int], staff_count: int
) -> list[tuple[int | None, int, time]]:
    # Round the staff in turn, each from their own start, until the assigned share is placed
    # or nobody has room left: every next job starts after the last one's end plus travel.
    wanted = BOOKINGS_PER_DAY - UNASSIGNED_PER_DAY
    next_start = {
        staff: datetime.combine(day, DAY_STARTS[staff % len(DAY_STARTS)])
        for staff in range(staff_count)
    }
    day_end = datetime.combine(day, DAY_ENDS)
    jobs: list[tuple[int | None, int, time]] = []
    while len(jobs) < wanted and next_start:
        for staff in list(next_start):
            service = chooser.choices(range(len(durations)), SERVICE_WEIGHTS[: len(durations)])[0]
            start = next_start[staff]
            end = start + timedelta(minutes=durations[service])
            if end > day_end:
                del next_start[staff]
                continue
            jobs.append((staff, service, start.time()))
            next_start[staff] = end + timedelta(minutes=chooser.choice(TRAVEL))
            if len(jobs) == wanted:
                break
    return jobs


def _tray_jobs(
    chooser: random.Random, day: date, now: datetime, durations: Sequence[int], count: int
) -> list[tuple[int | None, int, time]]:
    # Unassigned jobs are still to come: one waiting in the tray past its start would be late
    # for no one, which is not how a dispatcher leaves a day.
    first = datetime.combine(day, TRAY_FIRST)
    if day == now.date():
        soonest = now.replace(tzinfo=None, second=0, microsecond=0) + timedelta(hours=1)
        first = max(first, soonest + (datetime.min - soonest) % timedelta(minutes=30))
    last = datetime.combine(day, TRAY_LAST)
    starts = []
    while first <= last:
        starts.append(first)
        first += timedelta(minutes=30)
    jobs: list[tuple[int | None, int, time]] = []
    for _ in range(count if starts else 0):
        start = chooser.choice(starts)
        fitting = [
            service
            for service, minutes in enumerate(durations)
            if start + timedelta(minutes=minutes) <= datetime.combine(day, DAY_ENDS)
        ]
        jobs.append((None, chooser.choice(fitting), start.time()))
    return jobs


def _status_at(
    chooser: random.Random, now: datetime, day: date, start: time, minutes: int, assigned: bool
) -> BookingStatus:
    begins = datetime.combine(day, start, tzinfo=now.tzinfo)
    if begins + timedelta(minutes=minutes) <= now:
        return BookingStatus.COMPLETED
    if begins <= now:
        return BookingStatus.IN_PROGRESS
    if assigned and chooser.random() < 0.7:
        return BookingStatus.CONFIRMED
    return BookingStatus.PENDING


def _with_exceptions(chooser: random.Random, planned: list[PlannedBooking]) -> list[PlannedBooking]:
    # A day always has a cancellation or two, and often a job that has not started on time.
    result = list(planned)
    for day in sorted({booking.scheduled_date for booking in planned}):
        open_ones = [
            index
            for index, booking in enumerate(result)
            if booking.scheduled_date == day
            and booking.status in (BookingStatus.PENDING, BookingStatus.CONFIRMED)
        ]
        for index in chooser.sample(open_ones, min(CANCELLED_PER_DAY, len(open_ones))):
            result[index] = replace(result[index], status=BookingStatus.CANCELLED)
    under_way = [
        index for index, booking in enumerate(result) if booking.status == BookingStatus.IN_PROGRESS
    ]
    if len(under_way) >= 2:
        # The latest of them has not started: the board marks it Late.
        late = max(under_way, key=lambda index: result[index].scheduled_time_start)
        result[late] = replace(result[late], status=BookingStatus.CONFIRMED)
    return result


def write_demo_days(
    company: Company,
    now: datetime,
    staff: Sequence[Staff],
    customers: Sequence[Customer],
    services: Sequence[Service],
) -> int:
    """Add the plan around `now` (UTC) for `company` to the transaction; return how many."""
    local_now = now.astimezone(ZoneInfo(company.timezone))
    plan = plan_demo_days(
        local_now,
        [service.duration_minutes for service in services],
        len(staff),
        len(customers),
        seed=f"{company.name} {local_now.date().isoformat()}",
    )
    for planned in plan:
        _write(company, now, planned, staff, customers, services)
    return len(plan)


def _write(
    company: Company,
    now: datetime,
    planned: PlannedBooking,
    staff: Sequence[Staff],
    customers: Sequence[Customer],
    services: Sequence[Service],
) -> None:
    staff_id = staff[planned.staff].id if planned.staff is not None else None
    service_id = services[planned.service].id
    if staff_id is not None and planned.status != BookingStatus.CANCELLED:
        # The booking rule itself: a plan that double-booked someone fails here, loudly.
        reserve_staff(
            company,
            Slot(staff_id, service_id, planned.scheduled_date, planned.scheduled_time_start),
        )
    booking_number, sequence = claim_number_and_sequence(company.id)
    booking = Booking(
        id=new_ulid(),
        company_id=company.id,
        booking_number=booking_number,
        customer_id=customers[planned.customer].id,
        service_id=service_id,
        staff_id=staff_id,
        scheduled_date=planned.scheduled_date,
        scheduled_time_start=planned.scheduled_time_start,
        notes=planned.notes,
        status=BookingStatus.PENDING,
        created_at=now,
        updated_at=now,
    )
    db.session.add(booking)
    Event.record(company.id, BOOKING_CREATED, booking.to_event_payload(), sequence)
    for status in STEPS[planned.status]:
        booking.status = status
        booking.updated_at = now
        Event.record(
            company.id,
            BOOKING_UPDATED,
            {
                **booking.to_event_payload(),
                "updated_at": iso_utc(booking.updated_at),
                "changes": ["status"],
            },
        )
