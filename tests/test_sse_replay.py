"""Check replay from the event log: both forms of the last id, odd ids, and the hand-over."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy.exc import OperationalError

from everfresh.eventlog.models import Event, LogPosition
from everfresh.extensions import db
from everfresh.sse.broker import Broker, Closed, RedisBroker
from everfresh.sse.frames import (
    KEEP_ALIVE,
    booking_frame,
    connection_established_frame,
    replay_truncated_frame,
)
from everfresh.sse.replay import Page, missed_pages
from everfresh.sse.streams import stream_frames
from tests.dates import in_days


@pytest.fixture
def book(client, login_as, tenants):
    """Create a booking in a demo company and return its event-log id."""

    def create(company: str = "everfresh") -> int:
        tenant = tenants[company]
        answer = client.post(
            "/bookings",
            headers=login_as("staff", company),
            json={
                "customer_id": tenant.customer_id,
                "service_id": tenant.service_id,
                "scheduled_date": in_days(1),
                "scheduled_time_start": "09:30",
            },
        )
        assert answer.status_code == 201
        return event_id_for(client.application, answer.json["booking_id"])

    return create


def event_id_for(app, booking_id: str) -> int:
    with app.app_context():
        events = db.session.scalars(db.select(Event)).all()
        return next(event.id for event in events if booking_id in event.payload)


def open_stream(client, headers, query: str = ""):
    response = client.get(f"/sse/events{query}", headers=headers, buffered=False)
    assert response.status_code == 200
    return response, frames_of(iter(response.response))


def frames_of(chunks):
    """Split the streamed bytes into frames, however the server grouped them into writes."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        while b"\n\n" in pending:
            frame, _, pending = pending.partition(b"\n\n")
            yield frame + b"\n\n"


def ids_of(frames, count: int) -> list[int]:
    return [int(next(frames).split(b"\n")[0].removeprefix(b"id: ")) for _ in range(count)]


def test_last_event_id_header_replays_later_events_of_the_company_in_order(client, login_as, book):
    seen = book()
    missed = [book(), book("brighthome"), book()]
    response, frames = open_stream(client, {**login_as("staff"), "Last-Event-ID": str(seen)})

    assert next(frames) == connection_established_frame(seen)
    assert ids_of(frames, 2) == [missed[0], missed[2]]
    assert next(frames) == KEEP_ALIVE
    response.close()


def test_last_event_id_query_parameter_replays_too(client, login_as, book):
    seen = book()
    missed = book()
    response, frames = open_stream(client, login_as("admin"), f"?lastEventId={seen}")
    assert next(frames) == connection_established_frame(seen)
    assert next(frames).startswith(f"id: {missed}\nevent: booking_created\n".encode())
    response.close()


def test_superadmin_replay_covers_every_company(client, login_as, book):
    seen = book()
    missed = [book("brighthome"), book()]
    response, frames = open_stream(client, {**login_as("superadmin"), "Last-Event-ID": str(seen)})
    assert next(frames) == connection_established_frame(seen)
    assert ids_of(frames, 2) == missed
    response.close()


@pytest.mark.parametrize("last_id", ["abc", "-1", "1.5", ""])
def test_an_unusable_last_event_id_is_ignored_like_a_fresh_connect(client, login_as, book, last_id):
    position = book()
    response, frames = open_stream(client, {**login_as("staff"), "Last-Event-ID": last_id})
    # Resumes from where the log stood when it subscribed, like a fresh stream.
    assert next(frames) == connection_established_frame(position)
    assert next(frames) == KEEP_ALIVE
    response.close()


def test_an_id_beyond_the_log_resumes_from_the_log_and_streams_what_comes(client, login_as, book):
    position = book()
    response, frames = open_stream(client, {**login_as("staff"), "Last-Event-ID": "999999999"})
    assert next(frames) == connection_established_frame(position)
    later = book()
    assert ids_of(frames, 1) == [later]
    response.close()


def test_an_id_older_than_the_log_replays_everything_still_kept(client, login_as, book):
    kept = [book(), book()]
    response, frames = open_stream(client, {**login_as("staff"), "Last-Event-ID": "0"})
    assert next(frames) == connection_established_frame(0)
    assert ids_of(frames, 2) == kept
    response.close()


def frame(event_id: int, sequence: int | None = None) -> bytes:
    """Return the frame of event `event_id`, its company's `sequence`-th (the id by default)."""
    return booking_frame(event_id, sequence or event_id, "booking_created", "{}")


def no_holes(first: int, last: int, waiting: int) -> list:
    raise AssertionError(f"no hole expected, got {first}-{last} before {waiting}")


def test_hand_over_skips_live_frames_the_replay_already_sent():
    broker = Broker(queue_size=10, heartbeat_seconds=30, heartbeat=KEEP_ALIVE)
    subscriber = broker.subscribe("comp_a", "user_1", time.time() + 3600)
    replay = Page([frame(5), frame(6)], LogPosition(6, 6), 2)
    for event_id in (6, 7):
        broker.deliver("comp_a", frame(event_id))
    closed = []
    frames = stream_frames(
        subscriber, LogPosition(4, 4), [replay], no_holes, lambda: closed.append(True)
    )

    assert next(frames) == connection_established_frame(4) + frame(5) + frame(6)
    assert next(frames) == frame(7)
    subscriber.close(Closed.REVOKED)
    assert list(frames) == []
    assert closed == [True]


def test_hand_over_also_skips_frames_heard_over_redis():
    broker = RedisBroker(10, 30, KEEP_ALIVE, redis_url="redis://127.0.0.1:1/0", prefix="t")
    subscriber = broker.subscribe("comp_a", "user_1", time.time() + 3600)
    for event_id in (6, 7):
        # As the listener hands them on: the bytes after Redis's header, then the envelope.
        broker.deliver_envelope(
            broker.envelope("comp_a", event_id, event_id, bytes(frame(event_id)))
        )
    replay = Page([frame(6)], LogPosition(6, 6), 1)
    frames = stream_frames(subscriber, LogPosition(5, 5), [replay], no_holes, lambda: None)

    assert next(frames) == connection_established_frame(5) + frame(6)
    assert next(frames) == frame(7)
    subscriber.close(Closed.REVOKED)


def test_a_company_stream_counts_by_its_company_sequence_and_reads_a_hole_it_meets():
    broker = Broker(queue_size=10, heartbeat_seconds=30, heartbeat=KEEP_ALIVE)
    subscriber = broker.subscribe("comp_a", "user_1", time.time() + 3600)
    asked = []

    def read_hole(first: int, last: int, waiting: int) -> list:
        asked.append((first, last, waiting))
        return [frame(31, 4), frame(35, 5)]

    # Sequence 3 was the company's last when the stream opened at event 30.
    frames = stream_frames(subscriber, LogPosition(30, 3), [], read_hole, lambda: None)
    assert next(frames) == connection_established_frame(30)
    broker.deliver("comp_a", frame(29, 3))
    broker.deliver("comp_a", frame(40, 6))
    broker.deliver("comp_a", KEEP_ALIVE)
    broker.deliver("comp_a", frame(41, 7))

    assert next(frames) == frame(31, 4) + frame(35, 5) + frame(40, 6) + KEEP_ALIVE + frame(41, 7)
    assert asked == [(4, 5, 40)]
    subscriber.close(Closed.REVOKED)


def test_an_all_company_stream_counts_by_event_id():
    broker = Broker(queue_size=10, heartbeat_seconds=30, heartbeat=KEEP_ALIVE)
    subscriber = broker.subscribe(None, "superadmin", time.time() + 3600)
    frames = stream_frames(
        subscriber, LogPosition(30, 0), [], lambda *hole: [frame(31, 9)], lambda: None
    )
    next(frames)
    broker._deliver_to(broker._all_companies, frame(32, 1))
    assert next(frames) == frame(31, 9) + frame(32, 1)
    subscriber.close(Closed.REVOKED)


def test_a_hole_the_stream_cannot_read_ends_it_with_a_retry_never_past_the_hole():
    broker = Broker(queue_size=10, heartbeat_seconds=30, heartbeat=KEEP_ALIVE)
    subscriber = broker.subscribe("comp_a", "user_1", time.time() + 3600)
    closed = []

    def unavailable(*_hole: int) -> list:
        raise OperationalError("SELECT", {}, ConnectionError("server closed the connection"))

    frames = stream_frames(
        subscriber, LogPosition(30, 3), [], unavailable, lambda: closed.append(True)
    )
    next(frames)
    broker.deliver("comp_a", frame(31, 4))
    broker.deliver("comp_a", frame(33, 6))
    end = next(frames)

    assert end.startswith(frame(31, 4) + b"retry: ") and b"id: 33" not in end
    assert list(frames) == [] and closed == [True]


@pytest.mark.parametrize(("missed", "cap", "replayed"), [(3, 3, 3), (3, 2, 2), (2, 0, 0)])
def test_a_replay_past_its_cap_ends_with_replay_truncated(
    app, client, login_as, book, missed, cap, replayed
):
    app.config["SSE_REPLAY_MAX_EVENTS"] = cap
    events = [book() for _ in range(missed)]
    response, frames = open_stream(client, {**login_as("staff"), "Last-Event-ID": "0"})

    assert next(frames) == connection_established_frame(0)
    assert ids_of(frames, replayed) == events[:replayed]
    if replayed < missed:
        assert next(frames) == replay_truncated_frame(events[-1])
    assert next(frames) == KEEP_ALIVE
    response.close()


def test_a_paged_replay_drops_queued_frames_the_log_holds_so_the_mailbox_never_fills(
    app, book, tenants, monkeypatch
):
    monkeypatch.setattr("everfresh.sse.replay.REPLAY_PAGE_SIZE", 2)
    logged = [book() for _ in range(6)]
    broker = Broker(queue_size=2, heartbeat_seconds=30, heartbeat=KEEP_ALIVE)
    company_id = tenants["everfresh"].company_id
    subscriber = broker.subscribe(company_id, "user_1", time.time() + 3600)
    start = LogPosition(0, 0)
    replay = missed_pages(app, subscriber, start, 100)
    frames = stream_frames(subscriber, start, replay, no_holes, lambda: None)
    with app.app_context():
        sequences = dict(db.session.execute(db.select(Event.id, Event.sequence)).all())

    def late(*event_ids: int) -> None:
        # Live deliveries of logged events, arriving while the replay is still paging.
        for event_id in event_ids:
            sequence = sequences.setdefault(event_id, sequences[event_id - 1] + 1)
            broker.deliver(company_id, frame(event_id, sequence))

    def page_ids() -> list[int]:
        return [int(frame.split(b"\n")[0][4:]) for frame in frames_of([next(frames)])]

    assert next(frames).startswith(connection_established_frame(0))
    for page in (logged[2:4], logged[4:6]):
        late(*page)
        assert page_ids() == page
    last = book()
    late(logged[5], last)
    assert page_ids() == [last]
    # The replay is over: what the mailbox holds now is the live hand-over.
    late(last, last + 1)
    assert next(frames) == frame(last + 1, sequences[last + 1])
    assert subscriber.closed is None


def test_a_replay_the_database_cannot_serve_ends_the_stream_with_a_retry(
    client, login_as, book, monkeypatch
):
    seen = book()
    book()

    def unavailable(*_args: object) -> None:
        raise OperationalError("SELECT", {}, ConnectionError("server closed the connection"))

    monkeypatch.setattr("everfresh.sse.replay.replay_since", unavailable)
    # A worker that did not hear these events itself has to read them from the log.
    monkeypatch.setattr(Broker, "tail_is_complete", lambda _broker: False)
    response, frames = open_stream(client, {**login_as("staff"), "Last-Event-ID": str(seen)})

    assert next(frames) == connection_established_frame(seen)
    assert re.fullmatch(rb"retry: \d+\n\n", next(frames))
    assert list(frames) == []
