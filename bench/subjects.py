"""The three servers under test, and how the one loader streams from and books on each."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import processes, servers
from bench.client import Answer, Api, log_in
from bench.fleet import Loader

ACCEPT = {"Accept": "text/event-stream"}


@dataclass
class Environment:
    """What every subject may need: where to log, the databases, the private Redis."""

    work_dir: Path
    worker_connections: int
    sqlite_url: str
    postgres_url: str | None
    redis: servers.RedisServer
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])


class Subject:
    """A server under test; subclasses say how to start it, stream from it and book on it."""

    name = "subject"
    # Whether a stream's first frame comes on connect (else the subject sends it on request).
    greets_on_connect = True

    def __init__(self, environment: Environment, workers: int = 1) -> None:
        self.environment = environment
        self.workers = workers
        self.server: servers.Server | None = None
        self.api: Api | None = None
        self.token: str | None = None

    @property
    def label(self) -> str:
        """Return a short name with the worker count."""
        return self.name if self.workers == 1 else f"{self.name} ({self.workers} workers)"

    def start(self) -> servers.Server:
        """Start the server and get it ready to take bookings."""
        raise NotImplementedError

    def stream_request(self) -> tuple[str, dict[str, str]]:
        """Return the path and headers of a stream request."""
        raise NotImplementedError

    def booking_body(self) -> dict[str, str]:
        """Return the JSON body of `POST /bookings`, for a day still to come in every zone."""
        # EverFresh refuses a start in the past in the company's zone; two days after today
        # in UTC has not begun even at UTC+14.
        day = datetime.now(UTC).date() + timedelta(days=2)
        return {"scheduled_date": day.isoformat(), "scheduled_time_start": "10:00"}

    def book(self) -> Answer:
        """Create one booking over HTTP and return the answer (with the moment it was sent)."""
        assert self.api is not None
        return self.api.expect(201, "POST", "/bookings", self.booking_body())

    def after_open(self, loader: Loader, expected: int, timeout: float) -> None:
        """Make sure every open stream is subscribed, for subjects that do not greet on connect."""

    def redis_rss_kb(self) -> int:
        """Return the private Redis's RSS, or 0 when the subject does not use it."""
        return 0

    def stop(self) -> None:
        """Stop the server."""
        if self.api is not None:
            self.api.close()
        if self.server is not None:
            self.server.stop()
            self.server = None


class EverFresh(Subject):
    """EverFresh itself: auth, tenancy, event log, heartbeat, its own gunicorn.conf.py."""

    name = "everfresh"

    def __init__(
        self,
        environment: Environment,
        workers: int = 1,
        database_url: str | None = None,
        use_redis: bool = False,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(environment, workers)
        self.database_url = database_url or environment.sqlite_url
        self.use_redis = use_redis or workers > 1
        self.extra_env = extra_env or {}
        self.customer_id = ""
        self.service_id = ""

    def start(self) -> servers.Server:
        """Start EverFresh, log in as staff and look up a customer and a service to book."""
        self.server = servers.start_everfresh(
            self.database_url,
            self.environment.work_dir,
            workers=self.workers,
            worker_connections=self.environment.worker_connections,
            redis_url=self.environment.redis.url if self.use_redis else "",
            redis_prefix=f"bench-{self.environment.run_id}",
            extra_env=self.extra_env,
        )
        self.token = log_in(self.server.port)
        self.api = Api(self.server.port, self.token)
        self.customer_id = self.api.expect(200, "GET", "/customers").body["items"][0]["id"]
        self.service_id = self.api.expect(200, "GET", "/services").body["items"][0]["id"]
        return self.server

    def stream_request(self) -> tuple[str, dict[str, str]]:
        """Stream as the demo staff user, with the bearer token."""
        return "/sse/events", {**ACCEPT, "Authorization": f"Bearer {self.token}"}

    def booking_body(self) -> dict[str, str]:
        """Book the demo company's first customer and service."""
        return {
            **super().booking_body(),
            "customer_id": self.customer_id,
            "service_id": self.service_id,
        }

    def redis_rss_kb(self) -> int:
        """Return 0: EverFresh holds one Redis subscription per worker, none per stream."""
        return 0


class Floor(Subject):
    """The bare floor: a Flask generator on a gevent queue, no auth, no database."""

    name = "floor"

    def start(self) -> servers.Server:
        """Start the floor app."""
        self.server = servers.start_reference(
            "bench.apps.floor:app",
            self.environment.work_dir,
            workers=self.workers,
            worker_connections=self.environment.worker_connections,
        )
        self.api = Api(self.server.port)
        return self.server

    def stream_request(self) -> tuple[str, dict[str, str]]:
        """Stream from the floor's only stream."""
        return "/stream", dict(ACCEPT)


class FlaskSSE(Subject):
    """The peer: Flask-SSE over Redis pub/sub, with the same SQLite booking insert."""

    name = "flask-sse"
    greets_on_connect = False

    def __init__(self, environment: Environment, workers: int = 1) -> None:
        super().__init__(environment, workers)
        self.channel = f"bench-{environment.run_id}:flask-sse-company"
        self.channel_prefix = f"bench-{environment.run_id}"

    def start(self) -> servers.Server:
        """Start the Flask-SSE app on the private Redis and its own SQLite file."""
        database = self.environment.work_dir / f"flask-sse-{uuid.uuid4().hex[:6]}.sqlite3"
        self.server = servers.start_reference(
            "bench.apps.flask_sse_baseline:app",
            self.environment.work_dir,
            workers=self.workers,
            worker_connections=self.environment.worker_connections,
            extra_env={
                "REDIS_URL": self.environment.redis.url,
                "BENCH_SQLITE_PATH": str(database),
                "BENCH_CHANNEL_PREFIX": self.channel_prefix,
                "BENCH_COMPANY_ID": "flask-sse-company",
            },
        )
        self.api = Api(self.server.port)
        return self.server

    def stream_request(self) -> tuple[str, dict[str, str]]:
        """Stream from Flask-SSE's blueprint, on the company's channel."""
        return f"/stream?channel={self.channel}", dict(ACCEPT)

    def after_open(self, loader: Loader, expected: int, timeout: float) -> None:
        """Wait until Redis counts every subscription, then publish the greeting."""
        redis = self.environment.redis
        processes.wait_until(lambda: redis.subscribers(self.channel) >= expected, timeout)
        assert self.api is not None
        self.api.expect(200, "POST", f"/hello?channel={self.channel}")

    def redis_rss_kb(self) -> int:
        """Return the private Redis's RSS (each stream holds a Redis connection there)."""
        return self.environment.redis.rss_kb()
