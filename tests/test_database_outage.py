"""Ride out a PostgreSQL outage: fail fast with 503, keep open streams, recover on its own.

The test runs a PostgreSQL server of its own and kills it (`pg_ctl -m immediate`) under a
real gunicorn, then starts it again; no worker is restarted.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from everfresh import create_app
from everfresh.errors import DATABASE_UNAVAILABLE
from everfresh.extensions import db
from tests.dates import in_days
from tests.live import Frame, LiveServer, SSEStream, prepare_database


def booking_body(server: LiveServer, token: str) -> dict[str, Any]:
    """Return a valid booking for the token's company's first customer and service."""
    customer = server.request("GET", "/customers", token=token).body["items"][0]["id"]
    service = server.request("GET", "/services", token=token).body["items"][0]["id"]
    return {
        "customer_id": customer,
        "service_id": service,
        "scheduled_date": in_days(1),
        "scheduled_time_start": "10:00",
    }


def next_booking(stream: SSEStream) -> Frame:
    """Read the stream up to its next booking event and return its frame."""
    frame = stream.next_event()
    assert frame is not None and frame.event == "booking_created", frame
    return frame


def test_a_database_outage_is_503_and_recovers_without_a_restart(live_server, private_postgres):
    prepare_database(private_postgres.url)
    server: LiveServer = live_server(
        private_postgres.url, SSE_HEARTBEAT_SECONDS="1", DATABASE_CONNECT_TIMEOUT_SECONDS="2"
    )
    token = server.login("staff@everfresh.test")
    body = booking_body(server, token)
    watchers = [server.stream(token), server.stream(token)]
    for stream in watchers:
        assert stream.status == 200
        assert stream.next_frame().json["type"] == "connection_established"
    before = server.request("POST", "/bookings", body, token=token)
    assert before.status == 201
    seen = [next_booking(stream) for stream in watchers]
    assert [frame.json["booking_id"] for frame in seen] == [before.body["booking_id"]] * 2
    last_seen_before_the_outage = seen[0].id

    private_postgres.stop()

    # Well inside gunicorn's own timeout: the request fails fast instead of hanging.
    refused = server.request("POST", "/bookings", body, token=token, timeout=15)
    assert refused.status == 503
    assert refused.headers["retry-after"] == "5"
    assert refused.body == {
        "error": {
            "code": 503,
            "name": "Service Unavailable",
            "message": "The database is unavailable; try again shortly.",
        }
    }
    ready = server.request("GET", "/readyz", timeout=15)
    assert (ready.status, ready.body["error"]["checks"]) == (503, {"database": "unreachable"})
    with server.stream(token) as newcomer:
        assert newcomer.status == 200
        assert newcomer.headers["content-type"].startswith("text/event-stream")
        frames = newcomer.frames_until_closed()
        assert [(f.retry is not None, f.data, f.event) for f in frames] == [(True, None, None)]
        assert 1000 <= frames[0].retry <= 5000
    for stream in watchers:
        heartbeat = stream.next_frame()
        assert heartbeat is not None and heartbeat.comments == ["keep-alive"]

    private_postgres.start()

    after = server.request("POST", "/bookings", body, token=token, timeout=15)
    assert after.status == 201
    seen = [next_booking(stream) for stream in watchers]
    assert [frame.json["booking_id"] for frame in seen] == [after.body["booking_id"]] * 2
    # A client told to come back during the outage resumes from what it saw before it.
    with server.stream(token, headers={"Last-Event-ID": last_seen_before_the_outage}) as resumed:
        assert resumed.next_frame().json["type"] == "connection_established"
        assert next_booking(resumed).json["booking_id"] == after.body["booking_id"]
    for stream in watchers:
        stream.close()
    assert server.request("GET", "/readyz").status == 200
    assert server.log().count("Booting worker") == 1


def test_postgresql_connections_carry_the_timeouts(postgres_url):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": postgres_url,
            "DATABASE_STATEMENT_TIMEOUT_MS": 150,
            "DATABASE_POOL_TIMEOUT_SECONDS": 2,
            "DATABASE_CONNECT_TIMEOUT_SECONDS": 4,
        }
    )
    with app.app_context():
        try:
            assert db.engine.pool.timeout() == 2
            assert db.session.execute(text("SHOW statement_timeout")).scalar() == "150ms"
            # A statement past its timeout is cancelled: the request answers 503 then.
            with pytest.raises(DATABASE_UNAVAILABLE):
                db.session.execute(text("SELECT pg_sleep(5)"))
            db.session.rollback()
            connect_args = app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]
            assert connect_args == {"connect_timeout": 4, "options": "-c statement_timeout=150"}
        finally:
            db.session.remove()
            db.engine.dispose()
