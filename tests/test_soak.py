"""Soak: every fault at once against 4 workers, Redis and PostgreSQL; no booking lost or doubled."""

from __future__ import annotations

import os
import signal
import socket
import struct
import threading
import time
import uuid
from collections import defaultdict
from datetime import timedelta

import pytest

from tests.dates import in_days
from tests.live import JWT_TEST_KEY, LiveServer, prepare_database

pytestmark = pytest.mark.live

SOAK_SECONDS = 30


def mint_token(server: LiveServer, me: dict, lifetime: timedelta | None = None) -> str:
    """Sign an access token for a user with the server's key and a chosen lifetime."""
    from flask_jwt_extended import create_access_token

    from everfresh import create_app

    app = create_app(
        {"JWT_SECRET_KEY": JWT_TEST_KEY, "SQLALCHEMY_DATABASE_URI": server.env["DATABASE_URL"]},
        environment="testing",
    )
    with app.app_context():
        return create_access_token(
            identity=me["id"],
            additional_claims={"role": me["role"], "company_id": me["company_id"]},
            expires_delta=lifetime or timedelta(minutes=15),
        )


class EventSourceClient(threading.Thread):
    """Behave like a browser's EventSource: reconnect after every end, resuming from the last id."""

    def __init__(
        self,
        server: LiveServer,
        email: str,
        path: str = "/sse/events",
        last_id_in_query: bool = False,
        token_lifetime: timedelta | None = None,
        stall_seconds: float = 0,
    ) -> None:
        super().__init__(daemon=True)
        self.server, self.email, self.path = server, email, path
        self.last_id_in_query = last_id_in_query
        self.token_lifetime = token_lifetime
        self.stall_seconds = stall_seconds
        self.received: list[tuple[str, str]] = []
        self.last_id: str | None = None
        self.connections = 0
        # Set once the first stream is open: a booking committed before that is not this
        # client's to receive, as for a browser that has not connected yet.
        self.connected = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        me = self.server.request("GET", "/auth/me", token=self.server.login(self.email)).body
        token = mint_token(self.server, me, self.token_lifetime)
        while not self.stop.is_set():
            path, headers = self.path, {}
            if self.last_id is not None:
                if self.last_id_in_query:
                    joiner = "&" if "?" in path else "?"
                    path = f"{path}{joiner}lastEventId={self.last_id}"
                else:
                    headers["Last-Event-ID"] = self.last_id
            try:
                delay = self._follow(token, path, headers)
            except OSError:
                delay = 0.2
            if delay is None:
                token = mint_token(self.server, me, self.token_lifetime)
                delay = 0
            self.stop.wait(delay)

    def _follow(self, token: str, path: str, headers: dict[str, str]) -> float | None:
        receive_buffer = 1024 if self.stall_seconds else None
        with self.server.stream(
            token, path=path, headers=headers, timeout=5, receive_buffer=receive_buffer
        ) as stream:
            if stream.status == 401:
                return None
            assert stream.status == 200, (stream.status, stream.read_json())
            self.connections += 1
            self.connected.set()
            if self.stall_seconds:
                # A frozen tab: stop reading once, long enough to overflow the queue.
                self.stop.wait(self.stall_seconds)
                self.stall_seconds = 0
            while not self.stop.is_set():
                frame = stream.next_frame(timeout=5)
                if frame is None:
                    return 0.1
                if frame.id:
                    # As EventSource does: any frame's id, the greeting's included.
                    self.last_id = frame.id
                if frame.event == "booking_created":
                    self.received.append((frame.json["company_id"], frame.json["booking_id"]))
                elif frame.event == "server_shutdown":
                    return min(frame.retry, 1500) / 1000
        return 0


class Producer(threading.Thread):
    """Create bookings continuously, retrying each with its Idempotency-Key until it lands."""

    def __init__(self, server: LiveServer, tokens: list[str]) -> None:
        super().__init__(daemon=True)
        self.server, self.tokens = server, tokens
        self.stop = threading.Event()
        self.created = 0
        self.targets = [self._booking_fields(token) for token in tokens]

    def _booking_fields(self, token: str) -> dict[str, str]:
        customers = self.server.request("GET", "/customers", token=token).body["items"]
        services = self.server.request("GET", "/services", token=token).body["items"]
        return {"customer_id": customers[0]["id"], "service_id": services[0]["id"]}

    def run(self) -> None:
        turn = 0
        while not self.stop.is_set():
            token, target = self.tokens[turn % 2], self.targets[turn % 2]
            body = {**target, "scheduled_date": in_days(3), "scheduled_time_start": "08:00"}
            key = uuid.uuid4().hex
            for _ in range(20):
                try:
                    answer = self.server.request(
                        "POST", "/bookings", body, token=token, headers={"Idempotency-Key": key}
                    )
                    if answer.status == 201:
                        self.created += 1
                        break
                except OSError:
                    pass
                time.sleep(0.1)
            turn += 1
            self.stop.wait(0.08)


def committed_booking_ids(database_url: str) -> dict[str, list[str]]:
    """Read every company's booking ids from the event log, in commit order."""
    import json

    from everfresh import create_app
    from everfresh.eventlog.models import Event
    from everfresh.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url}, environment="testing")
    by_company: dict[str, list[str]] = defaultdict(list)
    with app.app_context():
        for event in db.session.scalars(db.select(Event).order_by(Event.id)):
            by_company[event.company_id].append(json.loads(event.payload)["booking_id"])
        db.engine.dispose()
    return by_company


def worker_pids(server: LiveServer) -> list[int]:
    pid = server.process.pid
    with open(f"/proc/{pid}/task/{pid}/children") as file:
        return [int(child) for child in file.read().split()]


def storm(server: LiveServer, token: str, cycles: int) -> None:
    for cycle in range(cycles):
        with server.stream(token, timeout=5) as stream:
            stream.next_frame(timeout=5)
            if cycle % 2:
                stream.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_every_stream_ends_with_every_committed_booking_once_and_in_order(
    live_server, postgres_url, private_redis
):
    prepare_database(postgres_url)
    server = live_server(
        postgres_url,
        WEB_CONCURRENCY="4",
        REDIS_URL=private_redis.url,
        SSE_HEARTBEAT_SECONDS="1",
        SSE_QUEUE_SIZE="16",
        SSE_SEND_BUFFER_BYTES="4096",
        SSE_MAX_STREAMS_PER_USER="1000",
        # Every client logs in once, several as the same user; login limits are not the topic.
        LOGIN_RATE_LIMIT_PER_ACCOUNT="1000/minute",
        LOGIN_RATE_LIMIT_PER_ACCOUNT_AND_IP="1000/minute",
        GUNICORN_CMD_ARGS="--max-requests 80 --max-requests-jitter 40",
    )
    everfresh = server.login("staff@everfresh.test")
    brighthome = server.login("staff@brighthome.test")
    brighthome_id = server.request("GET", "/auth/me", token=brighthome).body["company_id"]
    clients = {
        "everfresh staff": EventSourceClient(server, "staff@everfresh.test"),
        "everfresh admin, ?lastEventId=": EventSourceClient(
            server, "admin@everfresh.test", last_id_in_query=True
        ),
        "everfresh staff, 4 s tokens": EventSourceClient(
            server, "staff@everfresh.test", token_lifetime=timedelta(seconds=4)
        ),
        "everfresh staff, frozen tab": EventSourceClient(
            server, "staff@everfresh.test", stall_seconds=6
        ),
        "brighthome staff": EventSourceClient(server, "staff@brighthome.test"),
        "superadmin": EventSourceClient(server, "superadmin@everfresh.test"),
        "superadmin on brighthome": EventSourceClient(
            server, "superadmin@everfresh.test", path=f"/sse/events?company_id={brighthome_id}"
        ),
    }
    for client in clients.values():
        client.start()
    for client in clients.values():
        assert client.connected.wait(timeout=30), "a client never connected"
    producer = Producer(server, [everfresh, brighthome])
    started = time.monotonic()
    producer.start()

    def at(second: float) -> None:
        time.sleep(max(0.0, started + second - time.monotonic()))

    try:
        at(5)
        os.kill(worker_pids(server)[0], signal.SIGKILL)
        at(10)
        private_redis.stop()
        at(15)
        private_redis.start()
        at(20)
        storm(server, everfresh, 200)
        at(SOAK_SECONDS)
    finally:
        producer.stop.set()
        producer.join(timeout=30)

    committed = committed_booking_ids(postgres_url)
    everfresh_id = next(company for company in committed if company != brighthome_id)
    expected = {
        "everfresh staff": committed[everfresh_id],
        "everfresh admin, ?lastEventId=": committed[everfresh_id],
        "everfresh staff, 4 s tokens": committed[everfresh_id],
        "everfresh staff, frozen tab": committed[everfresh_id],
        "brighthome staff": committed[brighthome_id],
        "superadmin on brighthome": committed[brighthome_id],
    }
    total = sum(len(ids) for ids in committed.values())
    assert total == producer.created and total > 100

    def caught_up() -> bool:
        return all(len(clients[name].received) >= len(ids) for name, ids in expected.items()) and (
            len(clients["superadmin"].received) >= total
        )

    deadline = time.monotonic() + 30
    while not caught_up() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.5)  # Anything doubled would arrive now.
    for client in clients.values():
        client.stop.set()

    for name, ids in expected.items():
        assert [booking for _, booking in clients[name].received] == ids, name
    superadmin = defaultdict(list)
    for company, booking in clients["superadmin"].received:
        superadmin[company].append(booking)
    assert dict(superadmin) == dict(committed)
    # The faults really happened: streams were cut and resumed.
    assert clients["everfresh staff, 4 s tokens"].connections >= 5
    assert all(client.connections >= 2 for client in clients.values())
