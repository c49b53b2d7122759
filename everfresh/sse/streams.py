"""Turn a subscription into the byte stream a browser's EventSource reads."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

from everfresh.metrics import EVENTS_REPLAYED, STREAM_LIFETIME
from everfresh.sse.broker import Closed, Subscriber
from everfresh.sse.frames import (
    EventFrame,
    connection_established_frame,
    server_shutdown_frame,
)


def stream_frames(
    subscriber: Subscriber,
    resume_from: int,
    replay: Iterable[list[tuple[int, bytes]]],
    on_close: Callable[[], None],
) -> Iterator[bytes]:
    """Yield the greeting, the replayed pages, then live frames and heartbeats until the end.

    The greeting's id is `resume_from`: the client's last id, or the log's position when
    the stream subscribed. `replay` gives (id, frame) pages, read lazily so that only one
    page at a time is in memory. Live frames up to the last replayed id (or up to
    `resume_from`) were sent by the replay or are older than the stream, so they are
    skipped: the hand-over has neither gap nor duplicate. The stream ends when the server
    shuts down, when the subscriber overflows or loses access, or when the access token
    expires (the client reconnects with a fresh one). `on_close` runs however the stream
    ends, the client's hang-up included.
    """
    already_sent = resume_from
    opened = time.monotonic()
    try:
        chunk = connection_established_frame(resume_from)
        for page in replay:
            # The greeting goes out with the first page: one write, as before paging.
            yield chunk + b"".join(frame for _, frame in page)
            chunk = b""
            already_sent = max(already_sent, page[-1][0])
            EVENTS_REPLAYED.inc(sum(frame.startswith(b"id: ") for _, frame in page))
        if chunk:
            yield chunk
        while True:
            frames = subscriber.next_frames()
            if frames is Closed.SHUTDOWN:
                yield server_shutdown_frame()
                return
            if isinstance(frames, Closed):
                return
            # Cheap, and a late frame (a catch-up after a Redis outage) can come at any time.
            frames = [
                frame
                for frame in frames
                if type(frame) is not EventFrame or frame.event_id > already_sent
            ]
            if frames:
                yield b"".join(frames)
    finally:
        STREAM_LIFETIME.observe(time.monotonic() - opened)
        subscriber.finish()
        on_close()
