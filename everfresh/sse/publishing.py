"""Receive committed events and hand their frames, built once, to the broker."""

from __future__ import annotations

import time
from datetime import datetime

from flask import Flask

from everfresh.eventlog.models import Event, log_position
from everfresh.extensions import db
from everfresh.sse.broker import Envelope
from everfresh.sse.frames import booking_frame
from everfresh.sse.replay import events_since, read_hole
from everfresh.sse.tail import EVENTS_FOR_ALL_COMPANIES


def publish_booking_event(sender: Flask, event: Event) -> None:
    """Publish a committed booking event (created or updated) to every stream of its company."""
    frame = booking_frame(event.id, event.sequence, event.type, event.payload)
    # Announced right after the commit, so now is when it was committed, give or take.
    envelope = Envelope(event.company_id, event.id, event.sequence, frame, time.time())
    sender.extensions["everfresh.broker"].publish(envelope)


def catch_up_from_log(app: Flask, since: datetime) -> list[Envelope]:
    """Read the events logged since `since` for re-delivery after a Redis outage."""
    with app.app_context():
        try:
            return events_since(since)
        finally:
            db.session.remove()


def recent_from_log(app: Flask) -> tuple[int, list[tuple[str, int, int, bytes]]]:
    """Read the log's latest events for a worker's tail: (after, every event after it)."""
    with app.app_context():
        try:
            after = max(0, log_position() - EVENTS_FOR_ALL_COMPANIES)
            rows = db.session.execute(
                db.select(Event.id, Event.company_id, Event.sequence, Event.type, Event.payload)
                .where(Event.id > after)
                .order_by(Event.id)
            ).all()
        finally:
            db.session.remove()
    return after, [
        (
            row.company_id,
            row.id,
            row.sequence,
            booking_frame(row.id, row.sequence, row.type, row.payload),
        )
        for row in rows
    ]


def read_hole_from_log(
    app: Flask, company_id: str | None, first: int, last: int, waiting: int
) -> list[Envelope]:
    """Read the events of a hole in a line (see `replay.read_hole`) for a worker's streams."""
    with app.app_context():
        try:
            return read_hole(company_id, first, last, waiting)
        finally:
            db.session.remove()
