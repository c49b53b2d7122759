"""Write Server-Sent Events frames exactly as the customer's real-time events document specifies."""

from __future__ import annotations

import json
import random

CONNECTION_ESTABLISHED_MESSAGE = {
    "type": "connection_established",
    "message": "Connected to SSE server",
}
SERVER_SHUTDOWN_MESSAGE = {"message": "Server shutting down"}
REPLAY_TRUNCATED_MESSAGE = "Too many missed events to replay; reload the list, then listen live."
# Clients wait a random time in this range before reconnecting after a shutdown or drain,
# so a deploy does not bring every browser back in the same instant.
RECONNECT_JITTER_MS = (1_000, 5_000)


def format_frame(
    data: str,
    event: str | None = None,
    event_id: int | None = None,
    retry_ms: int | None = None,
) -> bytes:
    """Return one SSE frame: optional `retry:`, `id:` and `event:` lines, the data, a blank line."""
    lines = []
    if retry_ms is not None:
        lines.append(f"retry: {retry_ms}")
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if event is not None:
        lines.append(f"event: {event}")
    lines.extend(f"data: {line}" for line in data.split("\n"))
    return ("\n".join(lines) + "\n\n").encode()


def as_json(message: dict) -> str:
    """Serialise a control message compactly, as the wire format shows it."""
    return json.dumps(message, separators=(",", ":"))


def jittered_retry_ms() -> int:
    """Return a reconnection delay picked at random within the jitter range."""
    return random.randint(*RECONNECT_JITTER_MS)


class EventFrame(bytes):
    """The frame of a logged event, carrying the event's id and its company's sequence number.

    One frame object goes to every stream of its company, and each stream checks the numbers
    to send every event of its scope once and in order: reading them off the object costs a
    tenth of parsing them out of the bytes, once per stream for every event.
    """

    event_id: int
    sequence: int

    @classmethod
    def of(cls, frame: bytes, event_id: int, sequence: int) -> EventFrame:
        """Return `frame`, the frame of event `event_id`, carrying its numbers."""
        tagged = cls(frame)
        tagged.event_id = event_id
        tagged.sequence = sequence
        return tagged


def booking_frame(event_id: int, sequence: int, event_type: str, payload: str) -> EventFrame:
    """Return the frame of a logged event, reusing its stored JSON payload as is."""
    frame = format_frame(payload, event=event_type, event_id=event_id)
    return EventFrame.of(frame, event_id, sequence)


def server_shutdown_frame() -> bytes:
    """Return the goodbye frame, with a jittered `retry:` so reconnections spread out."""
    return format_frame(
        as_json(SERVER_SHUTDOWN_MESSAGE), event="server_shutdown", retry_ms=jittered_retry_ms()
    )


def replay_truncated_frame(last_event_id: int) -> bytes:
    """Return the frame that ends a capped replay: reload the list; events after the id follow.

    It has no `id:` line, so the client's resume point stays at the last event it really
    received: one that drops before acting on it is told again when it reconnects.
    """
    message = {"message": REPLAY_TRUNCATED_MESSAGE, "last_event_id": last_event_id}
    return format_frame(as_json(message), event="replay_truncated")


def retry_only_frame() -> bytes:
    """Return a frame with only a jittered `retry:`: a draining server's answer to a new stream."""
    return f"retry: {jittered_retry_ms()}\n\n".encode()


def connection_established_frame(resume_from: int) -> bytes:
    """Return the greeting, whose `id:` is where the stream resumes if it drops before any event.

    An EventSource that received nothing else would otherwise reconnect without a last id
    and miss whatever was committed while it was away.
    """
    return format_frame(as_json(CONNECTION_ESTABLISHED_MESSAGE), event_id=resume_from)


KEEP_ALIVE = b": keep-alive\n\n"
