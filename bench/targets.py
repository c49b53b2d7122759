"""Judge a run's measurements against the targets (issues 7, 15, 20): met, not met, not measured."""

from __future__ import annotations

from typing import Any

MAX_RSS_PER_STREAM_KB = 25
MAX_P99_OVER_FLOOR = 1.25
MIN_FLASK_SSE_P99_OVER_EVERFRESH = 3.0
MIN_THROUGHPUT_RATIO = 0.5
MIN_BURST_RATIO = 0.5
MAX_BURST_CPU_OVER_FLOOR = 1.0
MAX_LOGIN_STALL_MS = 20
FLOOR_COMPARISON_STREAMS = 5000
FLASK_SSE_COMPARISON_STREAMS = 2000
MAX_STORM_CPU_OVER_FLOOR = 1.5
MAX_STORM_TIME_OVER_FLOOR = 2.0


def find_fanout(
    results: dict[str, Any], app: str, streams: int, workers: int = 1
) -> dict[str, Any] | None:
    """Return the fan-out result of `app` at `streams` streams on `workers` workers, if any."""
    for run in results.get("fanout", []):
        if (run.get("app"), run.get("streams"), run.get("workers")) == (app, streams, workers):
            return run
    return None


def held_every_event(run: dict[str, Any] | None) -> bool:
    """Tell whether a fan-out run opened every stream and delivered every event to each."""
    return bool(
        run
        and "error" not in run
        and run["opened"] == run["streams"]
        and run["lost"] == 0
        and run["closed_early"] == 0
        and run["delivered"] == run["expected_deliveries"] > 0
    )


def _target(
    name: str, goal: str, measured: str, met: bool | None, detail: str = ""
) -> dict[str, Any]:
    return {"target": name, "goal": goal, "measured": measured, "met": met, "detail": detail}


def _not_measured(name: str, goal: str, why: str) -> dict[str, Any]:
    return _target(name, goal, f"not measured ({why})", None, why)


def _hold(results: dict[str, Any], name: str, streams: int, workers: int) -> dict[str, Any]:
    goal = f"{streams:,} streams on {workers} worker(s), every event delivered"
    run = find_fanout(results, "everfresh", streams, workers)
    if run is None:
        return _not_measured(name, goal, f"no EverFresh run at {streams} streams/{workers} workers")
    if "error" in run:
        return _target(name, goal, f"failed: {run['error']}", False)
    measured = (
        f"{run['opened']:,}/{streams:,} open, {run['lost']:,} of "
        f"{run['expected_deliveries']:,} deliveries lost, {run['closed_early']} closed early"
    )
    return _target(name, goal, measured, held_every_event(run))


def _ratio_of_p99(
    results: dict[str, Any], numerator: str, denominator: str, streams: int
) -> tuple[float | None, str]:
    top = find_fanout(results, numerator, streams)
    bottom = find_fanout(results, denominator, streams)
    missing = [name for name, run in ((numerator, top), (denominator, bottom)) if not run]
    if missing:
        return None, f"no run of {', '.join(missing)} at {streams} streams"
    failed = [name for name, run in ((numerator, top), (denominator, bottom)) if "error" in run]
    if failed:
        return None, f"the run of {', '.join(failed)} at {streams} streams failed"
    top_p99, bottom_p99 = top["latency_ms"]["p99"], bottom["latency_ms"]["p99"]
    if not top_p99 or not bottom_p99:
        return None, "no latency samples"
    return top_p99 / bottom_p99, f"{numerator} p99 {top_p99} ms / {denominator} p99 {bottom_p99} ms"


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Return one row per target with the measured numbers and whether it is met."""
    rows = [
        _hold(results, "One worker holds 10,000 streams", 10_000, 1),
        _hold(results, "4 workers + Redis hold 20,000 streams", 20_000, 4),
    ]

    name, goal = "RSS per idle stream", f"<= {MAX_RSS_PER_STREAM_KB} KB"
    sized = [
        run
        for run in results.get("fanout", [])
        if run.get("app") == "everfresh" and run.get("workers") == 1 and "error" not in run
    ]
    if sized:
        run = max(sized, key=lambda r: r["streams"])
        per_stream = run["rss_per_stream_kb"]
        rows.append(
            _target(
                name,
                goal,
                f"{per_stream} KB at {run['streams']:,} streams",
                per_stream is not None and per_stream <= MAX_RSS_PER_STREAM_KB,
            )
        )
    else:
        rows.append(_not_measured(name, goal, "no EverFresh fan-out run"))

    name = f"Fan-out p99 vs floor at {FLOOR_COMPARISON_STREAMS:,} streams"
    goal = f"EverFresh p99 / floor p99 <= {MAX_P99_OVER_FLOOR}"
    ratio, detail = _ratio_of_p99(results, "everfresh", "floor", FLOOR_COMPARISON_STREAMS)
    rows.append(
        _not_measured(name, goal, detail)
        if ratio is None
        else _target(name, goal, f"{ratio:.2f}x", ratio <= MAX_P99_OVER_FLOOR, detail)
    )

    name = f"Fan-out p99 vs Flask-SSE at {FLASK_SSE_COMPARISON_STREAMS:,} streams"
    goal = f"Flask-SSE p99 / EverFresh p99 >= {MIN_FLASK_SSE_P99_OVER_EVERFRESH}"
    ratio, detail = _ratio_of_p99(results, "flask-sse", "everfresh", FLASK_SSE_COMPARISON_STREAMS)
    rows.append(
        _not_measured(name, goal, detail)
        if ratio is None
        else _target(name, goal, f"{ratio:.2f}x", ratio >= MIN_FLASK_SSE_P99_OVER_EVERFRESH, detail)
    )

    rows.append(_no_loss_where_flask_sse_works(results))
    rows.append(_throughput(results))
    rows.append(_login_stall(results))
    rows.extend(_burst(results))
    for streams in sorted({run["streams"] for run in results.get("storm", [])}):
        rows.extend(_storm(results, streams))
    return rows


def find_storm(results: dict[str, Any], app: str, mode: str, streams: int) -> dict[str, Any] | None:
    """Return the storm result of `app` in `mode` at `streams` streams, if any."""
    for run in results.get("storm", []):
        if (run.get("app"), run.get("mode"), run.get("streams")) == (app, mode, streams):
            return run
    return None


def _storm(results: dict[str, Any], streams: int) -> list[dict[str, Any]]:
    """Judge a reconnect storm: every resume served, at the floor's cost and speed."""
    served_name = f"Storm of {streams:,} resumes on one worker, every one served first try"
    served_goal = "every stream: greeting and every event; no token accepted unchecked"
    cpu_name = f"Worker CPU per resume vs floor CPU per connect, {streams:,} at once"
    cpu_goal = f"<= {MAX_STORM_CPU_OVER_FLOOR}x"
    time_name = f"Time until all {streams:,} resumes are served vs the floor's connects"
    time_goal = f"<= {MAX_STORM_TIME_OVER_FLOOR}x"
    ours = find_storm(results, "everfresh", "resume", streams)
    floor = find_storm(results, "floor", "connect", streams)
    if ours is None or "error" in ours:
        why = ours["error"] if ours else f"no EverFresh resume storm at {streams}"
        return [
            _not_measured(name, goal, why)
            for name, goal in (
                (served_name, served_goal),
                (cpu_name, cpu_goal),
                (time_name, time_goal),
            )
        ]
    each = ", ".join(f"{storm['served']:,}" for storm in ours["storms"])
    rows = [
        _target(
            served_name,
            served_goal,
            f"served {each} of {streams:,}; {ours['unchecked_tokens']} tokens unchecked",
            ours["all_served"] and ours["unchecked_tokens"] == 0,
        )
    ]
    if floor is None or "error" in floor or not floor.get("cpu_ms_per_stream"):
        why = f"no floor storm at {streams}"
        return rows + [
            _not_measured(cpu_name, cpu_goal, why),
            _not_measured(time_name, time_goal, why),
        ]
    ratio = ours["cpu_ms_per_stream"] / floor["cpu_ms_per_stream"]
    rows.append(
        _target(
            cpu_name,
            cpu_goal,
            f"{ratio:.2f}x ({ours['cpu_ms_per_stream']} vs {floor['cpu_ms_per_stream']} ms)",
            ratio <= MAX_STORM_CPU_OVER_FLOOR,
        )
    )
    if ours["seconds_until_served"] is None or not floor.get("seconds_until_served"):
        rows.append(_target(time_name, time_goal, "not every stream was served", False))
    else:
        ratio = ours["seconds_until_served"] / floor["seconds_until_served"]
        rows.append(
            _target(
                time_name,
                time_goal,
                f"{ratio:.2f}x ({ours['seconds_until_served']} vs "
                f"{floor['seconds_until_served']} s)",
                ratio <= MAX_STORM_TIME_OVER_FLOOR,
            )
        )
    return rows


def find_burst(results: dict[str, Any], app: str, streams: int) -> dict[str, Any] | None:
    """Return the burst result of `app` with `streams` streams open, if any."""
    for run in results.get("burst", []):
        if (run.get("app"), run.get("streams")) == (app, streams):
            return run
    return None


def _burst(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Judge the burst: the booking rate kept with streams open, and the CPU per frame."""
    rate_name = "POST /bookings under a burst with 1,000 streams (1 worker)"
    rate_goal = f">= {MIN_BURST_RATIO}x the burst's rate with no streams, no frame lost"
    cpu_name = "Server CPU per delivered frame under the burst, request handling included"
    cpu_goal = f"EverFresh / floor <= {MAX_BURST_CPU_OVER_FLOOR}x"
    loaded = [
        run
        for run in results.get("burst", [])
        if run.get("app") == "everfresh" and run.get("streams") and "error" not in run
    ]
    quiet = find_burst(results, "everfresh", 0)
    if not loaded or quiet is None or "error" in quiet:
        why = "no EverFresh burst pair"
        return [_not_measured(rate_name, rate_goal, why), _not_measured(cpu_name, cpu_goal, why)]
    run = loaded[0]
    streams = run["streams"]
    ratio = run["per_second"] / quiet["per_second"] if quiet["per_second"] else 0.0
    rate = _target(
        rate_name,
        rate_goal,
        f"{ratio:.2f}x ({run['per_second']} vs {quiet['per_second']} bookings/s on "
        f"{run['database']}, {streams:,} streams, {run['lost']:,} of "
        f"{run['expected_deliveries']:,} deliveries lost)",
        ratio >= MIN_BURST_RATIO and run["lost"] == 0 and run["errors"] == 0,
    )
    floor = find_burst(results, "floor", streams)
    if floor is None or "error" in floor or not floor.get("server_us_per_frame"):
        return [rate, _not_measured(cpu_name, cpu_goal, f"no floor burst at {streams} streams")]
    ours, theirs = run["server_us_per_frame"], floor["server_us_per_frame"]
    cpu = _target(
        cpu_name,
        cpu_goal,
        f"{ours / theirs:.2f}x ({ours} vs {theirs} µs/frame, {streams:,} streams, "
        f"{run['requests']} bookings from {run['concurrency']} clients)",
        ours <= MAX_BURST_CPU_OVER_FLOOR * theirs and floor["lost"] == 0,
    )
    return [rate, cpu]


def _no_loss_where_flask_sse_works(results: dict[str, Any]) -> dict[str, Any]:
    name = "No lost events where Flask-SSE still works"
    goal = "EverFresh loses nothing at every size Flask-SSE delivers everything"
    working = [
        run["streams"]
        for run in results.get("fanout", [])
        if run.get("app") == "flask-sse" and held_every_event(run)
    ]
    if not working:
        return _not_measured(name, goal, "Flask-SSE delivered every event at no measured size")
    losing = [
        size for size in working if not held_every_event(find_fanout(results, "everfresh", size))
    ]
    sizes = ", ".join(f"{size:,}" for size in working)
    measured = f"EverFresh lost nothing at {sizes}" if not losing else f"lost at {losing}"
    return _target(name, goal, measured, not losing)


def _throughput(results: dict[str, Any]) -> dict[str, Any]:
    name = "POST /bookings with 1,000 streams (SQLite, 1 worker)"
    goal = f">= {MIN_THROUGHPUT_RATIO}x the rate with no streams"
    runs = {
        run["streams"]: run
        for run in results.get("throughput", [])
        if run.get("database") == "sqlite" and "error" not in run
    }
    loaded = {streams: run for streams, run in runs.items() if streams}
    if 0 not in runs or not loaded:
        return _not_measured(name, goal, "no SQLite throughput pair")
    streams, run = max(loaded.items())
    quiet = runs[0]["per_second"]
    ratio = run["per_second"] / quiet if quiet else 0.0
    lost = run.get("lost", 0)
    measured = (
        f"{ratio:.2f}x ({run['per_second']} vs {quiet} bookings/s, "
        f"{streams:,} streams, {lost} deliveries lost)"
    )
    return _target(name, goal, measured, ratio >= MIN_THROUGHPUT_RATIO and lost == 0)


def _login_stall(results: dict[str, Any]) -> dict[str, Any]:
    name = "Stall a login causes to its worker's streams"
    goal = f"<= {MAX_LOGIN_STALL_MS} ms"
    stall = results.get("login_stall")
    if not stall or "error" in stall:
        why = stall["error"] if stall else "login phase not run"
        return _not_measured(name, goal, why)
    worst = stall["login_lateness_ms"]["max"]
    quiet = stall["quiet_lateness_ms"]["max"]
    measured = (
        f"{worst} ms worst heartbeat lateness during {stall['logins']} logins (quiet: {quiet} ms)"
    )
    return _target(name, goal, measured, worst is not None and worst <= MAX_LOGIN_STALL_MS)
