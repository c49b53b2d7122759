"""Turn a subscription into the byte stream a browser's EventSource reads."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator

from everfresh.errors import DATABASE_UNAVAILABLE
from everfresh.eventlog.models import LogPosition
from everfresh.metrics import EVENT_HOLES_READ, EVENTS_REPLAYED, STREAM_LIFETIME
from everfresh.sse.broker import Closed, Subscriber
from everfresh.sse.frames import (
    EventFrame,
    connection_established_frame,
    retry_only_frame,
    server_shutdown_frame,
)
from everfresh.sse.replay import Page

log = logging.getLogger(__name__)

# Reads the events numbered `first` to `last` of the stream's line, given the id of the event
# that came after them: (first, last, waiting id) -> their frames, oldest first.
HoleReader = Callable[[int, int, int], list[EventFrame]]


def stream_frames(
    subscriber: Subscriber,
    start: LogPosition,
    replay: Iterable[Page],
    read_hole: HoleReader,
    on_close: Callable[[], None],
) -> Iterator[bytes]:
    """Yield the greeting, the replayed pages, then live frames and heartbeats until the end.

    The greeting's id is where the stream resumes: the client's last id, or the log's
    position when the stream subscribed. `replay` gives pages read lazily, so only one is in
    memory at a time. Then every live event of the stream's scope goes out once and in
    order, numbered by the company's sequence (by event id for every company's events): an
    earlier number was sent by the replay or is older than the stream and is skipped, and a
    later one than due means the events before it never reached this stream, so they are
    read from the log and sent first. When that read fails the stream ends with a `retry:`,
    so the client resumes by replay: a stream never moves on past a hole, since the later id
    would become its resume point. The stream ends when the server shuts down, when the
    subscriber overflows or loses access, or when the access token expires (the client
    reconnects with a fresh one). `on_close` runs however the stream ends, the client's
    hang-up included.
    """
    by_event_id = subscriber.company_id is None
    position = start
    opened = time.monotonic()
    try:
        chunk = connection_established_frame(start.event_id)
        for page in replay:
            # The greeting goes out with the first page: one write.
            yield chunk + b"".join(page.frames)
            chunk = b""
            position = page.position
            EVENTS_REPLAYED.inc(page.events)
        if chunk:
            yield chunk
        due = (position.event_id if by_event_id else position.sequence) + 1
        while True:
            frames = subscriber.next_frames()
            if frames is Closed.SHUTDOWN:
                yield server_shutdown_frame()
                return
            if isinstance(frames, Closed):
                return
            out: list[bytes] = []
            for frame in frames:
                if type(frame) is not EventFrame:
                    out.append(frame)
                    continue
                number = frame.event_id if by_event_id else frame.sequence
                if number < due:
                    continue
                if number > due:
                    missing = _read_hole(read_hole, due, number - 1, frame.event_id)
                    if missing is None:
                        out.append(retry_only_frame())
                        yield b"".join(out)
                        return
                    out.extend(missing)
                out.append(frame)
                due = number + 1
            if out:
                yield b"".join(out)
    finally:
        STREAM_LIFETIME.observe(time.monotonic() - opened)
        subscriber.finish()
        on_close()


def _read_hole(read_hole: HoleReader, first: int, last: int, waiting: int) -> list[bytes] | None:
    EVENT_HOLES_READ.labels("stream").inc()
    try:
        return list(read_hole(first, last, waiting))
    except DATABASE_UNAVAILABLE as error:
        log.warning("A stream met a hole it cannot read (%s); it resumes by replay", error)
        return None
