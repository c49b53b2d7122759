"""Check the wire format of every frame against the customer's real-time events document."""

import json

import pytest

from everfresh.sse.frames import (
    KEEP_ALIVE,
    RECONNECT_JITTER_MS,
    booking_frame,
    connection_established_frame,
    format_frame,
    retry_only_frame,
    server_shutdown_frame,
)
from tests.live import parse_frame


def test_connection_established_is_an_unnamed_message_carrying_the_resume_point():
    assert connection_established_frame(42) == (
        b'id: 42\ndata: {"type":"connection_established","message":"Connected to SSE server"}\n\n'
    )


def test_keep_alive_is_the_documented_comment():
    assert KEEP_ALIVE == b": keep-alive\n\n"


def test_booking_frame_reuses_the_stored_payload_verbatim():
    payload = '{"booking_id":"01J","staff_id":null}'
    assert booking_frame(7, 3, "booking_created", payload) == (
        b'id: 7\nevent: booking_created\ndata: {"booking_id":"01J","staff_id":null}\n\n'
    )


def test_server_shutdown_frame_has_a_jittered_retry():
    frame = parse_frame(server_shutdown_frame().removesuffix(b"\n\n"))
    assert frame.event == "server_shutdown"
    assert frame.json == {"message": "Server shutting down"}
    assert frame.id is None
    low, high = RECONNECT_JITTER_MS
    assert low <= frame.retry <= high
    retries = {parse_frame(server_shutdown_frame()[:-2]).retry for _ in range(50)}
    assert len(retries) > 1


def test_retry_only_frame_carries_no_message():
    frame = parse_frame(retry_only_frame().removesuffix(b"\n\n"))
    assert frame.data is None and frame.event is None
    assert RECONNECT_JITTER_MS[0] <= frame.retry <= RECONNECT_JITTER_MS[1]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"data": "x"}, b"data: x\n\n"),
        ({"data": "x", "event": "e"}, b"event: e\ndata: x\n\n"),
        ({"data": "x", "event_id": 3}, b"id: 3\ndata: x\n\n"),
        ({"data": "x", "retry_ms": 10}, b"retry: 10\ndata: x\n\n"),
        ({"data": "a\nb"}, b"data: a\ndata: b\n\n"),
        ({"data": ""}, b"data: \n\n"),
    ],
)
def test_format_frame(kwargs, expected):
    assert format_frame(**kwargs) == expected


def test_multi_line_data_round_trips_through_a_parser():
    text = json.dumps({"a": 1}, indent=2)
    assert parse_frame(format_frame(text)[:-2]).data == text
