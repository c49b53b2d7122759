"""Every stream gets every committed event of its scope exactly once and in order, through faults.

Two hosts (gunicorn masters of two gevent workers each) share one PostgreSQL database and one
Redis; host A reaches Redis through a link that holds what it sends for 1.5 s, longer than
an event waits for a late predecessor. Writers book for two companies on both hosts while
streams of each scope (a company, another company, every company) on both hosts hang up
and resume with their last id at random moments, and the faults come one after another: a
worker frozen, a worker killed, Redis restarted, the database's connections terminated.
Each stream's events are then compared with the event log itself.

`make soak` runs the same for ten minutes (EXACTNESS_SECONDS=600), the faults in a loop.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
import time
import uuid
from collections import Counter

import pytest

from tests.dates import in_days
from tests.faults import DelayingProxy, end_database_connections, freeze, worker_pids
from tests.live import LiveServer, prepare_database
from tests.test_soak import mint_token

pytestmark = pytest.mark.live

RUN_SECONDS = float(os.environ.get("EXACTNESS_SECONDS", "50"))
# Longer than an event waits for its predecessor before reading it from the log.
SLOW_LINK_SECONDS = 1.5
# One round of faults; a longer run repeats it.
FAULT_ROUND_SECONDS = 40
SETTINGS = {
    "WEB_CONCURRENCY": "2",
    "SSE_HEARTBEAT_SECONDS": "1",
    "SSE_MAX_STREAMS_PER_USER": "1000",
    # Every client logs in, several as one user; login limits are not the topic here.
    "LOGIN_RATE_LIMIT_PER_ACCOUNT": "1000/minute",
    "LOGIN_RATE_LIMIT_PER_ACCOUNT_AND_IP": "1000/minute",
    "DATABASE_CONNECT_TIMEOUT_SECONDS": "2",
}


class Resuming(threading.Thread):
    """A browser's EventSource that drops its connection at random and resumes by its last id."""

    def __init__(self, server: LiveServer, email: str, path: str = "/sse/events") -> None:
        super().__init__(daemon=True)
        self.server, self.email, self.path = server, email, path
        self.events: list[int] = []
        self.connections = 0
        self.failures: Counter = Counter()
        self.last_id: str | None = None
        self.connected = threading.Event()
        self.stop = threading.Event()
        self.random = random.Random(email + path + str(server.port))

    def run(self) -> None:
        me = self.server.request("GET", "/auth/me", token=self.server.login(self.email)).body
        token = mint_token(self.server, me)
        while not self.stop.is_set():
            headers = {} if self.last_id is None else {"Last-Event-ID": self.last_id}
            try:
                delay = self._follow(token, headers, self.random.uniform(0.4, 1.5))
            except OSError as error:
                self.failures[type(error).__name__] += 1
                delay = 0.2
            self.stop.wait(delay)

    def _follow(self, token: str, headers: dict[str, str], seconds: float) -> float:
        with self.server.stream(token, path=self.path, headers=headers, timeout=5) as stream:
            if stream.status != 200:
                self.failures[stream.status] += 1
                return 0.5
            self.connections += 1
            self.connected.set()
            until = time.monotonic() + seconds
            while not self.stop.is_set():
                frame = stream.next_frame(timeout=max(0.05, until - time.monotonic()))
                if frame is None:
                    # Hung up at a random moment, mid-stream, as a flaky network would.
                    return 0.0
                if frame.id:
                    self.last_id = frame.id
                if frame.event in ("booking_created", "booking_updated"):
                    self.events.append(int(frame.id))
                elif frame.event == "server_shutdown" or frame.retry is not None:
                    return min(frame.retry or 1000, 1000) / 1000
        return 0.0


class Writer(threading.Thread):
    """Book on one host for one company, retrying each booking under its Idempotency-Key."""

    def __init__(self, server: LiveServer, token: str) -> None:
        super().__init__(daemon=True)
        self.server, self.token = server, token
        self.stop = threading.Event()
        self.created = 0
        customers = server.request("GET", "/customers", token=token).body["items"]
        services = server.request("GET", "/services", token=token).body["items"]
        self.fields = {"customer_id": customers[0]["id"], "service_id": services[0]["id"]}

    def run(self) -> None:
        while not self.stop.is_set():
            body = {**self.fields, "scheduled_date": in_days(3), "scheduled_time_start": "08:00"}
            key = uuid.uuid4().hex
            for _ in range(50):
                try:
                    answer = self.server.request(
                        "POST",
                        "/bookings",
                        body,
                        token=self.token,
                        headers={"Idempotency-Key": key},
                    )
                    if answer.status == 201:
                        self.created += 1
                        break
                except OSError:
                    pass
                time.sleep(0.1)
            self.stop.wait(0.05)


def logged_events(database_url: str) -> list[tuple[int, str]]:
    """Return (id, company id) of every event in the log, in id order."""
    from everfresh import create_app
    from everfresh.eventlog.models import Event
    from everfresh.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url}, environment="testing")
    with app.app_context():
        rows = db.session.execute(db.select(Event.id, Event.company_id).order_by(Event.id)).all()
        db.engine.dispose()
    return [tuple(row) for row in rows]


def holes_read(server: LiveServer) -> dict[str, float]:
    """Return how many holes the server's workers and streams read from the log."""
    text = server.request("GET", "/metrics").body.decode()
    found = re.findall(r'^everfresh_event_holes_read_total\{by="(\w+)"\} (\S+)$', text, re.M)
    return {by: float(count) for by, count in found}


def check_exact(name: str, received: list[int], expected: list[int]) -> None:
    """Fail with what went wrong when a stream's events are not exactly the expected ones."""
    if received == expected:
        return
    doubled = sorted(event for event, count in Counter(received).items() if count > 1)
    missing = sorted(set(expected) - set(received))
    out_of_order = [
        (earlier, later) for earlier, later in itertools.pairwise(received) if later < earlier
    ]
    pytest.fail(
        f"{name}: {len(received)} events for {len(expected)} committed; "
        f"missing {missing[:20]} ({len(missing)}), doubled {doubled[:20]} ({len(doubled)}), "
        f"out of order {out_of_order[:10]} ({len(out_of_order)})"
    )


def test_every_stream_gets_every_event_of_its_scope_once_and_in_order_through_faults(
    live_server, postgres_url, private_redis, request
):
    prepare_database(postgres_url)
    proxy = DelayingProxy(private_redis.port, SLOW_LINK_SECONDS)
    request.addfinalizer(proxy.stop)
    host_a = live_server(postgres_url, REDIS_URL=proxy.url(), **SETTINGS)
    host_b = live_server(postgres_url, REDIS_URL=private_redis.url, **SETTINGS)
    brighthome = host_b.request("GET", "/auth/me", token=host_b.login("staff@brighthome.test"))
    brighthome_id = brighthome.body["company_id"]
    everfresh = host_b.request("GET", "/auth/me", token=host_b.login("staff@everfresh.test"))
    everfresh_id = everfresh.body["company_id"]
    scopes = {"everfresh": everfresh_id, "brighthome": brighthome_id, "all": None}
    streams = {
        f"{scope} on {host_name}": Resuming(host, email, path)
        for host_name, host in (("A", host_a), ("B", host_b))
        for scope, email, path in (
            ("everfresh", "staff@everfresh.test", "/sse/events"),
            ("brighthome", "admin@brighthome.test", "/sse/events"),
            ("all", "superadmin@everfresh.test", "/sse/events"),
        )
    }
    for stream in streams.values():
        stream.start()
    for stream in streams.values():
        assert stream.connected.wait(timeout=30), "a stream never connected"
    writers = [
        Writer(host, host.login(email))
        for host in (host_a, host_b)
        for email in ("staff@everfresh.test", "admin@brighthome.test")
    ]
    for writer in writers:
        writer.start()

    faults: Counter = Counter()
    started = time.monotonic()
    deadline = started + RUN_SECONDS
    chance = random.Random(RUN_SECONDS)

    def at(second: float) -> bool:
        time.sleep(max(0.0, started + second - time.monotonic()))
        return time.monotonic() < deadline

    try:
        for round_start in range(0, int(RUN_SECONDS), FAULT_ROUND_SECONDS):
            if not at(round_start + 6):
                break
            freeze(chance.choice(worker_pids(host_b)), chance.uniform(1.5, 3.0))
            faults["worker frozen"] += 1
            if not at(round_start + 13):
                break
            os.kill(chance.choice(worker_pids(host_a)), 9)
            faults["worker killed"] += 1
            if not at(round_start + 20):
                break
            private_redis.stop()
            time.sleep(2)
            private_redis.start()
            faults["redis restarted"] += 1
            if not at(round_start + 28):
                break
            faults["database connections ended"] += end_database_connections(postgres_url) > 0
        at(RUN_SECONDS)
    finally:
        for writer in writers:
            writer.stop.set()
        for writer in writers:
            writer.join(timeout=30)

    log = logged_events(postgres_url)
    expected = {
        scope: [event for event, company in log if company_id in (None, company)]
        for scope, company_id in scopes.items()
    }
    created = sum(writer.created for writer in writers)
    assert len(log) == created > 100

    def caught_up() -> bool:
        return all(
            len(stream.events) >= len(expected[name.split()[0]]) for name, stream in streams.items()
        )

    catch_up_deadline = time.monotonic() + 60
    while not caught_up() and time.monotonic() < catch_up_deadline:
        time.sleep(0.2)
    time.sleep(1.5)  # Anything doubled would arrive now.
    for stream in streams.values():
        stream.stop.set()

    totals = {
        "seconds": round(time.monotonic() - started),
        "bookings": created,
        "faults": dict(faults),
        "streams": {
            name: {"events": len(stream.events), "connections": stream.connections}
            for name, stream in streams.items()
        },
        "holes read": {name: holes_read(host) for name, host in (("A", host_a), ("B", host_b))},
    }
    print("exactness totals:", json.dumps(totals))
    for name, stream in streams.items():
        check_exact(name, stream.events, expected[name.split()[0]])
    # The faults really happened: each fault at least once, and streams resumed many times.
    assert set(faults) == {
        "worker frozen",
        "worker killed",
        "redis restarted",
        "database connections ended",
    }
    assert all(stream.connections >= 10 for stream in streams.values())
