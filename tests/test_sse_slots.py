"""Give a stream's per-user slot and its place in the open-streams gauge back at hang-up.

Real gunicorn workers sharing Redis; the heartbeat is set far above every deadline here, so
a failed heartbeat write (the old, slow way of noticing a hang-up) cannot be what frees them.
"""

from __future__ import annotations

import socket
import struct
import time

import pytest

from tests.live import LiveServer, SSEStream

pytestmark = pytest.mark.live

HEARTBEAT_SECONDS = "120"
# How long a hang-up may take to be noticed: a fraction of the heartbeat, ample for a busy machine.
NOTICED_WITHIN = 20


@pytest.fixture
def server(live_server, redis_url: str, redis_prefix: str):
    """Return a two-worker server counting stream slots in Redis, two streams per user."""

    def start(max_streams: int) -> LiveServer:
        return live_server(
            REDIS_URL=redis_url,
            REDIS_PREFIX=redis_prefix,
            WEB_CONCURRENCY="2",
            SSE_HEARTBEAT_SECONDS=HEARTBEAT_SECONDS,
            SSE_MAX_STREAMS_PER_USER=str(max_streams),
        )

    return start


def hang_up(stream: SSEStream, how: str) -> None:
    """Close a stream from the client side, with a FIN ("clean") or a RST ("reset")."""
    if how == "reset":
        stream.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    stream.close()


def open_greeted(server: LiveServer, token: str, deadline: float) -> SSEStream:
    """Open a stream, retrying while its user's slots are all taken, and read its greeting."""
    while True:
        stream = server.stream(token)
        if stream.status == 200:
            assert stream.next_frame(timeout=10).data is not None
            return stream
        assert stream.status == 429, stream.status
        stream.close()
        assert time.monotonic() < deadline, "no stream slot came back in time"
        time.sleep(0.1)


def wait_for_gauge(server: LiveServer, expected: float) -> float:
    """Poll everfresh_open_streams until it shows `expected`; return the last value seen."""
    deadline = time.monotonic() + NOTICED_WITHIN
    while (value := server.metric("everfresh_open_streams")) != expected:
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    return value


@pytest.mark.parametrize("how", ["clean", "reset"])
def test_a_stream_hung_up_gives_its_slot_back_at_once(server, how):
    live = server(max_streams=2)
    token = live.login("staff@everfresh.test")

    # A board reloaded five times: each time both of the user's streams hang up and reopen.
    for _ in range(5):
        streams = [open_greeted(live, token, time.monotonic() + NOTICED_WITHIN) for _ in range(2)]
        refused = live.stream(token)
        refused.close()
        assert refused.status == 429
        for stream in streams:
            hang_up(stream, how)

    last = open_greeted(live, token, time.monotonic() + NOTICED_WITHIN)
    last.close()


def test_the_open_streams_gauge_counts_exactly_the_open_streams(server):
    live = server(max_streams=4)
    token = live.login("staff@everfresh.test")
    streams = [open_greeted(live, token, time.monotonic() + 10) for _ in range(4)]
    # Neither a refused stream nor a HEAD holds a stream.
    refused = live.stream(token)
    refused.close()
    assert refused.status == 429
    assert live.request("HEAD", "/sse/events", token=token).status == 200
    assert wait_for_gauge(live, 4) == 4

    hang_up(streams[0], "reset")
    hang_up(streams[1], "reset")
    hang_up(streams[2], "clean")

    assert wait_for_gauge(live, 1) == 1
    # The stream still open was left alone.
    booking = live.create_booking(token)
    assert streams[3].next_event(timeout=10).json["booking_id"] == booking["booking_id"]
    streams[3].close()
    assert wait_for_gauge(live, 0) == 0
