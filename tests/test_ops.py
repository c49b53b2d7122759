"""Check the liveness, readiness and metrics endpoints."""

from __future__ import annotations

import re
import socket

import pytest
from prometheus_client import REGISTRY

from everfresh import create_app
from everfresh.sse.frames import CONNECTION_ESTABLISHED_MESSAGE, as_json
from everfresh.web.request_timing import KNOWN_METHODS
from tests.live import free_port

DURATION_COUNT = re.compile(
    r'^everfresh_request_duration_seconds_count\{method="([^"]*)",route="([^"]*)",'
    r'status="([^"]*)"\} (\S+)$',
    re.MULTILINE,
)


ALL_OK = {
    "database": "ok",
    "redis_broker": "ok",
    "redis_stream_leases": "ok",
    "redis_denylist": "ok",
    "redis_login_limits": "ok",
}


def test_healthz_answers_while_the_process_lives(client):
    response = client.get("/healthz")
    assert (response.status_code, response.json) == (200, {"status": "ok"})


def test_readyz_reports_a_reachable_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok"}}


def test_readyz_checks_redis_too_when_configured(database_url, redis_url, redis_prefix):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": redis_url,
            "REDIS_PREFIX": redis_prefix,
        },
        environment="testing",
    )
    response = app.test_client().get("/readyz")
    assert (response.status_code, response.json) == (200, {"status": "ok", "checks": ALL_OK})


def test_readyz_is_503_json_when_a_dependency_is_down(database_url):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        },
        environment="testing",
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["error"]["code"] == 503
    assert response.json["error"]["checks"] == {
        "database": "ok",
        "redis_broker": "unreachable",
        "redis_stream_leases": "unreachable",
        "redis_denylist": "unreachable",
        "redis_login_limits": "unreachable",
    }


def test_metrics_export_stream_and_request_figures(client, login_as):
    client.get("/auth/me", headers=login_as("staff"))
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.get_data(as_text=True)
    for name in (
        "everfresh_open_streams",
        "everfresh_events_published_total",
        "everfresh_events_delivered_total",
        "everfresh_events_replayed_total",
        "everfresh_events_dropped_total",
        "everfresh_slow_consumers_dropped_total",
    ):
        assert f"\n{name} " in text, name
    assert (
        'everfresh_request_duration_seconds_count{method="GET",route="/auth/me",status="200"}'
        in text
    )


def requests_counted(method: str, route: str, status: str) -> float:
    """Return how many requests this process's histogram holds under these labels."""
    labels = {"method": method, "route": route, "status": status}
    return REGISTRY.get_sample_value("everfresh_request_duration_seconds_count", labels) or 0.0


@pytest.mark.parametrize(
    ("method", "path", "labels"),
    [
        ("GET", "/healthz", ("GET", "/healthz", "200")),
        ("GET", "/no/such/page", ("GET", "unmatched", "404")),
        ("DELETE", "/healthz", ("DELETE", "unmatched", "405")),
        ("BREW", "/healthz", ("other", "unmatched", "405")),
        ("M-SEARCH", "/no/such/page", ("other", "unmatched", "404")),
    ],
)
def test_each_request_is_counted_once_under_bounded_labels(client, method, path, labels):
    before = requests_counted(*labels)

    client.open(path, method=method)

    assert requests_counted(*labels) == before + 1


def test_a_stream_is_counted_when_it_ends(client, login_as):
    labels = ("GET", "/sse/events", "200")
    before = requests_counted(*labels)
    response = client.get("/sse/events", headers=login_as("staff"), buffered=False)
    greeting = next(iter(response.response))
    assert greeting.startswith(b"id: ")
    assert greeting.endswith(
        b"\ndata: " + as_json(CONNECTION_ESTABLISHED_MESSAGE).encode() + b"\n\n"
    )
    assert requests_counted(*labels) == before

    response.close()

    assert requests_counted(*labels) == before + 1


def send_raw(port: int, method: str, path: str) -> bytes:
    """Send one request with any method name over a plain socket; return the status line."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


@pytest.mark.live
def test_made_up_methods_cannot_grow_the_metric_labels(live_server):
    server = live_server()
    # gunicorn accepts any method of upper-case letters and digits; each used to become a
    # label of its own, kept in the worker's memory and in every scrape.
    methods = [f"MADEUP{number:03d}" for number in range(200)]
    for method in methods:
        assert send_raw(server.port, method, "/healthz") == b"HTTP/1.1 405 METHOD NOT ALLOWED"

    text = server.request("GET", "/metrics").body.decode()

    counted = {
        (method, route, status): float(count)
        for method, route, status, count in DURATION_COUNT.findall(text)
    }
    assert {method for method, _, _ in counted} <= KNOWN_METHODS | {"other"}
    assert counted[("other", "unmatched", "405")] == len(methods)
