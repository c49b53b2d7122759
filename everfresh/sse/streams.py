"""Turn a subscription into the byte stream a browser's EventSource reads."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from everfresh.metrics import EVENTS_REPLAYED
from everfresh.sse.broker import Closed, Subscriber
from everfresh.sse.frames import CONNECTION_ESTABLISHED, KEEP_ALIVE, server_shutdown_frame


def event_id_of(frame: bytes) -> int:
    """Return the id of a booking frame, which `booking_frame` always writes first."""
    return int(frame[4 : frame.index(b"\n")])


def stream_frames(
    subscriber: Subscriber,
    replay: list[tuple[int, bytes]],
    heartbeat_seconds: float,
    expires_at: float,
    on_close: Callable[[], None],
) -> Iterator[bytes]:
    """Yield the greeting, the replayed frames, then live frames and heartbeats until the end.

    The stream ends when the server shuts down, when the subscriber overflows or loses
    access, or when the access token expires (the client reconnects with a fresh one).
    Live frames already sent by the replay are skipped, so the hand-over has neither gap
    nor duplicate. `on_close` runs however the stream ends, the client's hang-up included.
    """
    replayed_ids = {event_id for event_id, _ in replay}
    try:
        yield CONNECTION_ESTABLISHED
        for _, frame in replay:
            yield frame
        EVENTS_REPLAYED.inc(len(replay))
        while True:
            remaining = expires_at - time.time()
            if remaining <= 0:
                return
            item = subscriber.next_frame(min(heartbeat_seconds, remaining))
            if item is None:
                if time.time() < expires_at:
                    yield KEEP_ALIVE
            elif item is Closed.SHUTDOWN:
                yield server_shutdown_frame()
                return
            elif item is Closed.OVERFLOW or item is Closed.REVOKED:
                return
            elif not replayed_ids or event_id_of(item) not in replayed_ids:
                yield item
    finally:
        on_close()
