"""Each user's replay budget: events a minute read back from the log, then streams start live."""

from __future__ import annotations

import pytest

from everfresh.eventlog.models import Event
from everfresh.extensions import db
from everfresh.sse.broker import Broker
from everfresh.sse.budget import RedisReplayBudget, ReplayBudget
from everfresh.sse.frames import connection_established_frame, replay_truncated_frame
from everfresh.sse.replay import REPLAY_BUDGET_KEY
from tests.dates import in_days

BUDGET = 5


@pytest.fixture
def book(client, login_as, tenants):
    """Create a booking in the demo company EverFresh and return its event id."""
    tenant = tenants["everfresh"]

    def create() -> int:
        answer = client.post(
            "/bookings",
            headers=login_as("staff"),
            json={
                "customer_id": tenant.customer_id,
                "service_id": tenant.service_id,
                "scheduled_date": in_days(1),
                "scheduled_time_start": "09:30",
            },
        )
        assert answer.status_code == 201
        with client.application.app_context():
            return db.session.scalars(
                db.select(Event.id).where(Event.payload.contains(answer.json["booking_id"]))
            ).one()

    return create


@pytest.fixture
def budget(app) -> ReplayBudget:
    """Give the app's users a budget of BUDGET events a minute, counted in this process."""
    budget = app.extensions[REPLAY_BUDGET_KEY] = ReplayBudget(BUDGET)
    return budget


def frames_of(response):
    pending = b""
    for chunk in response.response:
        pending += chunk
        while b"\n\n" in pending:
            frame, _, pending = pending.partition(b"\n\n")
            yield frame + b"\n\n"


def resume(client, headers, after: int):
    response = client.get(
        "/sse/events", headers={**headers, "Last-Event-ID": str(after)}, buffered=False
    )
    assert response.status_code == 200
    return response, frames_of(response)


def ids_of(frames, count: int) -> list[int]:
    return [int(next(frames).split(b"\n")[0].removeprefix(b"id: ")) for _ in range(count)]


def test_replays_from_the_log_past_the_budget_start_live_with_replay_truncated(
    client, login_as, book, budget, monkeypatch
):
    # A worker that did not hear the events itself reads them from the log.
    monkeypatch.setattr(Broker, "tail_is_complete", lambda _broker: False)
    events = [book() for _ in range(BUDGET + 3)]
    headers = login_as("staff")

    first, frames = resume(client, headers, 0)
    assert next(frames) == connection_established_frame(0)
    assert ids_of(frames, BUDGET) == events[:BUDGET]
    assert next(frames) == replay_truncated_frame(events[-1])
    first.close()
    assert budget.remaining(_user_id(client, headers)) == 0

    # The budget is spent: the next replay from the log starts live at once.
    second, frames = resume(client, headers, events[0])
    assert next(frames) == connection_established_frame(events[0])
    assert next(frames) == replay_truncated_frame(events[-1])
    second.close()


def test_the_budget_is_the_users_own(client, login_as, book, budget, monkeypatch):
    monkeypatch.setattr(Broker, "tail_is_complete", lambda _broker: False)
    events = [book() for _ in range(BUDGET + 1)]
    spender, frames = resume(client, login_as("staff"), 0)
    assert next(frames) == connection_established_frame(0)
    assert ids_of(frames, BUDGET) == events[:BUDGET]
    spender.close()

    other, frames = resume(client, login_as("admin"), events[0])
    assert next(frames) == connection_established_frame(events[0])
    assert ids_of(frames, BUDGET) == events[1:]
    other.close()


def test_resumes_served_from_the_workers_recent_events_cost_nothing(client, login_as, book, budget):
    events = [book() for _ in range(BUDGET + 3)]
    headers = login_as("staff")
    # Far more than the budget, replayed again and again: each from the worker's own tail.
    for _ in range(4):
        response, frames = resume(client, headers, events[0])
        assert next(frames) == connection_established_frame(events[0])
        assert ids_of(frames, len(events) - 1) == events[1:]
        response.close()
    assert budget.remaining(_user_id(client, headers)) == BUDGET


def _user_id(client, headers) -> str:
    return client.get("/auth/me", headers=headers).json["id"]


def test_the_budget_rolls_over_each_minute(monkeypatch):
    now = [600.0]
    monkeypatch.setattr("everfresh.sse.budget.time.time", lambda: now[0])
    budget = ReplayBudget(10)
    budget.spend("user_1", 7)
    assert budget.remaining("user_1") == 3
    assert budget.remaining("user_2") == 10
    budget.spend("user_1", 7)
    assert budget.remaining("user_1") == 0
    now[0] += 60
    assert budget.remaining("user_1") == 10


def test_every_worker_counts_a_user_in_one_redis_budget(redis_url, redis_prefix):
    first = RedisReplayBudget(10, redis_url, redis_prefix)
    second = RedisReplayBudget(10, redis_url, redis_prefix)
    first.spend("user_1", 4)
    second.spend("user_1", 4)
    assert first.remaining("user_1") == second.remaining("user_1") == 2
    second.spend("user_1", 4)
    assert first.remaining("user_1") == 0
    assert first.remaining("user_2") == 10


def test_while_redis_is_unreachable_each_worker_counts_alone(caplog):
    # Nothing listens on port 9 (discard) of the loopback interface.
    budget = RedisReplayBudget(10, "redis://127.0.0.1:9/0", "unreachable")
    budget.spend("user_1", 8)
    assert budget.remaining("user_1") == 2
    assert "Replay budget counted in this worker" in caplog.text
