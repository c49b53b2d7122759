"""Read `GET /sse/events` from a real gunicorn with gevent workers, over a socket."""

from __future__ import annotations

import signal
import time
from datetime import timedelta

import pytest

from tests.assertions import EVENT_KEYS
from tests.dates import midnight_utc
from tests.live import JWT_TEST_KEY, SSEStream
from tests.polling import wait_for

pytestmark = pytest.mark.live

CONNECTED = '{"type":"connection_established","message":"Connected to SSE server"}'


@pytest.fixture
def server(live_server):
    return live_server(SSE_HEARTBEAT_SECONDS="30")


def open_stream(server, email: str, path: str = "/sse/events") -> SSEStream:
    stream = server.stream(server.login(email), path=path)
    assert stream.status == 200
    first = stream.next_frame(timeout=5)
    assert first.data == CONNECTED and first.id is not None
    return stream


def test_stream_answers_with_the_documented_headers_and_greeting_at_once(server):
    token = server.login("staff@everfresh.test")
    started = time.monotonic()
    with server.stream(token) as stream:
        first = stream.next_frame(timeout=5)
        waited = time.monotonic() - started

    assert stream.status == 200
    assert stream.headers["content-type"] == "text/event-stream"
    assert stream.headers["cache-control"] == "no-cache"
    assert stream.headers["x-accel-buffering"] == "no"
    assert "content-encoding" not in stream.headers
    # The demo data holds no events yet: a fresh stream resumes from the log's start.
    assert first.raw == f"id: 0\ndata: {CONNECTED}".encode()
    assert first.event is None
    # Not a timing target: the greeting must not wait for the heartbeat (30 s here).
    assert waited < 10


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer not-a-token"}, 401),
        ({"Authorization": "Basic x"}, 401),
    ],
)
def test_stream_refuses_bad_credentials_with_plain_json(server, headers, status):
    with server.stream(headers=headers) as stream:
        assert stream.status == status
        assert stream.headers["content-type"] == "application/json"
        assert stream.read_json()["error"]["code"] == status


def test_stream_refuses_customers_with_403_json(server):
    with server.stream(server.login("customer@everfresh.test")) as stream:
        assert stream.status == 403
        assert stream.headers["content-type"] == "application/json"
        assert stream.read_json()["error"]["code"] == 403


def test_a_booking_reaches_its_company_streams_and_no_other(server):
    everfresh_token = server.login("staff@everfresh.test")
    brighthome_token = server.login("staff@brighthome.test")
    brighthome_company = server.request("GET", "/auth/me", token=brighthome_token).body[
        "company_id"
    ]
    streams = {
        "everfresh staff": open_stream(server, "staff@everfresh.test"),
        "everfresh admin": open_stream(server, "admin@everfresh.test"),
        "brighthome staff": open_stream(server, "staff@brighthome.test"),
        "superadmin": open_stream(server, "superadmin@everfresh.test"),
        "superadmin on brighthome": open_stream(
            server, "superadmin@everfresh.test", f"/sse/events?company_id={brighthome_company}"
        ),
    }

    booking = server.create_booking(everfresh_token, notes="Ring twice")
    then = server.create_booking(brighthome_token)

    received = {name: stream.next_event(timeout=5) for name, stream in streams.items()}
    for name in ("everfresh staff", "everfresh admin", "superadmin"):
        frame = received[name]
        assert frame.event == "booking_created", name
        assert int(frame.id) > 0
        assert list(frame.json) == EVENT_KEYS
        assert frame.json == {
            "booking_id": booking["booking_id"],
            "booking_number": booking["booking_number"],
            "customer_id": booking["customer_id"],
            "service_id": booking["service_id"],
            "staff_id": None,
            "scheduled_date": midnight_utc(booking["scheduled_date"]),
            "scheduled_time_start": "10:00",
            "status": "pending",
            "created_at": booking["created_at"],
            "company_id": booking["company_id"],
        }
    # The BrightHome streams' first event is BrightHome's booking: EverFresh's never came.
    for name in ("brighthome staff", "superadmin on brighthome"):
        assert received[name].json["booking_id"] == then["booking_id"], name
    assert streams["superadmin"].next_event(timeout=5).json["booking_id"] == then["booking_id"]
    for stream in streams.values():
        stream.close()


def test_heartbeat_comes_every_configured_second(live_server):
    server = live_server(SSE_HEARTBEAT_SECONDS="1")
    with open_stream(server, "staff@everfresh.test") as stream:
        beats = [stream.next_frame(timeout=5) for _ in range(3)]
    assert [frame.raw for frame in beats] == [b": keep-alive"] * 3


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_shutdown_says_goodbye_to_every_stream_and_exits_quickly(server, signum):
    streams = [
        open_stream(server, email)
        for email in ("staff@everfresh.test", "admin@everfresh.test", "staff@brighthome.test")
    ]
    server.signal(signum)

    for stream in streams:
        remaining = stream.frames_until_closed(timeout=10)
        events = [frame for frame in remaining if frame.comments != ["keep-alive"]]
        assert len(events) == 1
        goodbye = events[0]
        assert goodbye.event == "server_shutdown"
        assert goodbye.data == '{"message":"Server shutting down"}'
        assert 1000 <= goodbye.retry <= 5000
        assert goodbye.id is None
        assert stream.closed
    assert server.wait(timeout=8) < 8
    assert server.process.returncode == 0


def test_a_stream_is_logged_once_its_client_hangs_up(server):
    # gunicorn iterates the stream's generator itself; closing it must still close the
    # response, whose close callbacks write the request's line and duration.
    stream = open_stream(server, "staff@everfresh.test")
    assert " /sse/events 200 " not in server.log()

    stream.close()

    line = wait_for(
        lambda: next(
            (line for line in server.log().splitlines() if " /sse/events 200 " in line), None
        )
    )
    assert "everfresh.request GET /sse/events 200 " in line


def test_the_stream_ends_when_its_access_token_expires(server):
    from flask_jwt_extended import create_access_token

    from everfresh import create_app

    me = server.request("GET", "/auth/me", token=server.login("staff@everfresh.test")).body
    app = create_app(
        {"JWT_SECRET_KEY": JWT_TEST_KEY, "SQLALCHEMY_DATABASE_URI": server.env["DATABASE_URL"]},
        environment="testing",
    )
    with app.app_context():
        token = create_access_token(
            identity=me["id"],
            additional_claims={"role": me["role"], "company_id": me["company_id"]},
            expires_delta=timedelta(seconds=2),
        )
    with server.stream(token) as stream:
        assert stream.status == 200
        frames = stream.frames_until_closed(timeout=10)
    assert frames[0].data == CONNECTED
    assert stream.closed


def test_several_workers_without_redis_refuse_to_start(live_server):
    with pytest.raises(RuntimeError) as failure:
        live_server(WEB_CONCURRENCY="2", REDIS_URL="")
    assert "REDIS_URL" in str(failure.value)
    assert "exited with 2" in str(failure.value)
