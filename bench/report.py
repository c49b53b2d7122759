"""Describe the machine, write the results as JSON, and render them as small Markdown tables."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
VERSIONS_OF = ("gunicorn", "gevent", "flask", "redis", "flask-sse", "uvloop")


def load_average() -> list[float]:
    """Return the 1, 5 and 15 minute load averages (other work on the machine skews latency)."""
    try:
        return [float(value) for value in Path("/proc/loadavg").read_text().split()[:3]]
    except (OSError, ValueError):
        return []


def machine() -> dict[str, Any]:
    """Return what the numbers depend on: CPU, cores, memory, kernel, Python, key versions."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_kb = 0
    try:
        memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        pass
    versions = {}
    for name in VERSIONS_OF:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": versions,
        "loader": "same machine (asyncio loader processes share the cores with the servers)",
    }


def source_state() -> dict[str, Any]:
    """Return the commit measured and how many files under everfresh/ differ from it."""
    root = Path(__file__).resolve().parent.parent

    def git(*arguments: str) -> str:
        try:
            return subprocess.run(
                ["git", *arguments], cwd=root, capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    changed = git("status", "--porcelain", "--", "everfresh", "gunicorn.conf.py", "config.py")
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted_server_files": len(changed.splitlines()),
    }


def write_json(results: dict[str, Any], stamp: str) -> Path:
    """Write the results to bench/results/<stamp>.json and return the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{stamp}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


def latest_results() -> Path:
    """Return the newest results file."""
    files = sorted(RESULTS_DIR.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no results in {RESULTS_DIR}: run `make bench` first")
    return files[-1]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """Render a Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "NOT MET", None: "not measured"}[met]


def markdown(results: dict[str, Any]) -> str:
    """Render the whole run as Markdown: fan-out, throughput, login stall, ratios, targets."""
    parts = []
    info = results["machine"]
    parts.append(
        f"Machine: {info['cores']} cores ({info['cpu']}), {info['memory_gib']} GiB, "
        f"Python {info['python']}; loader on the same machine; load average "
        f"{results.get('load_average_start')} at start, {results.get('load_average_end')} at end. "
        f"Run {results['started_at']}, {results['duration_seconds']:.0f} s"
        + (" (quick mode)" if results["settings"]["quick"] else "")
        + "."
    )

    fanout_rows = []
    for run in results.get("fanout", []):
        if "error" in run:
            fanout_rows.append(
                [run["app"], run["workers"], run["streams"], "failed: " + run["error"][:60]]
                + [None] * 9
            )
            continue
        latency = run["latency_ms"]
        fanout_rows.append(
            [
                run["app"],
                run["workers"],
                run["streams"],
                f"{run['opened']:,}",
                latency["p50"],
                latency["p99"],
                latency["max"],
                f"{run['lost']:,}/{run['expected_deliveries']:,}",
                run["closed_early"],
                run["frame_bytes"],
                run["rss_per_stream_kb"],
                run["redis_rss_per_stream_kb"],
                "{}/{}".format(
                    run["cpu_during_events"].get("server_us_per_frame"),
                    run["cpu_during_events"].get("loader_us_per_frame"),
                ),
            ]
        )
    if fanout_rows:
        parts.append(
            "### Fan-out (one booking at a time; latency from POST sent to frame received)\n\n"
            + table(
                [
                    "app",
                    "workers",
                    "streams",
                    "open",
                    "p50 ms",
                    "p99 ms",
                    "max ms",
                    "lost",
                    "closed",
                    "frame B",
                    "RSS KB/stream",
                    "Redis KB/stream",
                    "CPU µs/frame server/loader",
                ],
                fanout_rows,
            )
        )

    throughput_rows = [
        [
            run["database"],
            run["streams"],
            f"{run['bursts']} x {run['requests']}",
            run["concurrency"],
            run["per_second"],
            run["errors"],
            run.get("lost"),
        ]
        for run in results.get("throughput", [])
        if "error" not in run
    ]
    throughput_rows += [
        [run["database"], "failed: " + run["error"][:60]] + [None] * 5
        for run in results.get("throughput", [])
        if "error" in run
    ]
    if throughput_rows:
        parts.append(
            "### POST /bookings throughput (EverFresh, 1 worker)\n\n"
            + table(
                [
                    "database",
                    "streams",
                    "requests",
                    "clients",
                    "bookings/s (median)",
                    "errors",
                    "lost",
                ],
                throughput_rows,
            )
        )

    burst_rows = [
        [
            run["app"],
            run["database"],
            run["streams"],
            f"{run['requests']} / {run['concurrency']}",
            run["per_second"],
            run["errors"],
            run.get("server_us_per_frame"),
            run.get("server_us_per_booking"),
            run.get("drain_seconds"),
            (f"{run['lost']:,}/{run['expected_deliveries']:,}" if "lost" in run else None),
        ]
        if "error" not in run
        else [run["app"], run["database"], "failed: " + run["error"][:60]] + [None] * 7
        for run in results.get("burst", [])
    ]
    if burst_rows:
        parts.append(
            "### Burst (1 worker; one burst of POST /bookings, every frame to every stream)\n\n"
            + table(
                [
                    "app",
                    "database",
                    "streams",
                    "requests / clients",
                    "bookings/s",
                    "errors",
                    "server CPU µs/frame",
                    "server CPU µs/booking",
                    "drained s",
                    "lost",
                ],
                burst_rows,
            )
        )

    storm_rows = [
        [
            run["app"],
            run["mode"],
            run.get("database"),
            run["streams"],
            f"{run['served']:,}/{run['streams']:,}" if run.get("served") is not None else None,
            run.get("cpu_ms_per_stream"),
            run.get("seconds_until_served"),
            ", ".join(
                f"{storm['served']:,} in {storm['seconds_until_last_served']} s"
                for storm in run.get("storms", [])
            ),
            run.get("unchecked_tokens"),
            run.get("pool_timeouts"),
        ]
        if "error" not in run
        else [run["app"], run["mode"], run.get("database"), run["streams"]]
        + ["failed: " + run["error"][:60]]
        + [None] * 5
        for run in results.get("storm", [])
    ]
    if storm_rows:
        parts.append(
            "### Storm (1 worker; every stream connects at once; median of the storms)\n\n"
            + table(
                [
                    "app",
                    "mode",
                    "database",
                    "streams",
                    "served (greeting + every event, first try)",
                    "worker CPU ms/stream",
                    "s until all served",
                    "each storm: served in s",
                    "tokens unchecked",
                    "pool timeouts",
                ],
                storm_rows,
            )
        )

    stall = results.get("login_stall")
    if stall and "error" not in stall:
        rows = [
            ["no logins", stall["quiet_samples"]]
            + [stall["quiet_lateness_ms"][key] for key in ("p50", "p99", "max")],
            [f"{stall['logins']} logins (scrypt)", stall["login_samples"]]
            + [stall["login_lateness_ms"][key] for key in ("p50", "p99", "max")],
        ]
        parts.append(
            f"### Heartbeat lateness on {stall['streams']:,} streams "
            f"(SSE_HEARTBEAT_SECONDS=1; login took p50 {stall['login_ms']['p50']} ms)\n\n"
            + table(["window", "heartbeats", "p50 ms", "p99 ms", "max ms"], rows)
        )
    elif stall:
        parts.append(f"### Login stall\n\nfailed: {stall['error']}")

    ratio_rows = [[row["name"], row["value"]] for row in results.get("ratios", [])]
    if ratio_rows:
        parts.append("### Ratios (same run)\n\n" + table(["ratio", "value"], ratio_rows))

    target_rows = [
        [row["target"], row["goal"], row["measured"], _verdict(row["met"])]
        for row in results.get("targets", [])
    ]
    parts.append(
        "### Targets (issues 7, 15 and 20)\n\n"
        + table(["target", "goal", "measured", "result"], target_rows)
    )

    for profile in results.get("profiles", []):
        top = ", ".join(f"{entry['function']} {entry['percent']}%" for entry in profile["self"][:8])
        parts.append(
            f"Profile {profile['name']} ({profile['samples']} samples, {profile['path']}): "
            f"top self time: {top}"
        )
    return "\n\n".join(parts) + "\n"


def ratios(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the headline ratios: p99 against the floor and Flask-SSE, RSS per stream per app."""
    from bench.targets import find_fanout

    rows = []
    for streams, top, bottom in ((5000, "everfresh", "floor"), (2000, "flask-sse", "everfresh")):
        a, b = find_fanout(results, top, streams), find_fanout(results, bottom, streams)
        if a and b and "error" not in a and "error" not in b:
            if a["latency_ms"]["p99"] and b["latency_ms"]["p99"]:
                value = f"{a['latency_ms']['p99'] / b['latency_ms']['p99']:.2f}x"
                rows.append(
                    {"name": f"{top} p99 / {bottom} p99 at {streams:,} streams", "value": value}
                )
    bursts = {
        (run["app"], run["streams"]): run for run in results.get("burst", []) if "error" not in run
    }
    streamed = [run for (app, n), run in bursts.items() if app == "everfresh" and n]
    idle = bursts.get(("everfresh", 0))
    if streamed and idle and idle["per_second"]:
        run = streamed[0]
        value = f"{run['per_second'] / idle['per_second']:.2f}x"
        rows.append(
            {"name": f"burst bookings/s with {run['streams']:,} streams / none", "value": value}
        )
        if idle.get("server_us_per_booking") and run.get("delivered"):
            # The bookings' own work (SQL, JSON) measured without streams, taken out.
            own = idle["server_us_per_booking"] * (run["requests"] - run["errors"]) / 1e6
            net = (run["server_cpu_seconds"] - own) * 1e6 / run["delivered"]
            rows.append(
                {
                    "name": "burst server CPU per frame, everfresh, less the bookings' own",
                    "value": f"{net:.1f} µs",
                }
            )
        floor = bursts.get(("floor", run["streams"]))
        if floor and floor.get("server_us_per_frame") and run.get("server_us_per_frame"):
            value = f"{run['server_us_per_frame'] / floor['server_us_per_frame']:.2f}x"
            rows.append({"name": "burst server CPU per frame, everfresh / floor", "value": value})
    for app in ("everfresh", "floor", "flask-sse"):
        runs = [
            r
            for r in results.get("fanout", [])
            if r.get("app") == app and r.get("workers") == 1 and "error" not in r
        ]
        if runs:
            run = max(runs, key=lambda r: r["streams"])
            value = f"{run['rss_per_stream_kb']} KB at {run['streams']:,} streams"
            if run.get("redis_rss_per_stream_kb"):
                value += f" (+{run['redis_rss_per_stream_kb']} KB in Redis)"
            rows.append({"name": f"{app} RSS per stream", "value": value})
    return rows
