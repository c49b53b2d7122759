"""Define the Prometheus metrics EverFresh exports, summed across gunicorn workers."""

from __future__ import annotations

import os

from prometheus_client import (
    PLATFORM_COLLECTOR,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from everfresh.process_metrics import WorkerProcessCollector

OPEN_STREAMS = Gauge(
    "everfresh_open_streams", "Event streams open right now.", multiprocess_mode="livesum"
)
EVENTS_PUBLISHED = Counter("everfresh_events_published", "Committed events handed to the broker.")
EVENTS_DELIVERED = Counter("everfresh_events_delivered", "Event frames queued for a stream.")
EVENTS_REPLAYED = Counter(
    "everfresh_events_replayed", "Event frames replayed from the log to reconnecting streams."
)
EVENTS_DROPPED = Counter(
    "everfresh_events_dropped", "Event frames not queued because a stream's queue was full."
)
SLOW_CONSUMERS_DROPPED = Counter(
    "everfresh_slow_consumers_dropped", "Streams ended because their client stopped reading."
)
BROKER_MESSAGES_RECEIVED = Counter(
    "everfresh_broker_messages_received",
    "Event messages taken off Redis Cluster pub/sub, by channel: a company's, or all companies'.",
    ["channel"],
)
BROKER_MESSAGES_UNNEEDED = Counter(
    "everfresh_broker_messages_unneeded",
    "Event messages that reached a worker holding no stream they were for, by channel.",
    ["channel"],
)
EVENT_HOLES_READ = Counter(
    "everfresh_event_holes_read",
    "Events missing when a later one arrived, read from the event log instead: by a worker "
    "for all its streams once the hold ran out, or by one stream that met the hole itself.",
    ["by"],
)
EVENTS_LACKING = Counter(
    "everfresh_events_lacking",
    "Events missing from a line that the event log did not hold either (pruned), given up on.",
)
# Buckets from a frame queued at once to one held back for a late predecessor (hold 0.5 s).
FAN_OUT_SECONDS = Histogram(
    "everfresh_fan_out_seconds",
    "Time from a booking event's commit to its frame being queued for the streams of the "
    "worker that committed it (through Redis when configured).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
# Streams live from seconds (a page closed) to the access token's lifetime (15 minutes).
STREAM_LIFETIME = Histogram(
    "everfresh_stream_lifetime_seconds",
    "How long an event stream stayed open, from its first frame to its end.",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600),
)
REDIS_LISTENER_CONNECTED = Gauge(
    "everfresh_redis_listener_connected",
    "Workers whose Redis listener is subscribed (compare with everfresh_workers).",
    multiprocess_mode="livesum",
)
DATABASE_CONNECTIONS_IN_USE = Gauge(
    "everfresh_database_connections_in_use",
    "Database connections checked out of the workers' pools right now.",
    multiprocess_mode="livesum",
)
BOOKINGS_CREATED = Counter("everfresh_bookings_created", "Bookings created (committed).")
BOOKING_UPDATES = Counter(
    "everfresh_booking_updates", "Committed booking changes (each emits a booking_updated)."
)
# Every outcome is one of these, so the label set stays fixed whatever clients send.
LOGIN_OUTCOMES = ("success", "bad_credentials", "rate_limited")
LOGINS = Counter(
    "everfresh_logins",
    "Login attempts on /auth/login and /auth/session, by outcome: " + ", ".join(LOGIN_OUTCOMES),
    ["outcome"],
)
for _outcome in LOGIN_OUTCOMES:
    # Present from the start at 0, so a rate over an outcome never seen yet is 0, not empty.
    LOGINS.labels(_outcome)
# Labelled from a bounded set only (see everfresh/web/request_timing.py): every distinct
# label value is a series kept in each worker's memory and in every scrape.
REQUEST_DURATION = Histogram(
    "everfresh_request_duration_seconds",
    "Time to answer a request (a stream: until it ends), by method, route and status.",
    ["method", "route", "status"],
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one finished request under its method, route pattern and status code."""
    REQUEST_DURATION.labels(method, route, str(status)).observe(seconds)


def count_login(outcome: str) -> None:
    """Count one login attempt under one of LOGIN_OUTCOMES."""
    if outcome not in LOGIN_OUTCOMES:
        raise ValueError(f"unknown login outcome {outcome!r}")
    LOGINS.labels(outcome).inc()


def render_metrics() -> bytes:
    """Return every metric in the Prometheus text format, across workers when under gunicorn."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(WorkerProcessCollector(directory))
        # The same in every worker, so the answering worker's is everyone's.
        registry.register(PLATFORM_COLLECTOR)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
