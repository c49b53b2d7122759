"""Revoking a token ends every stream opened with it, on every worker, within one heartbeat."""

from __future__ import annotations

import http.client
import json
import time

import pytest

from tests.live import LiveServer, SSEStream, prepare_database

pytestmark = pytest.mark.live

STAFF = "staff@everfresh.test"
# Generous: the guard looks once per heartbeat (1 s here); this only bounds a failing test.
DEADLINE = 15


@pytest.fixture(params=["one worker", "two workers on redis"])
def server(request, live_server) -> LiveServer:
    """Serve with one worker (database denylist), or two sharing PostgreSQL and Redis."""
    if request.param == "one worker":
        return live_server(SSE_HEARTBEAT_SECONDS="1")
    postgres_url = request.getfixturevalue("postgres_url")
    prepare_database(postgres_url)
    return live_server(
        postgres_url,
        SSE_HEARTBEAT_SECONDS="1",
        WEB_CONCURRENCY="2",
        REDIS_URL=request.getfixturevalue("redis_url"),
        REDIS_PREFIX=request.getfixturevalue("redis_prefix"),
    )


def open_streams(server: LiveServer, count: int, **headers: str) -> list[SSEStream]:
    """Open `count` streams with the same credentials (spread over the workers) and greet each."""
    streams = []
    for _ in range(count):
        stream = server.stream(headers=headers)
        assert stream.status == 200
        assert stream.next_event(timeout=10).json["type"] == "connection_established"
        streams.append(stream)
    return streams


def assert_ends(stream: SSEStream) -> None:
    """Wait (up to DEADLINE) for the server to end the stream, reading only heartbeats."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        frame = stream.next_frame(timeout=DEADLINE)
        if frame is None:
            return
        assert frame.comments == ["keep-alive"]
    raise AssertionError(f"the stream was still open after {DEADLINE} s")


def assert_still_open(streams: list[SSEStream], server: LiveServer, token: str) -> None:
    """Check each stream still carries a booking created now, then close it."""
    booking_id = server.create_booking(token)["booking_id"]
    for stream in streams:
        frame = stream.next_event(timeout=DEADLINE)
        assert frame is not None and frame.event == "booking_created"
        assert frame.json["booking_id"] == booking_id
        stream.close()


def test_logout_ends_the_streams_of_that_token_only(server):
    revoked, kept = server.login(STAFF), server.login(STAFF)
    ending = open_streams(server, 4, Authorization=f"Bearer {revoked}")
    staying = open_streams(server, 2, Authorization=f"Bearer {kept}")

    assert server.request("POST", "/auth/logout", token=revoked).status == 204

    for stream in ending:
        assert_ends(stream)
    assert_still_open(staying, server, kept)


def board_cookies(server: LiveServer) -> str:
    """Log the board in with `POST /auth/session` and return its cookies as a Cookie header."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(
            "POST",
            "/auth/session",
            body=json.dumps({"email": STAFF, "password": "everfresh-demo"}),
            headers={"Content-Type": "application/json"},
        )
        answer = connection.getresponse()
        answer.read()
        assert answer.status == 200
        headers = answer.getheaders()
        cookies = [value.split(";")[0] for name, value in headers if name == "Set-Cookie"]
    finally:
        connection.close()
    return "; ".join(cookies)


def test_ending_the_board_session_ends_its_streams_only(server):
    cookies = board_cookies(server)
    other = server.login(STAFF)
    ending = open_streams(server, 4, Cookie=cookies)
    staying = open_streams(server, 2, Authorization=f"Bearer {other}")

    answer = server.request("DELETE", "/auth/session", headers={"Cookie": cookies})
    assert answer.status == 204

    for stream in ending:
        assert_ends(stream)
    assert_still_open(staying, server, other)
