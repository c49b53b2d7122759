"""Check that old events and idempotency keys are pruned, on demand and in the background."""

from __future__ import annotations

import time as time_module
from datetime import UTC, date, datetime, time, timedelta

import gevent
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from everfresh import retention
from everfresh.eventlog import partitions
from everfresh.eventlog.models import Event, claim_event_ids, log_position
from everfresh.extensions import db
from everfresh.sse.replay import replay_since
from everfresh.timestamps import utcnow
from tests.polling import wait_for


def add_events(app, tenants, ages: list[timedelta]) -> None:
    with app.app_context():
        for age in ages:
            event = Event.record(tenants["everfresh"].company_id, "booking_created", {"n": 1})
            event.created_at = utcnow() - age
        db.session.commit()


SECOND = timedelta(seconds=1)


def remaining_event_count(app) -> int:
    with app.app_context():
        return len(db.session.scalars(db.select(Event)).all())


def test_prune_expired_keeps_the_replay_window(app, tenants):
    app.config["SSE_REPLAY_HOURS"] = 24
    # Both old events' whole days are past the window, so PostgreSQL prunes them too.
    add_events(app, tenants, [timedelta(hours=49), timedelta(hours=72), timedelta(hours=23)])
    with app.app_context():
        assert retention.prune_expired() == {
            "events": 2,
            "idempotency_keys": 0,
            "revoked_tokens": 0,
        }
    assert remaining_event_count(app) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_deletes_each_event_past_the_window(app, tenants):
    app.config["SSE_REPLAY_HOURS"] = 24
    add_events(app, tenants, [timedelta(hours=24, minutes=1), timedelta(hours=23, minutes=59)])
    with app.app_context():
        assert retention.prune_expired()["events"] == 1
    assert remaining_event_count(app) == 1


def test_each_worker_prunes_in_the_background(app, tenants, monkeypatch):
    monkeypatch.setattr(retention, "PRUNE_INTERVAL_SECONDS", 0.05)
    monkeypatch.setattr(retention.random, "uniform", lambda low, high: 0)
    add_events(app, tenants, [timedelta(hours=49)])
    pruner = retention.start_pruning(app)
    try:
        wait_for(lambda: remaining_event_count(app) == 0, sleep=gevent.sleep)
        add_events(app, tenants, [timedelta(hours=49), timedelta(minutes=1)])
        # A prune deletes in one commit: had it taken the recent event too, 2 would become 0.
        wait_for(lambda: remaining_event_count(app) == 1, sleep=gevent.sleep)
    finally:
        pruner.kill()


# --- PostgreSQL: one partition per day ------------------------------------------------------

on_postgresql = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def partition_of(app, event_id: int) -> str:
    with app.app_context():
        return db.session.execute(
            text("SELECT tableoid::regclass::text FROM events WHERE id = :id"), {"id": event_id}
        ).scalar_one()


def partition_exists(app, day: date) -> bool:
    with app.app_context():
        name = partitions.partition_name(day)
        return db.session.scalar(text("SELECT to_regclass(:name)"), {"name": name}) is not None


def make_partitions_from(app, day: date) -> None:
    with app.app_context():
        partitions.ensure_partitions(db.session.connection(), today=day)
        db.session.commit()


def log_a_day_of_events(app, company_id: str, day: date, count: int) -> None:
    """Log `count` events spread over `day` with ids from the counter, in one statement."""
    with app.app_context():
        last = claim_event_ids(db.session, count)
        db.session.execute(
            text(
                "INSERT INTO events (id, company_id, sequence, type, payload, created_at) "
                "SELECT :first + n, :company_id, n + 1, 'booking_created', '{}', "
                ":midnight + n * (interval '86399 seconds' / :count) "
                "FROM generate_series(0, :count - 1) AS n"
            ),
            {
                "first": last - count + 1,
                "company_id": company_id,
                "midnight": datetime.combine(day, time(), tzinfo=UTC),
                "count": count,
            },
        )
        db.session.commit()


def prune_and_watch(app) -> tuple[int, list[tuple[str, int]], float]:
    """Prune, returning the events count, each statement with the rows it touched, and seconds."""
    statements: list[tuple[str, int]] = []

    def record(_conn, cursor, statement, _parameters, _context, _executemany) -> None:
        statements.append((statement, cursor.rowcount))

    with app.app_context():
        event.listen(db.engine, "after_cursor_execute", record)
        try:
            started = time_module.perf_counter()
            pruned = retention.prune_expired()["events"]
            seconds = time_module.perf_counter() - started
        finally:
            event.remove(db.engine, "after_cursor_execute", record)
    return pruned, statements, seconds


@on_postgresql
def test_pruning_a_day_of_100000_events_costs_what_a_day_of_100_does(app, tenants):
    app.config["SSE_REPLAY_HOURS"] = 24
    seconds = {}
    for days_ago, count in ((3, 100), (4, 100_000)):
        day = utcnow().date() - timedelta(days=days_ago)
        make_partitions_from(app, day)
        log_a_day_of_events(app, tenants["everfresh"].company_id, day, count)

        pruned, statements, seconds[count] = prune_and_watch(app)

        assert pruned == count
        assert f"DROP TABLE {partitions.partition_name(day)}" in [sql for sql, _ in statements]
        deletes = [(sql, rows) for sql, rows in statements if sql.lstrip().startswith("DELETE")]
        # Idempotency keys, revocations and strays in the default partition: none to delete.
        assert deletes and all(rows == 0 for _, rows in deletes)
        assert not partition_exists(app, day)
    # Generous, since the machine is shared; the statements above are the exact check.
    assert seconds[100_000] < 5 * seconds[100] + 0.5


@on_postgresql
def test_a_day_partly_in_the_window_is_kept_whole(app, tenants):
    app.config["SSE_REPLAY_HOURS"] = 24
    day = utcnow().date() - timedelta(days=1)
    make_partitions_from(app, day)
    add_events(app, tenants, [utcnow() - datetime.combine(day, time(0, 1), tzinfo=UTC)])

    with app.app_context():
        assert retention.prune_expired()["events"] == 0
    assert remaining_event_count(app) == 1
    assert partition_exists(app, day)


@on_postgresql
def test_replay_across_a_partition_boundary_is_in_id_order(app, tenants):
    today = utcnow().date()
    make_partitions_from(app, today - timedelta(days=1))
    with app.app_context():
        start = log_position()
    # Ids follow commit order, not created_at: a later commit may carry an earlier time.
    add_events(app, tenants, [timedelta(0)])
    add_events(app, tenants, [utcnow() - datetime.combine(today, time(), tzinfo=UTC) + SECOND])
    add_events(app, tenants, [timedelta(0)])

    with app.app_context():
        replayed = [frame.event_id for frame in replay_since(start, None, limit=1000)]

    assert replayed == [start + 1, start + 2, start + 3]
    assert [partition_of(app, event_id) for event_id in replayed] == [
        partitions.partition_name(today),
        partitions.partition_name(today - timedelta(days=1)),
        partitions.partition_name(today),
    ]


@on_postgresql
def test_an_event_of_a_day_without_a_partition_is_kept_and_replayed(app, tenants):
    day = utcnow().date() + timedelta(days=partitions.DAYS_AHEAD + 2)
    assert not partition_exists(app, day)
    with app.app_context():
        start = log_position()
        logged = Event.record(tenants["everfresh"].company_id, "booking_created", {"n": 1})
        logged.created_at = datetime.combine(day, time(12), tzinfo=UTC)
        db.session.commit()
        event_id = logged.id

    assert partition_of(app, event_id) == partitions.DEFAULT_PARTITION
    with app.app_context():
        assert [f.event_id for f in replay_since(start, None, limit=1000)] == [event_id]

    # Once the day gets its partition, the event moves there and is still replayed.
    make_partitions_from(app, day)

    assert partition_of(app, event_id) == partitions.partition_name(day)
    with app.app_context():
        assert [f.event_id for f in replay_since(start, None, limit=1000)] == [event_id]


@on_postgresql
def test_each_worker_makes_tomorrows_partition(app, monkeypatch):
    monkeypatch.setattr(retention, "PRUNE_INTERVAL_SECONDS", 0.05)
    monkeypatch.setattr(retention.random, "uniform", lambda low, high: 0)
    tomorrow = utcnow().date() + timedelta(days=1)
    with app.app_context():
        db.session.execute(text(f"DROP TABLE IF EXISTS {partitions.partition_name(tomorrow)}"))
        db.session.commit()
    assert not partition_exists(app, tomorrow)

    pruner = retention.start_pruning(app)
    try:
        wait_for(lambda: partition_exists(app, tomorrow), sleep=gevent.sleep)
    finally:
        pruner.kill()


@on_postgresql
def test_pruning_gives_up_rather_than_hold_bookings_behind_a_long_read(app, monkeypatch):
    monkeypatch.setattr(partitions, "TABLE_LOCK_TIMEOUT", "100ms")
    day = utcnow().date() - timedelta(days=3)
    make_partitions_from(app, day)
    with app.app_context(), db.engine.connect() as reader:
        # Its transaction holds a lock on `events` that dropping a partition must wait for.
        reader.execute(text("SELECT count(*) FROM events"))
        with pytest.raises(OperationalError, match="lock timeout"):
            retention.prune_expired()
        db.session.rollback()
        reader.rollback()

    assert partition_exists(app, day)
    with app.app_context():
        retention.prune_expired()
    assert not partition_exists(app, day)
