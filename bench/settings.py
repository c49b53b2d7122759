"""Read the benchmark's knobs from `BENCH_*` environment variables, with full and quick defaults."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

APPS = ("everfresh", "floor", "flask-sse")
PHASES = ("fanout", "scaleout", "throughput", "burst", "login", "storm")


def _env(name: str, full: str, quick: str, is_quick: bool) -> str:
    value = os.environ.get(name, "").strip()
    return value or (quick if is_quick else full)


def _int_list(raw: str) -> list[int]:
    return [int(item) for item in raw.replace(" ", "").split(",") if item]


def _name_list(raw: str, allowed: tuple[str, ...], setting: str) -> list[str]:
    names = [item.strip() for item in raw.split(",") if item.strip()]
    unknown = sorted(set(names) - set(allowed))
    if unknown:
        raise ValueError(f"{setting}: unknown {unknown}; choose from {', '.join(allowed)}")
    return names


@dataclass
class Settings:
    """Every knob of one benchmark run (see bench/README.md for what each one does)."""

    quick: bool
    streams: list[int]
    events: int
    apps: list[str]
    phases: list[str]
    flask_sse_max_streams: int
    scaleout_streams: int
    scaleout_workers: int
    throughput_requests: int
    throughput_streams: int
    throughput_repeats: int
    burst_requests: int
    burst_streams: int
    burst_repeats: int
    post_concurrency: int
    login_streams: int
    login_seconds: float
    storm_streams: list[int]
    storm_repeats: int
    storm_concurrency: int
    worker_connections: int
    streams_per_shard: int
    connect_concurrency: int
    event_gap_seconds: float
    event_timeout_seconds: float
    postgres_admin_url: str
    redis_url: str
    profile: bool
    profile_streams: int
    profile_events: int
    timeout_seconds: int
    plot: bool

    def as_json(self) -> dict[str, Any]:
        """Return the settings as plain JSON-able values (for the results file)."""
        return asdict(self)


def from_environment(plot: bool = False) -> Settings:
    """Build the settings from `BENCH_*` variables; `BENCH_QUICK=1` picks small defaults."""
    quick = os.environ.get("BENCH_QUICK", "").strip().lower() in {"1", "true", "yes", "on"}

    def get(name: str, full: str, small: str) -> str:
        return _env(f"BENCH_{name}", full, small, quick)

    return Settings(
        quick=quick,
        streams=_int_list(get("STREAMS", "1000,2000,5000,10000", "500,2000")),
        events=int(get("EVENTS", "30", "5")),
        apps=_name_list(get("APPS", ",".join(APPS), ",".join(APPS)), APPS, "BENCH_APPS"),
        phases=_name_list(
            get("PHASES", ",".join(PHASES), ",".join(PHASES)), PHASES, "BENCH_PHASES"
        ),
        flask_sse_max_streams=int(get("FLASK_SSE_MAX_STREAMS", "5000", "2000")),
        scaleout_streams=int(get("SCALEOUT_STREAMS", "20000", "1000")),
        scaleout_workers=int(get("SCALEOUT_WORKERS", "4", "4")),
        throughput_requests=int(get("THROUGHPUT_REQUESTS", "400", "100")),
        throughput_streams=int(get("THROUGHPUT_STREAMS", "1000", "1000")),
        throughput_repeats=int(get("THROUGHPUT_REPEATS", "3", "3")),
        burst_requests=int(get("BURST_REQUESTS", "300", "300")),
        burst_streams=int(get("BURST_STREAMS", "1000", "1000")),
        burst_repeats=int(get("BURST_REPEATS", "3", "1")),
        post_concurrency=int(get("POST_CONCURRENCY", "4", "4")),
        login_streams=int(get("LOGIN_STREAMS", "1000", "300")),
        login_seconds=float(get("LOGIN_SECONDS", "8", "3")),
        storm_streams=_int_list(get("STORM_STREAMS", "2000,10000", "2000")),
        storm_repeats=int(get("STORM_REPEATS", "3", "1")),
        storm_concurrency=int(get("STORM_CONCURRENCY", "1000", "1000")),
        worker_connections=int(get("WORKER_CONNECTIONS", "12000", "12000")),
        streams_per_shard=int(get("STREAMS_PER_SHARD", "10000", "10000")),
        connect_concurrency=int(get("CONNECT_CONCURRENCY", "100", "100")),
        event_gap_seconds=float(get("EVENT_GAP", "0.3", "0.3")),
        event_timeout_seconds=float(get("EVENT_TIMEOUT", "15", "10")),
        postgres_admin_url=get(
            "POSTGRES_URL",
            "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
            "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        ),
        redis_url=get("REDIS_URL", "", ""),
        profile=get("PROFILE", "0", "0").lower() in {"1", "true", "yes", "on"},
        profile_streams=int(get("PROFILE_STREAMS", "5000", "1000")),
        profile_events=int(get("PROFILE_EVENTS", "50", "20")),
        timeout_seconds=int(get("TIMEOUT", "3000", "300")),
        plot=plot or get("PLOT", "0", "0").lower() in {"1", "true", "yes", "on"},
    )
