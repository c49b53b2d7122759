"""Run every phase of the benchmark in order, bounded in time, and always clean up after it."""

from __future__ import annotations

import logging
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report, scenarios, servers, targets
from bench.loader import raise_open_file_limit
from bench.plot import plot
from bench.profiling import Profiler, py_spy
from bench.settings import Settings
from bench.subjects import Environment, EverFresh, FlaskSSE, Floor, Subject

log = logging.getLogger("bench")

# A private Redis must take one connection per Flask-SSE stream, within its open-file limit.
REDIS_MAX_CLIENTS = 19_000
SUBJECTS: dict[str, type[Subject]] = {"everfresh": EverFresh, "floor": Floor, "flask-sse": FlaskSSE}


class OutOfTime(Exception):
    """Raised when the whole run exceeds BENCH_TIMEOUT."""


def _raise_out_of_time(signum: int, frame: object) -> None:
    raise OutOfTime("the benchmark ran past BENCH_TIMEOUT; stopping")


def _raise_exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _guarded(what: str, base: dict[str, Any], measure: Callable[[], Any]) -> Any:
    """Run one measurement; a failure is recorded in the results instead of ending the run."""
    try:
        return measure()
    except (OutOfTime, KeyboardInterrupt, SystemExit):
        raise
    except Exception as error:
        log.exception("%s failed", what)
        return {**base, "error": f"{type(error).__name__}: {error}"[:500]}


def run(settings: Settings) -> int:
    """Run the benchmark with `settings`, print the tables, write the JSON; return an exit code."""
    raise_open_file_limit()
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGALRM, _raise_out_of_time)
    signal.alarm(settings.timeout_seconds)
    started = time.monotonic()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    work_dir = Path(tempfile.mkdtemp(prefix="everfresh-bench-"))
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": report.machine(),
        "source": report.source_state(),
        "load_average_start": report.load_average(),
        "settings": settings.as_json(),
        "fanout": [],
        "throughput": [],
        "burst": [],
        "storm": [],
        "profiles": [],
    }
    redis = postgres = None
    failed = False
    try:
        redis = servers.RedisServer(work_dir, REDIS_MAX_CLIENTS, settings.redis_url)
        sqlite_url = f"sqlite:///{work_dir / 'everfresh.sqlite3'}"
        log.info("Preparing the SQLite database (schema, demo data with scrypt hashes)")
        servers.prepare_everfresh_database(sqlite_url, work_dir)
        postgres_url = None
        if settings.postgres_admin_url and settings.postgres_admin_url != "off":
            postgres = _guarded(
                "PostgreSQL", {}, lambda: servers.PostgresDatabase(settings.postgres_admin_url)
            )
            if isinstance(postgres, dict):
                results["postgres_error"] = postgres["error"]
                postgres = None
            else:
                log.info("Preparing PostgreSQL database %s", postgres.name)
                servers.prepare_everfresh_database(postgres.url, work_dir)
                postgres_url = postgres.url
        environment = Environment(
            work_dir=work_dir,
            worker_connections=settings.worker_connections,
            sqlite_url=sqlite_url,
            postgres_url=postgres_url,
            redis=redis,
        )
        _run_phases(settings, environment, results, stamp)
    except (OutOfTime, KeyboardInterrupt, SystemExit) as error:
        failed = True
        results["aborted"] = f"{type(error).__name__}: {error}"
        log.error("Aborted: %s", results["aborted"])
    finally:
        signal.alarm(0)
        if redis is not None:
            redis.stop()
        if postgres is not None:
            postgres.drop()
        _keep_logs_if_anything_failed(results, work_dir, stamp, failed)
        shutil.rmtree(work_dir, ignore_errors=True)

    results["duration_seconds"] = round(time.monotonic() - started, 1)
    results["load_average_end"] = report.load_average()
    results["ratios"] = report.ratios(results)
    results["targets"] = targets.evaluate(results)
    path = report.write_json(results, stamp)
    print()
    print(report.markdown(results))
    print(f"Results: {path}")
    if settings.plot:
        print(f"Plot: {plot(path)}")
    return 1 if failed else 0


def _run_phases(
    settings: Settings, environment: Environment, results: dict[str, Any], stamp: str
) -> None:
    if "fanout" in settings.phases:
        for streams in settings.streams:
            for app in settings.apps:
                if app == "flask-sse" and streams > settings.flask_sse_max_streams:
                    log.info(
                        "Skipping flask-sse at %d streams (BENCH_FLASK_SSE_MAX_STREAMS)", streams
                    )
                    continue
                log.info("Fan-out: %s, %d streams, %d events", app, streams, settings.events)
                subject = SUBJECTS[app](environment)
                base = {"app": app, "workers": 1, "streams": streams}
                results["fanout"].append(
                    _guarded(
                        f"{app} at {streams}",
                        base,
                        lambda s=subject, n=streams: scenarios.fan_out(s, n, settings),
                    )
                )

    if "scaleout" in settings.phases and settings.scaleout_streams:
        workers, streams = settings.scaleout_workers, settings.scaleout_streams
        database = environment.postgres_url or environment.sqlite_url
        log.info("Scale-out: EverFresh, %d workers + Redis, %d streams", workers, streams)
        # Four workers' pools must fit PostgreSQL's max_connections (100) beside other users.
        subject = EverFresh(
            environment,
            workers=workers,
            database_url=database,
            use_redis=True,
            extra_env={"DATABASE_POOL_SIZE": "4"},
        )
        base = {"app": "everfresh", "workers": workers, "streams": streams}
        run = _guarded("scale-out", base, lambda: scenarios.fan_out(subject, streams, settings))
        run["database"] = "postgresql" if environment.postgres_url else "sqlite"
        results["fanout"].append(run)

    if "throughput" in settings.phases:
        databases = [("sqlite", environment.sqlite_url)]
        if environment.postgres_url:
            databases.append(("postgresql", environment.postgres_url))
        for name, url in databases:
            log.info("Throughput: %s", name)
            subject = EverFresh(environment, database_url=url)
            rows = _guarded(
                f"throughput on {name}",
                {"database": name},
                lambda s=subject, n=name: scenarios.throughput(s, n, settings),
            )
            results["throughput"].extend(rows if isinstance(rows, list) else [rows])

    if "burst" in settings.phases:
        # PostgreSQL when available: its round trips pace the bookings the streams must follow.
        database = "postgresql" if environment.postgres_url else "sqlite"
        url = environment.postgres_url or environment.sqlite_url
        burst_subjects: list[tuple[Subject, str, bool]] = [
            (EverFresh(environment, database_url=url), database, True),
            (Floor(environment), "none", False),
        ]
        for subject, name, idle_rate in burst_subjects:
            log.info(
                "Burst: %s, %d streams, %d bookings",
                subject.name,
                settings.burst_streams,
                settings.burst_requests,
            )
            rows = _guarded(
                f"burst on {subject.name}",
                {"app": subject.name, "database": name},
                lambda s=subject, n=name, i=idle_rate: scenarios.burst(s, n, settings, i),
            )
            results["burst"].extend(rows if isinstance(rows, list) else [rows])

    if "login" in settings.phases:
        log.info("Login stall: %d streams, 1 s heartbeat", settings.login_streams)
        subject = EverFresh(environment, extra_env={"SSE_HEARTBEAT_SECONDS": "1"})
        results["login_stall"] = _guarded(
            "login stall", {}, lambda: scenarios.login_stall(subject, settings)
        )

    if "storm" in settings.phases:
        _storm(settings, environment, results)

    if settings.profile:
        _profile(settings, environment, results, stamp)


def _storm(settings: Settings, environment: Environment, results: dict[str, Any]) -> None:
    """Storm one worker on PostgreSQL and Redis with resumes and fresh streams, then the floor."""
    database = "postgresql" if environment.postgres_url else "sqlite"
    url = environment.postgres_url or environment.sqlite_url
    for streams in settings.storm_streams:
        storm_subjects: list[tuple[Subject, str]] = [
            (EverFresh(environment, database_url=url, use_redis=True), "resume"),
            (EverFresh(environment, database_url=url, use_redis=True), "fresh"),
            (Floor(environment), "connect"),
        ]
        for subject, mode in storm_subjects:
            log.info("Storm: %s %s, %d streams at once", subject.name, mode, streams)
            base = {"app": subject.name, "mode": mode, "streams": streams}
            run = _guarded(
                f"{mode} storm on {subject.name}",
                base,
                lambda s=subject, m=mode, n=streams: scenarios.storm(s, m, n, settings),
            )
            run["database"] = database if subject.name == "everfresh" else "none"
            results["storm"].append(run)


def _profile(
    settings: Settings, environment: Environment, results: dict[str, Any], stamp: str
) -> None:
    """Profile EverFresh's worker with py-spy in the chosen phases: fan-out, POSTs, the burst.

    Profiled runs are kept apart: their numbers never feed a target.
    """
    if py_spy() is None:
        results["profiles"].append({"name": "profile", "error": "py-spy is not installed"})
        return
    directory = report.RESULTS_DIR / f"{stamp}-profiles"
    directory.mkdir(parents=True, exist_ok=True)

    def profiler_for(name: str) -> Profiler:
        return Profiler(directory / f"{name}.txt")

    def keep_profiles(key: str, rows: Any, name_of: Callable[[dict[str, Any]], str]) -> None:
        for row in rows if isinstance(rows, list) else []:
            if "profile" in row:
                results["profiles"].append({"name": name_of(row), **row.pop("profile")})
        results[key] = rows

    if "fanout" in settings.phases:
        streams, events = settings.profile_streams, settings.profile_events
        for app in ("everfresh", "floor"):
            log.info("Profile: %s fan-out at %d streams, %d events", app, streams, events)
            profiler = profiler_for(f"{app}-fanout-{streams}")
            subject = SUBJECTS[app](environment)
            run = _guarded(
                f"profiled {app} fan-out",
                {},
                lambda s=subject, p=profiler: scenarios.fan_out(s, streams, settings, events, p),
            )
            if "profile" in run:
                results["profiles"].append(
                    {"name": f"{app}-fanout-{streams}", **run.pop("profile")}
                )
            results.setdefault("profiled_fanout", []).append(run)

    if "throughput" in settings.phases:
        log.info("Profile: POST /bookings with 0 and %d streams", settings.throughput_streams)
        rows = _guarded(
            "profiled throughput",
            {},
            lambda: scenarios.throughput(EverFresh(environment), "sqlite", settings, profiler_for),
        )
        keep_profiles(
            "profiled_throughput", rows, lambda row: f"throughput-sqlite-{row['streams']}"
        )

    if "burst" in settings.phases:
        database = "postgresql" if environment.postgres_url else "sqlite"
        url = environment.postgres_url or environment.sqlite_url
        log.info("Profile: a burst on %s with 0 and %d streams", database, settings.burst_streams)
        rows = _guarded(
            "profiled burst",
            {},
            lambda: scenarios.burst(
                EverFresh(environment, database_url=url), database, settings, True, profiler_for
            ),
        )
        keep_profiles("profiled_burst", rows, lambda row: f"burst-{database}-{row['streams']}")


def _keep_logs_if_anything_failed(
    results: dict[str, Any], work_dir: Path, stamp: str, aborted: bool
) -> None:
    failures = [
        run
        for run in results["fanout"] + results["throughput"] + results["burst"] + results["storm"]
        if "error" in run
    ]
    if not (aborted or failures or "error" in results.get("login_stall", {})):
        return
    kept = report.RESULTS_DIR / f"{stamp}-logs"
    kept.mkdir(parents=True, exist_ok=True)
    for log_file in work_dir.glob("*.log"):
        shutil.copy(log_file, kept / log_file.name)
    results["logs"] = str(kept)
