"""Check that old events and idempotency keys are pruned, on demand and in the background."""

from __future__ import annotations

from datetime import timedelta

import gevent

from everfresh import retention
from everfresh.eventlog.models import Event
from everfresh.extensions import db
from everfresh.timestamps import utcnow
from tests.polling import wait_for


def add_events(app, tenants, ages: list[timedelta]) -> None:
    with app.app_context():
        for age in ages:
            event = Event.record(tenants["everfresh"].company_id, "booking_created", {"n": 1})
            event.created_at = utcnow() - age
        db.session.commit()


def remaining_event_count(app) -> int:
    with app.app_context():
        return len(db.session.scalars(db.select(Event)).all())


def test_prune_expired_keeps_the_replay_window(app, tenants):
    app.config["SSE_REPLAY_HOURS"] = 24
    add_events(app, tenants, [timedelta(hours=25), timedelta(hours=48), timedelta(hours=23)])
    with app.app_context():
        assert retention.prune_expired() == {
            "events": 2,
            "idempotency_keys": 0,
            "revoked_tokens": 0,
        }
    assert remaining_event_count(app) == 1


def test_each_worker_prunes_in_the_background(app, tenants, monkeypatch):
    monkeypatch.setattr(retention, "PRUNE_INTERVAL_SECONDS", 0.05)
    monkeypatch.setattr(retention.random, "uniform", lambda low, high: 0)
    add_events(app, tenants, [timedelta(hours=30)])
    pruner = retention.start_pruning(app)
    try:
        wait_for(lambda: remaining_event_count(app) == 0, sleep=gevent.sleep)
        add_events(app, tenants, [timedelta(hours=30), timedelta(minutes=1)])
        # A prune deletes in one commit: had it taken the recent event too, 2 would become 0.
        wait_for(lambda: remaining_event_count(app) == 1, sleep=gevent.sleep)
    finally:
        pruner.kill()
