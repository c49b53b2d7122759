"""Check the liveness, readiness and metrics endpoints."""

from __future__ import annotations

from everfresh import create_app
from tests.live import free_port


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
    assert response.json == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


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
    assert response.json["error"]["checks"] == {"database": "ok", "redis": "unreachable"}


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
