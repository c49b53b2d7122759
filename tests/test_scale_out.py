"""Run several workers and hosts on one PostgreSQL and one Redis, and check they act as one."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.dates import in_days
from tests.live import SSEStream, prepare_database

pytestmark = pytest.mark.live


def open_streams(server, token: str, count: int) -> list[SSEStream]:
    streams = []
    for _ in range(count):
        stream = server.stream(token)
        assert stream.status == 200
        assert stream.next_frame(timeout=10).data is not None
        streams.append(stream)
    return streams


def booking_ids(stream: SSEStream, count: int, timeout: float = 10) -> list[str]:
    received = []
    while len(received) < count:
        frame = stream.next_event(timeout=timeout)
        assert frame is not None, f"stream closed after {received}"
        assert frame.event == "booking_created"
        received.append(frame.json["booking_id"])
    return received


def test_four_workers_deliver_every_booking_to_every_stream_once(
    live_server, postgres_url, redis_url, redis_prefix
):
    prepare_database(postgres_url)
    server = live_server(
        postgres_url,
        WEB_CONCURRENCY="4",
        REDIS_URL=redis_url,
        REDIS_PREFIX=redis_prefix,
        SSE_MAX_STREAMS_PER_USER="100",
    )
    token = server.login("staff@everfresh.test")
    streams = open_streams(server, token, 40)
    # /metrics sums every worker's figures (prometheus-client's multi-process mode).
    assert server.metric("everfresh_open_streams") == 40

    created = [server.create_booking(token)["booking_id"] for _ in range(5)]
    # A later booking as a marker: a duplicate of the five would arrive before it.
    marker = server.create_booking(token)["booking_id"]

    for stream in streams:
        assert booking_ids(stream, 6) == [*created, marker]
        stream.close()
    assert server.metric("everfresh_events_published_total") == 6
    assert server.metric("everfresh_events_delivered_total") == 6 * 40


def test_two_instances_sharing_postgres_and_redis_act_as_one(
    live_server, postgres_url, redis_url, redis_prefix
):
    prepare_database(postgres_url)
    settings = {"WEB_CONCURRENCY": "2", "REDIS_URL": redis_url, "REDIS_PREFIX": redis_prefix}
    first = live_server(postgres_url, **settings)
    second = live_server(postgres_url, **settings)
    token = first.login("staff@everfresh.test")
    on_first = open_streams(first, token, 3)
    on_second = open_streams(second, token, 3)

    created = [
        first.create_booking(token)["booking_id"],
        second.create_booking(token)["booking_id"],
    ]

    for stream in on_first + on_second:
        assert booking_ids(stream, 2) == created
        stream.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_simultaneous_bookings_get_distinct_consecutive_numbers(
    live_server, tmp_path, redis_url, redis_prefix, backend, request
):
    if backend == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'numbers.sqlite3'}"
    else:
        database_url = request.getfixturevalue("postgres_url")
    prepare_database(database_url)
    server = live_server(
        database_url, WEB_CONCURRENCY="2", REDIS_URL=redis_url, REDIS_PREFIX=redis_prefix
    )
    token = server.login("staff@everfresh.test")
    customer = server.request("GET", "/customers", token=token).body["items"][0]["id"]
    service = server.request("GET", "/services", token=token).body["items"][0]["id"]

    def book(_: int) -> str:
        return server.create_booking(token, customer_id=customer, service_id=service)[
            "booking_number"
        ]

    with ThreadPoolExecutor(max_workers=50) as pool:
        numbers = list(pool.map(book, range(50)))

    assert sorted(numbers) == [f"BK-{n}" for n in range(1001, 1051)]


def test_streams_survive_a_redis_outage_and_catch_up_afterwards(live_server, private_redis):
    server = live_server(
        SSE_HEARTBEAT_SECONDS="1", WEB_CONCURRENCY="2", REDIS_URL=private_redis.url
    )
    token = server.login("staff@everfresh.test")
    streams = open_streams(server, token, 4)
    before = server.create_booking(token)["booking_id"]
    for stream in streams:
        assert booking_ids(stream, 1) == [before]

    private_redis.stop()
    started = time.monotonic()
    during = [server.create_booking(token)["booking_id"] for _ in range(3)]
    # The API kept answering: three bookings committed while Redis was down.
    assert time.monotonic() - started < 10
    for stream in streams:
        heartbeat = stream.next_frame(timeout=5)
        assert heartbeat is not None and heartbeat.comments == ["keep-alive"]

    private_redis.start()
    for stream in streams:
        assert booking_ids(stream, 3, timeout=20) == during
    after = server.create_booking(token)["booking_id"]
    for stream in streams:
        assert booking_ids(stream, 1) == [after]
        stream.close()


@pytest.mark.parametrize("way", ["create", "assign"])
@pytest.mark.parametrize(
    ("backend", "workers"), [("sqlite", "1"), ("sqlite", "2"), ("postgresql", "2")]
)
def test_simultaneous_bookings_of_one_staff_member_have_one_winner(
    live_server, tmp_path, redis_url, redis_prefix, backend, workers, way, request
):
    if backend == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'rules.sqlite3'}"
    else:
        database_url = request.getfixturevalue("postgres_url")
    prepare_database(database_url)
    server = live_server(
        database_url, WEB_CONCURRENCY=workers, REDIS_URL=redis_url, REDIS_PREFIX=redis_prefix
    )
    token = server.login("admin@everfresh.test")
    staff_id = server.request("GET", "/staff", token=token).body["items"][0]["id"]
    fields = {
        "customer_id": server.request("GET", "/customers", token=token).body["items"][0]["id"],
        "service_id": server.request("GET", "/services", token=token).body["items"][0]["id"],
        "scheduled_date": in_days(2),
        "scheduled_time_start": "10:00",
    }
    # Twelve requests at once give the staff member a booking at the same time: twelve new
    # bookings, or twelve unassigned ones made beforehand.
    unassigned = [server.create_booking(token, **fields)["booking_id"] for _ in range(12)]

    def send(number: int) -> int:
        if way == "create":
            body = {**fields, "staff_id": staff_id}
            return server.request("POST", "/bookings", body, token=token).status
        path = f"/bookings/{unassigned[number]}"
        return server.request("PATCH", path, {"staff_id": staff_id}, token=token).status

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = sorted(pool.map(send, range(12)))

    winner = 201 if way == "create" else 200
    assert statuses == [winner] + [409] * 11
    listed = server.request("GET", "/bookings?limit=100", token=token).body["items"]
    assert [booking["staff_id"] for booking in listed].count(staff_id) == 1
