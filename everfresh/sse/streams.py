"""Turn a subscription into the byte stream a browser's EventSource reads."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from everfresh.metrics import EVENTS_REPLAYED
from everfresh.sse.broker import Closed, Subscriber
from everfresh.sse.frames import CONNECTION_ESTABLISHED, server_shutdown_frame


def event_id_of(frame: bytes) -> int:
    """Return the id of a booking frame, which `booking_frame` always writes first."""
    return int(frame[4 : frame.index(b"\n")])


def stream_frames(
    subscriber: Subscriber,
    replay: list[tuple[int, bytes]],
    on_close: Callable[[], None],
) -> Iterator[bytes]:
    """Yield the greeting, the replayed frames, then live frames and heartbeats until the end.

    The stream ends when the server shuts down, when the subscriber overflows or loses
    access, or when the access token expires (the client reconnects with a fresh one).
    Live frames already sent by the replay are skipped, so the hand-over has neither gap
    nor duplicate. `on_close` runs however the stream ends, the client's hang-up included.
    """
    replayed_ids = {event_id for event_id, _ in replay} if replay else None
    try:
        yield CONNECTION_ESTABLISHED + b"".join(frame for _, frame in replay)
        EVENTS_REPLAYED.inc(len(replay))
        while True:
            frames = subscriber.next_frames()
            if frames is Closed.SHUTDOWN:
                yield server_shutdown_frame()
                return
            if isinstance(frames, Closed):
                return
            if replayed_ids:
                frames = [frame for frame in frames if not _replayed(frame, replayed_ids)]
            if frames:
                yield b"".join(frames)
    finally:
        on_close()


def _replayed(frame: bytes, replayed_ids: set[int]) -> bool:
    return frame.startswith(b"id: ") and event_id_of(frame) in replayed_ids
