"""A deploy's reconnect storm: every client back at once, each served in full and checked."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable

import gevent
import pytest
from flask import Flask

from everfresh import redis_clients
from everfresh.auth.denylist import RedisDenylist
from everfresh.batching import Batcher
from everfresh.redis_clients import RedisBusy
from everfresh.sse.shared_reads import SharedReads
from tests.live import LiveServer, prepare_database

# Streams resuming at once in the functional storm, and the bookings each resumes from.
STORM_STREAMS = 300
MISSED_EVENTS = 20
UNCHECKED = "accepting access token unchecked"


def test_callers_arriving_during_a_lookup_share_the_next_one():
    batches: list[list[int]] = []

    def look_up(items: list[int]) -> list[int]:
        batches.append(items)
        gevent.sleep(0.01)  # A round trip: others arrive meanwhile.
        return [item * 10 for item in items]

    batcher = Batcher(look_up)
    callers = [gevent.spawn(batcher.ask, item) for item in range(50)]
    gevent.joinall(callers, raise_error=True)

    assert [caller.value for caller in callers] == [item * 10 for item in range(50)]
    # The first caller looks up at once, alone; everyone who came meanwhile goes next, together.
    assert batches == [[0], list(range(1, 50))]
    assert batcher.ask(7) == 70


def test_a_failed_lookup_fails_each_of_its_callers_and_no_later_one():
    failing = [True]

    def look_up(items: list[str]) -> list[str]:
        gevent.sleep(0.01)
        if failing[0]:
            failing[0] = False
            raise ConnectionError("down")
        return items

    batcher = Batcher(look_up)
    first = gevent.spawn(batcher.ask, "a")
    gevent.sleep(0)
    second = gevent.spawn(batcher.ask, "b")
    gevent.joinall([first, second])

    assert isinstance(first.exception, ConnectionError)
    assert second.value == "b"


def test_streams_resuming_one_point_together_read_each_page_once(app: Flask):
    reads: list[tuple[int, str | None, int]] = []

    def read_page(event_id: int, company_id: str | None, limit: int) -> list[tuple[int, bytes]]:
        reads.append((event_id, company_id, limit))
        gevent.sleep(0.01)
        return [(event_id + 1, b"frame")]

    shared = SharedReads(app)
    asks = [("comp_a", 5)] * 30 + [("comp_b", 5)] * 10 + [("comp_a", 7)] * 10
    readers = [gevent.spawn(shared.page, read_page, company, after, 200) for company, after in asks]
    gevent.joinall(readers, raise_error=True)

    assert [reader.value for reader in readers] == [[(after + 1, b"frame")] for _, after in asks]
    # The first reader's own read, then one read per distinct page for all who came meanwhile.
    assert sorted(reads) == sorted(
        [(5, "comp_a", 200), (5, "comp_a", 200), (5, "comp_b", 200), (7, "comp_a", 200)]
    )


@pytest.fixture
def tiny_pool(monkeypatch):
    """Make Redis clients built from now on hold one connection and wait 0.2 s for it."""
    monkeypatch.setattr(redis_clients, "POOL_CONNECTIONS", 1)
    monkeypatch.setattr(redis_clients, "POOL_WAIT_SECONDS", 0.2)


def hold_the_only_connection(denylist: RedisDenylist) -> Callable[[], None]:
    """Take the denylist's one pooled connection; return what gives it back."""
    pool = denylist._redis.connection_pool
    connection = pool.get_connection()
    return lambda: pool.release(connection)


def test_a_busy_denylist_makes_requests_wait_and_never_accepts_a_token_unchecked(
    app, client, login_as, redis_url, redis_prefix, tiny_pool, caplog
):
    denylist = app.extensions["everfresh.denylist"] = RedisDenylist(redis_url, redis_prefix)
    give_back = hold_the_only_connection(denylist)

    busy = client.get("/auth/me", headers=login_as("staff"))
    give_back()
    free = client.get("/auth/me", headers=login_as("staff"))

    assert busy.status_code == 503
    assert busy.json["error"]["message"] == "Token checks are busy; try again shortly."
    assert free.status_code == 200
    assert UNCHECKED not in caplog.text


def test_a_stream_meeting_a_busy_denylist_is_told_to_come_back(
    app, client, login_as, redis_url, redis_prefix, tiny_pool, caplog
):
    denylist = app.extensions["everfresh.denylist"] = RedisDenylist(redis_url, redis_prefix)
    give_back = hold_the_only_connection(denylist)

    response = client.get("/sse/events", headers=login_as("staff"))
    give_back()

    # EventSource gives up for good after a non-200: a 200 holding only `retry:` brings it back.
    assert response.status_code == 200
    assert re.fullmatch(rb"retry: \d+\n\n", response.data)
    assert UNCHECKED not in caplog.text


def test_a_pool_that_waited_its_turn_is_no_outage(redis_url, redis_prefix, tiny_pool):
    denylist = RedisDenylist(redis_url, redis_prefix)
    denylist._redis.set(f"{redis_prefix}:revoked-token:jti-1", 1, ex=60)

    # Given back within the wait: the check waits for the connection and answers.
    release = threading.Timer(0.05, hold_the_only_connection(denylist))
    release.start()
    assert denylist.is_denied("jti-1") is True
    release.join()
    # Held past the wait: busy, which is neither a revoked token nor a Redis outage.
    give_back = hold_the_only_connection(denylist)
    with pytest.raises(RedisBusy):
        denylist.is_denied("jti-1")
    give_back()


def test_the_guard_checks_open_streams_again_when_the_denylist_was_busy(
    app, client, login_as, redis_url, redis_prefix, tiny_pool, caplog
):
    response = client.get("/sse/events", headers=login_as("staff"), buffered=False)
    frames = iter(response.response)
    next(frames)
    denylist = app.extensions["everfresh.denylist"] = RedisDenylist(redis_url, redis_prefix)
    give_back = hold_the_only_connection(denylist)

    guard = app.extensions["everfresh.stream_guard"]
    assert guard.check_once() == 0
    give_back()
    assert "Denylist busy; stream tokens re-checked next time" in caplog.text
    # Logged out meanwhile: the next round finds it, now that Redis answers.
    subscriber = next(iter(app.extensions["everfresh.broker"].subscribers()))
    denylist._redis.set(f"{redis_prefix}:revoked-token:{subscriber.token_id}", 1, ex=60)
    assert guard.check_once() == 1
    assert list(frames) == []


def test_streams_during_a_redis_outage_go_on_unchecked_as_documented(app, client, login_as, caplog):
    # Nothing listens on port 9 (discard) of the loopback interface.
    app.extensions["everfresh.denylist"] = RedisDenylist("redis://127.0.0.1:9/0", "unreachable")

    response = client.get("/sse/events", headers=login_as("staff"), buffered=False)

    assert response.status_code == 200
    assert next(iter(response.response)).endswith(b'Connected to SSE server"}\n\n')
    assert "Denylist unreachable; accepting access token unchecked" in caplog.text
    response.close()


def open_raw_stream(port: int, token: str, last_event_id: int) -> socket.socket:
    """Send a stream request and return the socket without waiting for the answer."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=30)
    connection.sendall(
        (
            f"GET /sse/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Accept: text/event-stream\r\nAuthorization: Bearer {token}\r\n"
            f"Last-Event-ID: {last_event_id}\r\n\r\n"
        ).encode()
    )
    return connection


def read_answer(connection: socket.socket, events: int) -> tuple[int, list[dict]]:
    """Read a stream's status and its frames until the greeting and `events` events arrived."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = connection.recv(65536)
        assert chunk, f"closed before the head: {raw!r}"
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    frames: list[dict] = []
    deadline = time.monotonic() + 60
    while True:
        frames = parse_frames(body, chunked=b"chunked" in head.lower())
        if status != 200 or len([f for f in frames if f.get("event")]) >= events:
            break
        if time.monotonic() > deadline:
            break
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    connection.close()
    if status != 200:
        length = int(re.search(rb"content-length: (\d+)", head.lower()).group(1))
        return status, [json.loads(body[:length])]
    return status, frames


def parse_frames(body: bytes, chunked: bool) -> list[dict]:
    if chunked:
        data, position = b"", 0
        while (end := body.find(b"\r\n", position)) >= 0:
            size = int(body[position:end], 16)
            if size == 0 or len(body) < end + 2 + size:
                break
            data += body[end + 2 : end + 2 + size]
            position = end + 2 + size + 2
        body = data
    frames = []
    for raw in body.split(b"\n\n")[:-1]:
        fields = dict(line.split(": ", 1) for line in raw.decode().split("\n") if ": " in line)
        frames.append(fields)
    return frames


def test_a_storm_of_resumes_is_served_in_full_with_every_token_checked(
    live_server, postgres_url, redis_url, redis_prefix
):
    prepare_database(postgres_url)
    server: LiveServer = live_server(
        postgres_url,
        REDIS_URL=redis_url,
        REDIS_PREFIX=redis_prefix,
        SSE_MAX_STREAMS_PER_USER="1000",
        # One connection (and one overflow) for the whole storm: no stream may need its own.
        DATABASE_POOL_SIZE="1",
        LOG_LEVEL="WARNING",
    )
    token = server.login("staff@everfresh.test")
    revoked = server.login("staff@everfresh.test")
    assert server.request("POST", "/auth/logout", token=revoked).status == 204
    with server.stream(token) as first:
        position = int(first.next_frame().id)
    missed = [server.create_booking(token)["booking_id"] for _ in range(MISSED_EVENTS)]

    # Every request is on the wire before the server answers the first.
    tokens = [revoked if index == STORM_STREAMS // 2 else token for index in range(STORM_STREAMS)]
    connections = [open_raw_stream(server.port, each, position) for each in tokens]
    answers = [read_answer(connection, MISSED_EVENTS) for connection in connections]

    refused = answers.pop(STORM_STREAMS // 2)
    assert refused == (
        401,
        [{"error": {"code": 401, "name": "Unauthorized", "message": "Token has been revoked."}}],
    )
    for status, frames in answers:
        assert status == 200
        greeting, *events = frames
        assert greeting == {
            "id": str(position),
            "data": '{"type":"connection_established","message":"Connected to SSE server"}',
        }
        assert [json.loads(event["data"])["booking_id"] for event in events] == missed
    log = server.log()
    assert UNCHECKED not in log
    assert "QueuePool limit" not in log
