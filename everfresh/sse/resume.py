"""Decide where a new stream starts and what it missed: the worker's tail first, then the log."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask

from everfresh.sse.broker import Broker, Subscriber
from everfresh.sse.replay import SHARED_READS_KEY, missed_pages

# How long a stream waits for a worker's first read of the log's recent events, which
# every stream connecting meanwhile then resumes from rather than each reading the log.
TAIL_FILL_WAIT_SECONDS = 2.0

Pages = Iterable[list[tuple[int, bytes]]]


def missed_events(
    app: Flask, broker: Broker, subscriber: Subscriber, after: int | None
) -> tuple[int, Pages]:
    """Return the stream's resume point and the pages of events it missed, for a subscriber.

    A resume the worker's recent events cover is served from them: no database, no budget.
    Otherwise the stream reads the log's position (one read for every stream connecting
    at that moment) and, when it resumes, replays from the log a page at a time.
    """
    max_events = app.config["SSE_REPLAY_MAX_EVENTS"]
    if after is not None:
        recent = broker.recent_events(subscriber.company_id, after, TAIL_FILL_WAIT_SECONDS)
        # More than a replay may send is the log's to cut short, with `replay_truncated`.
        if recent is not None and len(recent) <= max_events:
            return after, [recent] if recent else ()
    position = app.extensions[SHARED_READS_KEY].log_position()
    broker.note_log_position(position)
    if after is None:
        return position, ()
    return after, missed_pages(app, subscriber, after, max_events)
