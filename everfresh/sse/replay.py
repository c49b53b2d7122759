"""Read missed events back out of the event log for a reconnecting stream."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import Flask, current_app, request

from everfresh.errors import DATABASE_UNAVAILABLE
from everfresh.eventlog.models import Event, LogPosition, log_position_of
from everfresh.eventlog.partitions import (
    DEFAULT_PARTITION,
    drop_partitions_before,
    ensure_partitions,
)
from everfresh.extensions import db
from everfresh.sse.broker import Closed, Envelope, Subscriber
from everfresh.sse.frames import (
    EventFrame,
    booking_frame,
    replay_truncated_frame,
    retry_only_frame,
)
from everfresh.timestamps import utcnow

log = logging.getLogger(__name__)

# The largest id the event log's BIGINT column can hold.
MAX_EVENT_ID = 2**63 - 1
# Where the app keeps the per-user replay budget and the shared log reads (see sse/__init__).
REPLAY_BUDGET_KEY = "everfresh.replay_budget"
SHARED_READS_KEY = "everfresh.shared_reads"
# Events read per query when replaying: bounds a stream's memory and lets other requests
# run between pages.
REPLAY_PAGE_SIZE = 200


def last_event_id() -> int | None:
    """Return the id the client last saw (`Last-Event-ID` header or `?lastEventId=`), if usable.

    A value that is not a non-negative integer within the id column's range is ignored, as
    if the client were new.
    """
    raw = (request.headers.get("Last-Event-ID") or request.args.get("lastEventId") or "").strip()
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    if not raw.isdecimal() or len(raw) > len(str(MAX_EVENT_ID)) or int(raw) > MAX_EVENT_ID:
        return None
    return int(raw)


def replay_window_start() -> datetime:
    """Return the oldest moment whose events are still promised for replay."""
    return utcnow() - timedelta(hours=current_app.config["SSE_REPLAY_HOURS"])


class Page(NamedTuple):
    """Frames a replay sends in one write, and where the stream stands once they are sent."""

    frames: list[bytes]
    position: LogPosition
    events: int


def replay_since(event_id: int, company_id: str | None, limit: int) -> list[EventFrame]:
    """Return the frames of up to `limit` events after `event_id` in the scope, oldest first."""
    query = db.select(Event.id, Event.sequence, Event.type, Event.payload).where(
        Event.id > event_id
    )
    if company_id is not None:
        query = query.where(Event.company_id == company_id)
    rows = db.session.execute(query.order_by(Event.id).limit(limit)).all()
    return [booking_frame(row.id, row.sequence, row.type, row.payload) for row in rows]


def missed_pages(
    app: Flask, subscriber: Subscriber, start: LogPosition, max_events: int
) -> Iterator[Page]:
    """Yield the stream's missed events after `start` a page at a time, oldest first.

    Each page is read in an app context of its own, so no database connection is held
    while the stream writes it. Past `max_events`, the last page ends with the
    `replay_truncated` frame, and the stream goes live from the log's position then
    (though the frame has no `id:` line). The stream's queued live frames are dropped
    before each query, which reads their events from the log anyway, so a long replay never
    overflows the mailbox; frames queued during and after the last query are the live
    hand-over.
    """
    replayed, position = 0, start
    budget = app.extensions.get(REPLAY_BUDGET_KEY)
    shared = app.extensions.get(SHARED_READS_KEY)
    while subscriber.closed is None:
        truncated_at = None
        subscriber.reading_log = True
        try:
            if budget is not None:
                # Past the user's budget the replay stops here, as it does at the cap.
                max_events = min(max_events, replayed + budget.remaining(subscriber.user_id))
            # One row beyond the cap tells whether the log goes on past it.
            limit = min(REPLAY_PAGE_SIZE, max_events - replayed + 1)
            with app.app_context():
                subscriber.discard_queued()
                if shared is not None:
                    page = shared.page(
                        replay_since, subscriber.company_id, position.event_id, limit
                    )
                else:
                    page = replay_since(position.event_id, subscriber.company_id, limit)
                if replayed + len(page) > max_events:
                    page = page[: max_events - replayed]
                    truncated_at = log_position_of(subscriber.company_id)
            if budget is not None:
                budget.spend(subscriber.user_id, len(page))
        except DATABASE_UNAVAILABLE as error:
            # Going live now would leave a gap: end the stream, so the client comes back
            # with its last id, as a new stream is told to while the database is down.
            log.warning("Replay stopped: the database is unavailable (%s)", error)
            subscriber.close(Closed.UNAVAILABLE)
            yield Page([retry_only_frame()], position, 0)
            return
        finally:
            subscriber.reading_log = False
        if page:
            position = LogPosition(page[-1].event_id, page[-1].sequence)
        if truncated_at is not None:
            frames: list[bytes] = [*page, replay_truncated_frame(truncated_at.event_id)]
            yield Page(frames, truncated_at, len(page))
            return
        if page:
            yield Page(list(page), position, len(page))
        if len(page) < limit:
            return
        replayed += len(page)


def read_hole(company_id: str | None, first: int, last: int, waiting: int) -> list[Envelope]:
    """Return the events numbered `first` to `last` of a line, oldest first, from the log.

    A company's line is numbered by its sequence; every company's line (None) by event id.
    `waiting` is the id of the event that came after the hole, which bounds the index scan.
    """
    columns = (Event.id, Event.company_id, Event.sequence, Event.type, Event.payload)
    if company_id is None:
        query = db.select(*columns).where(Event.id.between(first, last)).order_by(Event.id)
        rows = db.session.execute(query).all()
    else:
        # Sequence and id grow together within a company: the hole is the company's events
        # just before the waiting one, read backwards along the (company, id) index.
        query = (
            db.select(*columns)
            .where(Event.company_id == company_id, Event.id < waiting, Event.sequence >= first)
            .order_by(Event.id.desc())
            .limit(last - first + 1)
        )
        rows = [row for row in reversed(db.session.execute(query).all()) if row.sequence <= last]
    return [_envelope(row) for row in rows]


def events_since(moment: datetime) -> list[Envelope]:
    """Return every event logged since `moment`, oldest first, ready to deliver."""
    rows = db.session.execute(
        db.select(Event.id, Event.company_id, Event.sequence, Event.type, Event.payload)
        .where(Event.created_at >= moment)
        .order_by(Event.id)
    ).all()
    return [_envelope(row) for row in rows]


def _envelope(row) -> Envelope:
    frame = booking_frame(row.id, row.sequence, row.type, row.payload)
    return Envelope(row.company_id, row.id, row.sequence, frame)


def prune_events() -> int:
    """Remove events older than the replay window; return how many went.

    On PostgreSQL whole days go, once all of a day is past the window, and the coming days'
    partitions are made; SQLite deletes each expired row.
    """
    window_start = replay_window_start()
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        result = db.session.execute(db.delete(Event).where(Event.created_at < window_start))
        return result.rowcount or 0
    ensure_partitions(connection)
    dropped = drop_partitions_before(connection, window_start)
    # Only events of days that had no partition wait here, so this deletes next to nothing.
    strays = connection.execute(
        db.text(f"DELETE FROM {DEFAULT_PARTITION} WHERE created_at < :start"),
        {"start": window_start},
    )
    return dropped + (strays.rowcount or 0)
