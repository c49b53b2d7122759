"""Define the Prometheus metrics EverFresh exports, summed across gunicorn workers."""

from __future__ import annotations

import os

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

OPEN_STREAMS = Gauge(
    "everfresh_open_streams", "Event streams open right now.", multiprocess_mode="livesum"
)
EVENTS_PUBLISHED = Counter("everfresh_events_published", "Committed events handed to the broker.")
EVENTS_DELIVERED = Counter("everfresh_events_delivered", "Event frames queued for a stream.")
EVENTS_REPLAYED = Counter("everfresh_events_replayed", "Event frames replayed from the log.")
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


def render_metrics() -> bytes:
    """Return every metric in the Prometheus text format, across workers when under gunicorn."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
