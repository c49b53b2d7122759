"""The measurements: fan-out latency and memory, POST throughput, and the stall a login causes."""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench import processes, servers
from bench.client import log_in, post_bookings, stream_position
from bench.fleet import Loader
from bench.profiling import Profiler
from bench.settings import Settings
from bench.subjects import EverFresh, Subject

log = logging.getLogger("bench")

# Seconds to let a server settle (lazy imports, first requests, allocator) before RSS is read.
SETTLE_SECONDS = 1.0
# Bookings a stream of the storm resumes from, as after a deploy's `server_shutdown` (issue 20).
STORM_EVENTS = 20
# What the server logs for each token it accepts without asking the denylist.
UNCHECKED_TOKEN_LINE = "accepting access token unchecked"
# What the server logs when a request gave up waiting for a pooled database connection.
POOL_EXHAUSTED_LINE = "QueuePool limit"


def percentile(values: list[float], fraction: float) -> float | None:
    """Return the nearest-rank percentile of `values` (fraction 0.99 for p99), or None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summarise(values: list[float]) -> dict[str, float | None]:
    """Return p50, p99, max and mean of `values`, rounded to 0.1."""

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {
        "p50": rounded(percentile(values, 0.50)),
        "p99": rounded(percentile(values, 0.99)),
        "max": rounded(max(values) if values else None),
        "mean": rounded(statistics.fmean(values) if values else None),
    }


def open_streams(
    subject: Subject, loader: Loader, settings: Settings, streams: int, heartbeats: bool = False
) -> dict[str, Any]:
    """Open `streams` streams on `subject` and wait for every first frame; return the status."""
    path, headers = subject.stream_request()
    timeout = 60 + streams / 100
    opened = loader.open(
        path,
        headers,
        wait_first=subject.greets_on_connect,
        concurrency=settings.connect_concurrency,
        timeout=timeout,
        track_heartbeats=heartbeats,
    )
    if not subject.greets_on_connect:
        subject.after_open(loader, streams, timeout)
    status = loader.await_first(30)
    status["seconds"] = round(opened.get("seconds", 0) + status.get("seconds", 0), 2)
    log.info(
        "  %s: %d/%d streams ready in %.1fs (refused: %s)",
        subject.label,
        status["ready"],
        streams,
        status["seconds"],
        status["refused"] or "none",
    )
    return status


def fan_out(
    subject: Subject,
    streams: int,
    settings: Settings,
    events: int | None = None,
    profiler: Profiler | None = None,
) -> dict[str, Any]:
    """Open `streams` streams, then create bookings one by one and time every frame's arrival.

    Each booking is posted only after the previous one reached every stream (or timed out),
    so every latency is one event's fan-out, not a queue of several.
    """
    events = settings.events if events is None else events
    result: dict[str, Any] = {"app": subject.name, "workers": subject.workers, "streams": streams}
    server = subject.start()
    loader = None
    try:
        for _ in range(3):
            subject.book()
        time.sleep(SETTLE_SECONDS)
        rss_before = server.rss_kb()
        redis_before = subject.redis_rss_kb()
        loader = Loader(
            server.port, streams, settings.streams_per_shard, subject.environment.work_dir
        )
        status = open_streams(subject, loader, settings, streams)
        time.sleep(SETTLE_SECONDS)
        rss_after = server.rss_kb()
        redis_after = subject.redis_rss_kb()
        ready = status["ready"]
        # One unmeasured booking first, so every server pays its cold paths outside the numbers.
        warm_up = subject.book()
        loader.wait_for(warm_up.body["booking_id"], settings.event_timeout_seconds)
        time.sleep(settings.event_gap_seconds)
        if profiler is not None:
            profiler.start(server.worker_pids()[0])
        server_cpu = processes.cpu_seconds(server.worker_pids())
        loader_cpu = processes.cpu_seconds(loader.pids())
        events_started = time.monotonic()
        sent_at: dict[str, float] = {}
        for _ in range(events):
            answer = subject.book()
            sent_at[answer.body["booking_id"]] = answer.sent_at
            loader.wait_for(answer.body["booking_id"], settings.event_timeout_seconds)
            time.sleep(settings.event_gap_seconds)
        # CPU used while the events fanned out: shows whether the loader kept up lightly.
        cpu = {
            "seconds": round(time.monotonic() - events_started, 2),
            "server_seconds": round(processes.cpu_seconds(server.worker_pids()) - server_cpu, 2),
            "loader_seconds": round(processes.cpu_seconds(loader.pids()) - loader_cpu, 2),
        }
        report = loader.report(sent_at)
        # CPU per delivered frame is far less sensitive to other load than wall-clock latency.
        if report["delivered"]:
            for side in ("server", "loader"):
                cpu[f"{side}_us_per_frame"] = round(
                    cpu[f"{side}_seconds"] * 1e6 / report["delivered"], 1
                )
        if profiler is not None:
            result["profile"] = profiler.stop()
    finally:
        if loader is not None:
            loader.close()
        subject.stop()
    expected = ready * events
    result.update(
        {
            "events": events,
            "opened": ready,
            "refused": status["refused"],
            "open_seconds": status["seconds"],
            "closed_early": report["closed_early"],
            "expected_deliveries": expected,
            "delivered": report["delivered"],
            "lost": report["lost"],
            "duplicates": report["duplicates"],
            "frame_bytes": report["frame_bytes"],
            "latency_ms": summarise(report["latencies_ms"]),
            # Per event, in posting order: the first and the last stream's latency (ms).
            "event_spans_ms": [report["spans_ms"].get(booking) for booking in sent_at],
            "cpu_during_events": cpu,
            "rss_before_kb": rss_before,
            "rss_after_kb": rss_after,
            "rss_per_stream_kb": round((rss_after - rss_before) / ready, 2) if ready else None,
            "redis_rss_per_stream_kb": (
                round((redis_after - redis_before) / ready, 2) if ready and redis_after else None
            ),
        }
    )
    log.info(
        "  %s @ %d: p50 %s ms, p99 %s ms, max %s ms, lost %d, %.1f KB/stream",
        subject.label,
        streams,
        result["latency_ms"]["p50"],
        result["latency_ms"]["p99"],
        result["latency_ms"]["max"],
        result["lost"],
        result["rss_per_stream_kb"] or 0,
    )
    return result


def throughput(
    subject: EverFresh,
    database: str,
    settings: Settings,
    profiler_for: Callable[[str], Profiler | None] | None = None,
) -> list[dict[str, Any]]:
    """Time bounded bursts of POST /bookings with no stream open, then with N streams open.

    Each condition is timed over several bursts and reported by the median, because other
    work on a shared two-core machine can slow any single burst.
    """
    results = []
    server = subject.start()
    loader = None
    try:
        token, body = subject.token, subject.booking_body()
        post_bookings(server.port, token, body, 20, settings.post_concurrency)
        for streams in (0, settings.throughput_streams):
            if streams:
                loader = Loader(
                    server.port, streams, settings.streams_per_shard, subject.environment.work_dir
                )
                open_streams(subject, loader, settings, streams)
                time.sleep(SETTLE_SECONDS)
            profiler = profiler_for(f"throughput-{database}-{streams}") if profiler_for else None
            if profiler is not None:
                profiler.start(server.worker_pids()[0])
            bursts = []
            for _ in range(settings.throughput_repeats):
                burst = post_bookings(
                    server.port,
                    token,
                    body,
                    settings.throughput_requests,
                    settings.post_concurrency,
                )
                bursts.append(burst)
                if loader is not None and burst.booking_ids:
                    # Let this burst's frames drain before the next burst is timed.
                    loader.wait_for(burst.booking_ids[-1], settings.event_timeout_seconds * 2)
            rates = [round(burst.per_second, 1) for burst in bursts]
            result: dict[str, Any] = {
                "database": database,
                "streams": streams,
                "requests": settings.throughput_requests,
                "bursts": len(bursts),
                "concurrency": settings.post_concurrency,
                "errors": sum(burst.errors for burst in bursts),
                "per_second": statistics.median(rates),
                "per_second_each": rates,
            }
            if profiler is not None:
                result["profile"] = profiler.stop()
            if loader is not None:
                # Every booking of every burst must still reach every stream.
                time.sleep(1)
                booking_ids = [booking for burst in bursts for booking in burst.booking_ids]
                report = loader.report(dict.fromkeys(booking_ids, 0.0), latencies=False)
                result.update(
                    {
                        "opened": report["ready"],
                        "lost": report["lost"],
                        "closed_early": report["closed_early"],
                    }
                )
            log.info(
                "  %s, %d streams: %.1f bookings/s (median of %s; %d errors)",
                database,
                streams,
                result["per_second"],
                rates,
                result["errors"],
            )
            results.append(result)
    finally:
        if loader is not None:
            loader.close()
        subject.stop()
    return results


def login_stall(subject: EverFresh, settings: Settings) -> dict[str, Any]:
    """Measure how late heartbeats arrive while logins (real scrypt) run, versus while none do.

    With SSE_HEARTBEAT_SECONDS=1 every stream is a ticking clock, and N streams opened one
    after another tick at N different phases, so the worker's event loop is sampled about
    N times a second. Whatever keeps the loop from running (a password hash on the hub,
    or a CPU it cannot get) makes the heartbeats due in that moment late by as long:
    the lateness of a heartbeat is its gap from the previous one minus the period.
    """
    period_ms = float(subject.extra_env.get("SSE_HEARTBEAT_SECONDS", "1")) * 1000
    streams = settings.login_streams
    server = subject.start()
    loader = None
    try:
        loader = Loader(
            server.port, streams, settings.streams_per_shard, subject.environment.work_dir
        )
        status = open_streams(subject, loader, settings, streams, heartbeats=True)
        time.sleep(2 * period_ms / 1000 + 0.5)
        quiet_start = time.monotonic()
        time.sleep(settings.login_seconds)
        quiet_end = time.monotonic()
        login_seconds = []
        busy_start = time.monotonic()
        while time.monotonic() - busy_start < settings.login_seconds:
            started = time.monotonic()
            log_in(server.port)
            login_seconds.append(time.monotonic() - started)
        busy_end = time.monotonic()
        # A heartbeat held up by the last login arrives up to one period after it ends.
        time.sleep(period_ms / 1000 + 0.5)
        quiet = [gap - period_ms for gap in loader.heartbeat_gaps(quiet_start, quiet_end)]
        busy_until = busy_end + period_ms / 1000
        busy = [gap - period_ms for gap in loader.heartbeat_gaps(busy_start, busy_until)]
        closed = loader.status()["closed_early"]
    finally:
        if loader is not None:
            loader.close()
        subject.stop()
    result = {
        "streams": status["ready"],
        "heartbeat_ms": period_ms,
        "logins": len(login_seconds),
        "login_ms": summarise([seconds * 1000 for seconds in login_seconds]),
        "quiet_lateness_ms": summarise(quiet),
        "login_lateness_ms": summarise(busy),
        "quiet_samples": len(quiet),
        "login_samples": len(busy),
        "closed_early": closed,
    }
    log.info(
        "  heartbeat lateness: quiet max %s ms, during %d logins max %s ms (p99 %s ms)",
        result["quiet_lateness_ms"]["max"],
        result["logins"],
        result["login_lateness_ms"]["max"],
        result["login_lateness_ms"]["p99"],
    )
    return result


def burst(
    subject: Subject,
    database: str,
    settings: Settings,
    with_idle_rate: bool,
    profiler_for: Callable[[str], Profiler | None] | None = None,
) -> list[dict[str, Any]]:
    """Send bursts of POST /bookings with no stream open, then with N streams open.

    With streams open, the server's CPU is counted from a burst's first request until every
    stream holds every booking of it, and divided by the frames delivered: the cost of a
    delivered frame under load, where bookings arrive faster than one fan-out at a time.
    Each condition runs `BENCH_BURST_REPEATS` bursts and reports the median burst, since
    other work on a shared machine can slow any single one (every burst is in the JSON).
    """
    results = []
    server = subject.start()
    loader = None
    try:
        body = subject.booking_body()
        # Warm the request path (connection pool, lazy imports) outside the numbers.
        post_bookings(server.port, subject.token, body, 20, settings.post_concurrency)
        for streams in (0, settings.burst_streams) if with_idle_rate else (settings.burst_streams,):
            if streams:
                loader = Loader(
                    server.port, streams, settings.streams_per_shard, subject.environment.work_dir
                )
                open_streams(subject, loader, settings, streams)
                warm_up = subject.book()
                loader.wait_for(warm_up.body["booking_id"], settings.event_timeout_seconds)
                time.sleep(SETTLE_SECONDS)
            profiler = profiler_for(f"burst-{database}-{streams}") if profiler_for else None
            if profiler is not None:
                profiler.start(server.worker_pids()[0])
            bursts = [
                _one_burst(server, subject, body, settings, loader)
                for _ in range(max(1, settings.burst_repeats))
            ]
            result = _median_burst(bursts)
            result.update(
                {
                    "app": subject.name,
                    "database": database,
                    "streams": streams,
                    "requests": settings.burst_requests,
                    "concurrency": settings.post_concurrency,
                    "bursts": bursts,
                }
            )
            if profiler is not None:
                result["profile"] = profiler.stop()
            log.info(
                "  %s %s burst, %d streams: %.1f bookings/s, %s µs/frame, lost %s (median of %d)",
                subject.label,
                database,
                streams,
                result["per_second"],
                result.get("server_us_per_frame"),
                result.get("lost"),
                len(bursts),
            )
            results.append(result)
    finally:
        if loader is not None:
            loader.close()
        subject.stop()
    return results


def _one_burst(
    server: servers.Server,
    subject: Subject,
    body: dict[str, str],
    settings: Settings,
    loader: Loader | None,
) -> dict[str, Any]:
    """Send one burst; with streams, wait until every stream holds every booking of it."""
    server_cpu = processes.cpu_seconds(server.worker_pids())
    started = time.monotonic()
    answer = post_bookings(
        server.port, subject.token, body, settings.burst_requests, settings.post_concurrency
    )
    result: dict[str, Any] = {"errors": answer.errors, "per_second": round(answer.per_second, 1)}
    if loader is None:
        cpu_seconds = processes.cpu_seconds(server.worker_pids()) - server_cpu
        result["server_cpu_seconds"] = round(cpu_seconds, 2)
        result["server_us_per_booking"] = round(
            cpu_seconds * 1e6 / max(1, settings.burst_requests - answer.errors), 1
        )
        return result
    deadline = time.monotonic() + settings.event_timeout_seconds * 2
    for booking in answer.booking_ids:
        loader.wait_for(booking, max(0.1, deadline - time.monotonic()))
    drained = time.monotonic() - started
    cpu_seconds = processes.cpu_seconds(server.worker_pids()) - server_cpu
    report = loader.report(dict.fromkeys(answer.booking_ids, 0.0), latencies=False)
    result.update(
        {
            "opened": report["ready"],
            "delivered": report["delivered"],
            "expected_deliveries": report["ready"] * len(answer.booking_ids),
            "lost": report["lost"],
            "closed_early": report["closed_early"],
            "drain_seconds": round(drained, 2),
            "server_cpu_seconds": round(cpu_seconds, 2),
            "server_us_per_frame": (
                round(cpu_seconds * 1e6 / report["delivered"], 1) if report["delivered"] else None
            ),
        }
    )
    time.sleep(SETTLE_SECONDS)
    return result


def _median_burst(bursts: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the median burst's figures, with errors and deliveries summed over every burst."""
    key = "server_us_per_frame" if "server_us_per_frame" in bursts[0] else "server_us_per_booking"
    measured = [burst for burst in bursts if burst.get(key) is not None] or bursts
    result = dict(sorted(measured, key=lambda burst: burst.get(key) or 0)[(len(measured) - 1) // 2])
    result["per_second"] = statistics.median(burst["per_second"] for burst in bursts)
    result["errors"] = sum(burst["errors"] for burst in bursts)
    for total in ("lost", "delivered", "expected_deliveries", "closed_early"):
        if total in result:
            result[total] = sum(burst[total] for burst in bursts)
    return result


def storm(subject: Subject, mode: str, streams: int, settings: Settings) -> dict[str, Any]:
    """Connect `streams` streams at once, as clients do after a deploy; time until all are served.

    `mode` is "resume" (EverFresh: each stream sends the `Last-Event-ID` from before
    STORM_EVENTS bookings, and is served once it holds its greeting and all of them),
    "fresh" (EverFresh without `Last-Event-ID`: served at its greeting) or "connect" (the
    floor: served at its greeting). The server's worker CPU from the first connect until
    the last stream is served, per stream, is the cost of a connect; nothing retries, so a
    stream the server ended or refused is simply not served. Runs `BENCH_STORM_REPEATS`
    storms, each on a fresh server, and reports the median of each figure (all are in the JSON).
    """
    result: dict[str, Any] = {"app": subject.name, "mode": mode, "streams": streams}
    storms = []
    for _ in range(max(1, settings.storm_repeats)):
        # A fresh server for every storm: the floor never notices a client hanging up, so
        # a second storm would find its worker still full of the first one's streams.
        server = subject.start()
        try:
            path, headers = subject.stream_request()
            booking_ids: list[str] = []
            if mode == "resume":
                assert subject.token is not None
                position = stream_position(server.port, subject.token)
                booking_ids = [subject.book().body["booking_id"] for _ in range(STORM_EVENTS)]
                headers = {**headers, "Last-Event-ID": str(position)}
            time.sleep(SETTLE_SECONDS)
            storms.append(
                _one_storm(server, subject, path, headers, booking_ids, streams, settings)
            )
        finally:
            subject.stop()
    result["events"] = len(booking_ids)
    result["storms"] = storms
    for key in ("served", "cpu_ms_per_stream", "seconds_until_served"):
        values = [run[key] for run in storms if run[key] is not None]
        result[key] = statistics.median(values) if values else None
    for key in ("unchecked_tokens", "pool_timeouts"):
        result[key] = sum(run[key] for run in storms)
    result["all_served"] = all(run["served"] == streams for run in storms)
    log.info(
        "  %s %s storm of %d: served %s (median), %.2f ms CPU/stream, all served in %s s, "
        "%d tokens unchecked",
        subject.label,
        mode,
        streams,
        result["served"],
        result["cpu_ms_per_stream"] or 0,
        result["seconds_until_served"],
        result["unchecked_tokens"],
    )
    return result


def _one_storm(
    server: servers.Server,
    subject: Subject,
    path: str,
    headers: dict[str, str],
    booking_ids: list[str],
    streams: int,
    settings: Settings,
) -> dict[str, Any]:
    log_before = server.log_tail(characters=10**9)
    loader = Loader(server.port, streams, settings.streams_per_shard, subject.environment.work_dir)
    try:
        cpu_before = processes.cpu_seconds(server.worker_pids())
        started = time.monotonic()
        loader.open(
            path,
            headers,
            wait_first=False,
            concurrency=settings.storm_concurrency,
            timeout=60 + streams / 100,
        )
        deadline = started + 60 + streams / 50
        while True:
            status = loader.served(booking_ids)
            if status["served"] >= streams or not status["pending"]:
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        cpu_seconds = processes.cpu_seconds(server.worker_pids()) - cpu_before
    finally:
        loader.close()
    log_during = server.log_tail(characters=10**9)[len(log_before) :]
    served = status["served"]
    return {
        "served": served,
        "connected": status["streams"] - sum(status["refused"].values()),
        "refused": status["refused"],
        "closed_early": status["closed_early"],
        "cpu_seconds": round(cpu_seconds, 3),
        "cpu_ms_per_stream": round(cpu_seconds * 1000 / streams, 3),
        "seconds_until_served": (
            round(status["last_served_at"] - started, 2) if served == streams else None
        ),
        "seconds_until_last_served": (
            round(status["last_served_at"] - started, 2) if served else None
        ),
        "unchecked_tokens": log_during.count(UNCHECKED_TOKEN_LINE),
        "pool_timeouts": log_during.count(POOL_EXHAUSTED_LINE),
    }
