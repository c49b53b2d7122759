"""Decide where a new stream starts and what it missed: the worker's tail first, then the log."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask

from everfresh.eventlog.models import LogPosition
from everfresh.sse.broker import Broker, Subscriber
from everfresh.sse.replay import SHARED_READS_KEY, Page, missed_pages

# How long a stream waits for a worker's first read of the log's recent events, which
# every stream connecting meanwhile then resumes from rather than each reading the log.
TAIL_FILL_WAIT_SECONDS = 2.0


def missed_events(
    app: Flask, broker: Broker, subscriber: Subscriber, after: int | None
) -> tuple[LogPosition, Iterable[Page]]:
    """Return where a subscribed stream starts and the pages of events it missed.

    A resume the worker's recent events cover is served from them: no database, no budget.
    Otherwise the stream reads the log's position (one read for every stream of its company
    connecting at that moment) and, when it resumes, replays from the log a page at a time.
    An id beyond the log's end (a restore from an older backup) resumes from the end:
    anything else would drop every live event up to that id.
    """
    max_events = app.config["SSE_REPLAY_MAX_EVENTS"]
    if after is not None:
        recent = broker.recent_events(subscriber.company_id, after, TAIL_FILL_WAIT_SECONDS)
        # More than a replay may send is the log's to cut short, with `replay_truncated`.
        if recent is not None and len(recent.events) <= max_events:
            if not recent.events:
                return LogPosition(after, recent.sequence), ()
            last = recent.events[-1]
            page = Page(
                [event.frame for event in recent.events],
                LogPosition(last.event_id, last.sequence),
                len(recent.events),
            )
            return LogPosition(after, recent.sequence), [page]
    position = app.extensions[SHARED_READS_KEY].log_position(subscriber.company_id)
    # The company's sequence at `position` is where the stream stands unless the replay
    # finds later events.
    start = position
    if after is not None and after < position.event_id:
        start = LogPosition(after, position.sequence)
    if start.event_id < position.event_id:
        return start, missed_pages(app, subscriber, start, max_events)
    return start, ()
