"""Read missed events back out of the event log for a reconnecting stream."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, request

from everfresh.eventlog.models import Event
from everfresh.eventlog.partitions import (
    DEFAULT_PARTITION,
    drop_partitions_before,
    ensure_partitions,
)
from everfresh.extensions import db
from everfresh.sse.broker import Envelope
from everfresh.sse.frames import booking_frame
from everfresh.timestamps import utcnow

# The largest id the event log's BIGINT column can hold.
MAX_EVENT_ID = 2**63 - 1


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


def replay_since(event_id: int, company_id: str | None) -> list[tuple[int, bytes]]:
    """Return (id, frame) for each logged event after `event_id` in the scope, oldest first."""
    query = db.select(Event.id, Event.type, Event.payload).where(Event.id > event_id)
    if company_id is not None:
        query = query.where(Event.company_id == company_id)
    rows = db.session.execute(query.order_by(Event.id)).all()
    return [(row.id, booking_frame(row.id, row.type, row.payload)) for row in rows]


def events_since(moment: datetime) -> list[Envelope]:
    """Return every event logged since `moment`, oldest first, ready to deliver."""
    rows = db.session.execute(
        db.select(Event.id, Event.company_id, Event.sequence, Event.type, Event.payload)
        .where(Event.created_at >= moment)
        .order_by(Event.id)
    ).all()
    return [
        Envelope(row.company_id, row.id, row.sequence, booking_frame(row.id, row.type, row.payload))
        for row in rows
    ]


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
