"""Check the metrics operators scrape, the monitoring files in docs/, and /readyz's probes."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import gevent
import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from everfresh.extensions import db
from everfresh.process_metrics import WorkerProcessCollector, live_worker_pids
from everfresh.sse.broker import Envelope, RedisBroker
from tests.dates import in_days
from tests.live import DEMO_PASSWORD, ROOT
from tests.polling import wait_for

MONITORING = Path(ROOT) / "docs" / "monitoring"
# Names EverFresh exports; `up` and `probe_success` come from Prometheus and the blackbox
# exporter, and PromQL's functions and labels never start this way.
EXPORTED_NAME = re.compile(r"\b(?:everfresh|process|python)_[a-z_]+\b")
PAGE_SIZE = 4096


def value(name: str, labels: dict[str, str] | None = None) -> float:
    """Return this process's value of one sample, 0 when it has none yet."""
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def fake_proc(root: Path, pid: int, rss_pages: int, cpu_ticks: int, fds: int) -> None:
    """Write the parts of /proc/<pid> that prometheus-client's process collector reads."""
    directory = root / str(pid)
    (directory / "fd").mkdir(parents=True)
    for number in range(fds):
        (directory / "fd" / str(number)).touch()
    # Fields after the command: state, then 3..52 as in proc(5); utime is 14, rss is 24.
    fields = ["S"] + ["0"] * 50
    fields[11], fields[12] = str(cpu_ticks), "0"
    fields[19], fields[20], fields[21] = "100", "1000000", str(rss_pages)
    (directory / "stat").write_text(f"{pid} (gunicorn: worker) " + " ".join(fields))
    (directory / "limits").write_text("Max open files            4096      4096      files\n")


def test_process_metrics_sum_every_live_worker(tmp_path, monkeypatch):
    proc, metrics_dir = tmp_path / "proc", tmp_path / "metrics"
    metrics_dir.mkdir()
    (proc).mkdir()
    (proc / "stat").write_text("cpu 0 0 0 0\nbtime 1700000000\n")
    fake_proc(proc, 101, rss_pages=1000, cpu_ticks=250, fds=7)
    fake_proc(proc, 102, rss_pages=3000, cpu_ticks=150, fds=5)
    # A worker whose process is gone, and the counters of one that exited cleanly.
    (metrics_dir / "gauge_livesum_103.db").touch()
    (metrics_dir / "counter_104.db").touch()
    for pid in (101, 102):
        (metrics_dir / f"gauge_livesum_{pid}.db").touch()
    monkeypatch.setattr("prometheus_client.process_collector._PAGESIZE", PAGE_SIZE)
    monkeypatch.setattr("os.sysconf", lambda name: 100)

    samples = {
        sample.name: sample.value
        for family in WorkerProcessCollector(metrics_dir, proc=str(proc)).collect()
        for sample in family.samples
    }

    assert live_worker_pids(metrics_dir, proc=str(proc)) == [101, 102]
    assert samples == {
        "everfresh_workers": 2,
        "process_resident_memory_bytes": 4000 * PAGE_SIZE,
        "process_virtual_memory_bytes": 2_000_000,
        "process_open_fds": 12,
        "process_max_fds": 8192,
        "process_cpu_seconds_total": 4.0,
        "process_start_time_seconds": 1700000001.0,
    }


@pytest.mark.parametrize(
    ("password", "outcome", "status"),
    [(DEMO_PASSWORD, "success", 200), ("wrong-password", "bad_credentials", 401)],
)
def test_each_login_is_counted_under_its_outcome(client, password, outcome, status):
    before = value("everfresh_logins_total", {"outcome": outcome})

    response = client.post(
        "/auth/login", json={"email": "staff@everfresh.test", "password": password}
    )

    assert response.status_code == status
    assert value("everfresh_logins_total", {"outcome": outcome}) == before + 1


def test_a_refused_login_is_counted_as_rate_limited(app, client):
    app.config["LOGIN_RATE_LIMIT_PER_IP"] = "1/minute"
    body = {"email": "staff@everfresh.test", "password": "wrong-password"}
    assert client.post("/auth/login", json=body).status_code == 401
    before = value("everfresh_logins_total", {"outcome": "rate_limited"})

    assert client.post("/auth/login", json=body).status_code == 429

    assert value("everfresh_logins_total", {"outcome": "rate_limited"}) == before + 1


def test_bookings_and_their_changes_are_counted(client, login_as, tenants):
    staff = login_as("staff")
    created_before = value("everfresh_bookings_created_total")
    updates_before = value("everfresh_booking_updates_total")
    body = {
        "customer_id": tenants["everfresh"].customer_id,
        "service_id": tenants["everfresh"].service_id,
        "scheduled_date": in_days(1),
        "scheduled_time_start": "10:00",
    }
    booking = client.post("/bookings", json=body, headers=staff).json

    client.patch(f"/bookings/{booking['booking_id']}", json={"status": "confirmed"}, headers=staff)
    # Nothing changes, so nothing is committed or counted.
    client.patch(f"/bookings/{booking['booking_id']}", json={"status": "confirmed"}, headers=staff)

    assert value("everfresh_bookings_created_total") == created_before + 1
    assert value("everfresh_booking_updates_total") == updates_before + 1


def test_database_connections_in_use_follow_the_pool(app):
    with app.app_context():
        before = value("everfresh_database_connections_in_use")
        with db.engine.connect():
            assert value("everfresh_database_connections_in_use") == before + 1
        assert value("everfresh_database_connections_in_use") == before


def test_a_stream_reports_its_lifetime_and_its_events_fan_out_latency(client, login_as, tenants):
    streams_before = value("everfresh_stream_lifetime_seconds_count")
    fan_outs_before = value("everfresh_fan_out_seconds_count")
    response = client.get("/sse/events", headers=login_as("staff"), buffered=False)
    frames = iter(response.response)
    next(frames)
    body = {
        "customer_id": tenants["everfresh"].customer_id,
        "service_id": tenants["everfresh"].service_id,
        "scheduled_date": in_days(1),
        "scheduled_time_start": "11:00",
    }
    assert client.post("/bookings", json=body, headers=login_as("admin")).status_code == 201

    assert next(frames).startswith(b"id: ")
    assert value("everfresh_fan_out_seconds_count") == fan_outs_before + 1
    assert value("everfresh_stream_lifetime_seconds_count") == streams_before
    response.close()
    assert value("everfresh_stream_lifetime_seconds_count") == streams_before + 1


def test_fan_out_through_redis_is_timed_by_the_worker_that_committed():
    # Redis is unreachable on purpose: publish only queues, and what Redis would hand back
    # is given to `receive` directly.
    broker = RedisBroker(10, 2, b": hb\n\n", redis_url="redis://127.0.0.1:1/0", prefix="t")
    subscriber = broker.subscribe("comp_a", "user_1", time.time() + 3600)
    broker.publish(Envelope("comp_a", 1, 1, b"e1", committed_at=time.time()))
    before = value("everfresh_fan_out_seconds_count")

    broker.receive(broker.envelope("comp_a", 1, 1, b"e1"))
    # Committed by another worker: delivered, but this worker cannot time it.
    broker.receive(broker.envelope("comp_a", 2, 2, b"e2"))

    assert gevent.with_timeout(1, subscriber.next_frames) == [b"e1", b"e2"]
    assert value("everfresh_fan_out_seconds_count") == before + 1
    broker.shutdown()


def scraped_names(text: str) -> set[str]:
    """Return every sample name in a Prometheus text scrape."""
    return {
        sample.name for family in text_string_to_metric_families(text) for sample in family.samples
    }


def monitoring_files() -> dict[str, str]:
    """Load the three monitoring files, checking each parses, and return their expressions."""
    prometheus = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    alerts = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    assert prometheus["rule_files"] == ["alerts.yml"]
    assert {job["job_name"] for job in prometheus["scrape_configs"]} == {
        "everfresh",
        "everfresh-readyz",
    }
    rules = [rule for group in alerts["groups"] for rule in group["rules"]]
    for rule in rules:
        assert {"alert", "expr", "for", "labels", "annotations"} <= rule.keys(), rule
        assert rule["labels"]["severity"] in {"critical", "warning"}
    return {
        "alerts.yml": "\n".join(rule["expr"] for rule in rules),
        "grafana-dashboard.json": "\n".join(
            target["expr"] for panel in dashboard["panels"] for target in panel["targets"]
        )
        + "\n"
        + json.dumps(dashboard["templating"]),
    }


@pytest.mark.live
def test_every_metric_the_monitoring_files_use_is_exported(live_server, redis_url, redis_prefix):
    server = live_server(WEB_CONCURRENCY="2", REDIS_URL=redis_url, REDIS_PREFIX=redis_prefix)
    # Both workers answer scrapes, so both must be up before the process totals are read.
    wait_for(lambda: server.metric("everfresh_workers") == 2, timeout=20)
    wait_for(lambda: server.metric("everfresh_redis_listener_connected") == 2, timeout=20)
    token = server.login("admin@everfresh.test")
    with server.stream(token) as stream:
        assert stream.next_event().data is not None
        booking = server.create_booking(token)
        assert stream.next_event().json["booking_id"] == booking["booking_id"]
    server.request(
        "PATCH", f"/bookings/{booking['booking_id']}", {"status": "confirmed"}, token=token
    )
    wait_for(lambda: server.metric("everfresh_open_streams") == 0)

    text = server.request("GET", "/metrics").body.decode()

    exported = scraped_names(text)
    expressions = monitoring_files()
    for file, expression in expressions.items():
        used = set(EXPORTED_NAME.findall(expression))
        assert used, f"{file} uses no EverFresh metric"
        assert used <= exported, f"{file} uses metrics /metrics lacks: {sorted(used - exported)}"
    for name in (
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_cpu_seconds_total",
        "python_info",
        "everfresh_bookings_created_total",
        "everfresh_booking_updates_total",
        "everfresh_fan_out_seconds_count",
        "everfresh_stream_lifetime_seconds_count",
    ):
        assert name in exported, name
    assert server.metric("everfresh_bookings_created_total") == 1
    assert server.metric("everfresh_booking_updates_total") == 1
    assert server.metric("everfresh_stream_lifetime_seconds_count") == 1
    assert 'everfresh_logins_total{outcome="success"} 1.0' in text
    readme = (Path(ROOT) / "README.md").read_text()
    for family in text_string_to_metric_families(text):
        name = family.name + ("_total" if family.type == "counter" else "")
        assert f"| `{name}` |" in readme, f"{name} is missing from the README's metrics table"


@pytest.mark.live
def test_readyz_names_each_redis_use_while_redis_is_down(live_server, private_redis):
    server = live_server(REDIS_URL=private_redis.url)
    ready = server.request("GET", "/readyz")
    assert (ready.status, ready.body["checks"]) == (
        200,
        {
            "database": "ok",
            "redis_broker": "ok",
            "redis_stream_leases": "ok",
            "redis_denylist": "ok",
            "redis_login_limits": "ok",
        },
    )

    private_redis.stop()
    started = time.monotonic()
    answer = server.request("GET", "/readyz", timeout=20)
    waited = time.monotonic() - started

    assert answer.status == 503
    checks = answer.body["error"]["checks"]
    assert checks["database"] == "ok"
    redis_checks = {name: state for name, state in checks.items() if name != "database"}
    assert set(redis_checks) == {
        "redis_broker",
        "redis_stream_leases",
        "redis_denylist",
        "redis_login_limits",
    }
    assert set(redis_checks.values()) <= {"unreachable", "timeout"}
    # Loose on purpose: the probes run concurrently, each cut off after a second.
    assert waited < 10
