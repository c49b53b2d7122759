"""Test the realistic demo: its plan of the day, the rows `flask seed-demo` writes, their events."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from everfresh.bookings.models import Booking, BookingStatus
from everfresh.catalog.models import Customer, Service, Staff
from everfresh.companies.models import Company
from everfresh.demo import DEMO_COMPANIES, seed_demo
from everfresh.demo_catalogue import EVERFRESH_SERVICES
from everfresh.demo_day import (
    BOOKINGS_PER_DAY,
    CANCELLED_PER_DAY,
    DAY_ENDS,
    STEPS,
    PlannedBooking,
    plan_demo_days,
)
from everfresh.eventlog.models import Event
from everfresh.extensions import db
from everfresh.timestamps import utcnow

LONDON = ZoneInfo("Europe/London")
DURATIONS = [service.duration_minutes for service in EVERFRESH_SERVICES]
# Moments of the company's day, from before the first job to after the last.
TIMES_OF_DAY = [time(0, 30), time(7, 59), time(10, 20), time(13, 5), time(17, 40), time(23, 59)]
FINAL = {BookingStatus.COMPLETED, BookingStatus.CANCELLED}


def next_clock_change(zone: ZoneInfo) -> date:
    """Return the next day, counted from today, on which `zone`'s clocks go back or forward."""
    day = datetime.now(zone).date()
    for _ in range(400):
        day += timedelta(days=1)
        if (
            datetime.combine(day, time(0), zone).utcoffset()
            != datetime.combine(day, time(23, 59), zone).utcoffset()
        ):
            return day
    raise AssertionError(f"{zone} changes its clocks less than once a year")


def moments() -> list[datetime]:
    """Return the moments to plan around: times of today, and of the days around a DST change."""
    today = datetime.now(LONDON).date()
    change = next_clock_change(LONDON)
    days = [today, change - timedelta(days=1), change]
    return [datetime.combine(day, at, LONDON) for day in days for at in TIMES_OF_DAY]


def real_interval(booking: PlannedBooking) -> tuple[datetime, datetime]:
    """Return when a planned booking starts and ends, in UTC."""
    start = datetime.combine(
        booking.scheduled_date, booking.scheduled_time_start, LONDON
    ).astimezone(UTC)
    return start, start + timedelta(minutes=DURATIONS[booking.service])


@pytest.fixture(params=moments(), ids=lambda moment: moment.strftime("%a-%H%M-%z"))
def plan(request: pytest.FixtureRequest) -> tuple[datetime, list[PlannedBooking]]:
    """Plan eight staff members' and thirty customers' days around one moment."""
    return request.param, plan_demo_days(request.param, DURATIONS, 8, 30, seed="test")


# --- The plan ----------------------------------------------------------------------------------


def test_the_plan_fills_today_and_tomorrow(plan):
    now, planned = plan
    today = now.date()

    assert len(planned) == 2 * BOOKINGS_PER_DAY
    assert {booking.scheduled_date for booking in planned} <= {today, today + timedelta(days=1)}
    by_day = Counter(booking.scheduled_date for booking in planned)
    assert by_day[today + timedelta(days=1)] >= BOOKINGS_PER_DAY
    for booking in planned:
        start = booking.scheduled_time_start
        end = datetime.combine(booking.scheduled_date, start) + timedelta(
            minutes=DURATIONS[booking.service]
        )
        assert time(8, 0) <= start
        assert (end.date(), end.time() <= DAY_ENDS) == (booking.scheduled_date, True)
        assert start.minute % 15 == 0


def test_no_staff_member_is_in_two_places_at_once(plan):
    _now, planned = plan
    by_staff = defaultdict(list)
    for booking in planned:
        if booking.staff is not None and booking.status != BookingStatus.CANCELLED:
            by_staff[booking.staff].append(real_interval(booking))

    assert len(by_staff) == 8
    for intervals in by_staff.values():
        intervals.sort()
        for (_start, end), (next_start, _end) in zip(intervals, intervals[1:], strict=False):
            assert end <= next_start


def test_a_household_has_at_most_one_cleaning_a_day(plan):
    _now, planned = plan

    days = Counter((booking.scheduled_date, booking.customer) for booking in planned)

    assert max(days.values()) == 1


def test_statuses_follow_the_clock(plan):
    now, planned = plan
    late = []
    for booking in planned:
        start, end = real_interval(booking)
        if booking.status == BookingStatus.CANCELLED:
            continue
        if end <= now:
            assert booking.status == BookingStatus.COMPLETED
        elif start <= now:
            assert booking.status in (BookingStatus.IN_PROGRESS, BookingStatus.CONFIRMED)
            if booking.status == BookingStatus.CONFIRMED:
                late.append(booking)
        else:
            assert booking.status in (BookingStatus.PENDING, BookingStatus.CONFIRMED)

    under_way = [b for b in planned if b.status == BookingStatus.IN_PROGRESS]
    assert len(late) == (1 if len(under_way) + len(late) >= 2 else 0)


def test_unassigned_bookings_are_all_still_to_come(plan):
    now, planned = plan

    unassigned = [booking for booking in planned if booking.staff is None]

    assert len(unassigned) >= 3
    for booking in unassigned:
        assert real_interval(booking)[0] > now
        assert booking.status in (BookingStatus.PENDING, BookingStatus.CANCELLED)


def test_cancellations_are_few(plan):
    _now, planned = plan

    cancelled = [booking for booking in planned if booking.status == BookingStatus.CANCELLED]

    assert 1 <= len(cancelled) <= 2 * CANCELLED_PER_DAY


def test_the_same_moment_gives_the_same_plan():
    now = datetime.now(LONDON)

    assert plan_demo_days(now, DURATIONS, 8, 30, "a") == plan_demo_days(now, DURATIONS, 8, 30, "a")


def test_the_morning_has_work_under_way_and_a_late_start():
    now = datetime.combine(datetime.now(LONDON).date(), time(10, 20), LONDON)

    statuses = Counter(
        booking.status
        for booking in plan_demo_days(now, DURATIONS, 8, 30, "test")
        if booking.scheduled_date == now.date()
    )

    assert statuses[BookingStatus.COMPLETED] >= 1
    assert statuses[BookingStatus.IN_PROGRESS] >= 1
    assert statuses[BookingStatus.CONFIRMED] >= 1


# --- What seed-demo writes ---------------------------------------------------------------------


@pytest.fixture
def seeded(app: Flask) -> tuple[Flask, datetime, int]:
    """Seed the whole demo on top of the bare one, around this moment."""
    now = utcnow()
    with app.app_context():
        added = seed_demo(now)
    return app, now, added


def test_each_company_gets_its_people_catalogue_and_day(seeded):
    app, now, added = seeded

    assert added == 2 * 2 * BOOKINGS_PER_DAY
    with app.app_context():
        for spec in DEMO_COMPANIES:
            company = db.session.scalars(db.select(Company).where(Company.name == spec.name)).one()
            assert (company.timezone, company.currency) == (spec.timezone, spec.currency)

            def rows(model: type, company_id: str = company.id) -> list:
                return db.session.scalars(
                    db.select(model).where(model.company_id == company_id)
                ).all()

            staff, customers, services, bookings = (
                rows(Staff),
                rows(Customer),
                rows(Service),
                rows(Booking),
            )
            assert 6 <= len(staff) <= 8
            assert sum(member.user_id is not None for member in staff) == 1
            assert len(customers) == 30
            assert all(c.address_line1 and c.city and c.postcode for c in customers)
            assert sum(c.access_notes is not None for c in customers) >= 10
            assert sorted(s.name for s in services) == sorted(s.name for s in spec.services)
            assert len(bookings) == 2 * BOOKINGS_PER_DAY
            today = now.astimezone(ZoneInfo(company.timezone)).date()
            assert {b.scheduled_date for b in bookings} <= {today, today + timedelta(days=1)}
            assert {b.booking_number for b in bookings} == {f"BK-{1001 + n}" for n in range(40)}
            assert sum(b.staff_id is None for b in bookings) >= 3
            assert {b.status for b in bookings} <= set(BookingStatus)


def test_the_stored_bookings_keep_the_staff_rule(seeded):
    app, _now, _added = seeded
    with app.app_context():
        rows = db.session.execute(
            db.select(Booking, Service.duration_minutes, Company.timezone)
            .join(Service, Service.id == Booking.service_id)
            .join(Company, Company.id == Booking.company_id)
            .where(Booking.staff_id.is_not(None), Booking.status != BookingStatus.CANCELLED)
        ).all()
        by_staff = defaultdict(list)
        for booking, minutes, zone in rows:
            start = datetime.combine(
                booking.scheduled_date, booking.scheduled_time_start, ZoneInfo(zone)
            )
            by_staff[booking.staff_id].append((start, start + timedelta(minutes=minutes)))

    assert len(by_staff) == 14
    for intervals in by_staff.values():
        intervals.sort()
        for (_start, end), (next_start, _end) in zip(intervals, intervals[1:], strict=False):
            assert end <= next_start


def test_the_event_log_replays_each_booking_to_its_state(seeded):
    app, _now, _added = seeded
    with app.app_context():
        bookings = {b.id: b for b in db.session.scalars(db.select(Booking))}
        events = db.session.scalars(db.select(Event).order_by(Event.id)).all()
        replayed: dict[str, dict] = {}
        for event in events:
            payload = json.loads(event.payload)
            if event.type == "booking_created":
                assert payload["booking_id"] not in replayed
                assert payload["status"] == "pending"
            else:
                assert event.type == "booking_updated"
                assert payload["changes"] == ["status"]
                before = replayed[payload["booking_id"]]["status"]
                assert (before, payload["status"]) in {
                    ("pending", "confirmed"),
                    ("confirmed", "in_progress"),
                    ("in_progress", "completed"),
                    ("pending", "cancelled"),
                }
            replayed[payload["booking_id"]] = payload
        sequences = defaultdict(list)
        for event in events:
            sequences[event.company_id].append(event.sequence)

        assert set(replayed) == set(bookings)
        for booking_id, state in replayed.items():
            booking = bookings[booking_id]
            assert (state["status"], state["staff_id"], state["booking_number"]) == (
                booking.status,
                booking.staff_id,
                booking.booking_number,
            )
        assert len(events) == sum(1 + len(STEPS[b.status]) for b in bookings.values())
        assert [event.id for event in events] == list(range(1, len(events) + 1))
        for company_id, numbers in sequences.items():
            assert numbers == list(range(1, len(numbers) + 1))
            company = db.session.get(Company, company_id)
            assert company.last_event_sequence == len(numbers)


def test_seeding_again_adds_nothing(seeded):
    app, now, _added = seeded
    with app.app_context():
        before = {
            model.__name__: db.session.scalar(db.select(db.func.count()).select_from(model))
            for model in (Company, Customer, Service, Staff, Booking, Event)
        }

        # Even on the next day: tomorrow's bookings are then today's.
        added = [seed_demo(now), seed_demo(now + timedelta(days=1))]

        after = {
            model.__name__: db.session.scalar(db.select(db.func.count()).select_from(model))
            for model in (Company, Customer, Service, Staff, Booking, Event)
        }
    assert added == [0, 0]
    assert after == before


def test_a_day_with_no_bookings_left_gets_a_new_one(seeded):
    app, now, _added = seeded
    with app.app_context():
        added = seed_demo(now + timedelta(days=2))
        latest = db.session.scalar(db.select(db.func.max(Booking.scheduled_date)))

    assert added == 2 * 2 * BOOKINGS_PER_DAY
    assert latest >= (now + timedelta(days=2)).date()


def test_the_demo_shows_through_the_api(seeded, client, login_as):
    headers = login_as("staff")

    customers = client.get("/customers?limit=100", headers=headers).get_json()["items"]
    staff = client.get("/staff", headers=headers).get_json()["items"]
    services = client.get("/services", headers=headers).get_json()["items"]
    bookings = client.get("/bookings?limit=100", headers=headers).get_json()["items"]
    company = client.get(f"/companies/{customers[0]['company_id']}", headers=headers).get_json()

    assert len(customers) == 30
    assert 6 <= len(staff) <= 8
    assert len(services) == 5
    assert len(bookings) == 2 * BOOKINGS_PER_DAY
    assert company["currency"] == "GBP"
    ada = next(c for c in customers if c["name"] == "Ada Lovelace")
    assert (ada["address_line2"], ada["city"], ada["postcode"]) == (
        "12 St James's Square",
        "London",
        "SW1Y 4JH",
    )


def test_a_new_day_leaves_out_what_an_admin_deactivated(seeded):
    app, now, _added = seeded
    with app.app_context():
        everfresh = db.session.scalars(
            db.select(Company).where(Company.name == "EverFresh Demo")
        ).one()
        retired = {
            model: db.session.scalars(
                db.select(model).where(model.company_id == everfresh.id).order_by(model.id)
            ).first()
            for model in (Customer, Service, Staff)
        }
        for row in retired.values():
            row.active = False
        db.session.commit()
        retired_ids = {model: row.id for model, row in retired.items()}

        added = seed_demo(now + timedelta(days=2))
        new_day = db.session.scalars(
            db.select(Booking).where(
                Booking.company_id == everfresh.id,
                Booking.scheduled_date >= (now + timedelta(days=2)).astimezone(LONDON).date(),
            )
        ).all()

    assert added > 0
    assert new_day
    assert retired_ids[Customer] not in {b.customer_id for b in new_day}
    assert retired_ids[Service] not in {b.service_id for b in new_day}
    assert retired_ids[Staff] not in {b.staff_id for b in new_day}
