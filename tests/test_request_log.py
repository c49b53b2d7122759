"""Check the request log: one line per request, by route, as text or JSON, with no secrets."""

from __future__ import annotations

import json
import logging
import sys
import time

import pytest

from everfresh import create_app
from everfresh.sse.frames import connection_established_frame
from everfresh.web.request_log import JsonFormatter, configure_logging

PASSWORD = "everfresh-demo"


@pytest.fixture
def request_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture the request log's records at INFO."""
    caplog.set_level(logging.INFO, logger="everfresh.request")
    return caplog


def lines_of(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "everfresh.request"]


@pytest.mark.parametrize(
    ("method", "path", "route", "status"),
    [
        ("GET", "/bookings/01JD4Z6M3Q5Y7C9V2B4N6R8T0W", "/bookings/<booking_id>", 404),
        ("GET", "/customers?limit=1", "/customers", 200),
        ("POST", "/customers", "/customers", 415),
        ("GET", "/no/such/page?token=abc", "-", 404),
        ("DELETE", "/auth/login", "-", 405),
    ],
)
def test_each_request_logs_one_line_with_method_route_status_and_duration(
    client, login_as, request_log, method, path, route, status
):
    response = client.open(path, method=method, headers=login_as("staff"))

    assert response.status_code == status
    [line] = lines_of(request_log)
    assert (line.method, line.route, line.status) == (method, route, status)
    assert isinstance(line.duration_ms, float) and 0 <= line.duration_ms < 5000
    assert line.getMessage() == f"{method} {route} {status} {line.duration_ms:.1f}ms"


def test_a_stream_is_logged_when_it_ends(client, login_as, request_log):
    response = client.get("/sse/events", headers=login_as("staff"), buffered=False)
    assert next(iter(response.response)) == connection_established_frame(0)
    assert lines_of(request_log) == []

    response.close()

    [line] = lines_of(request_log)
    assert (line.method, line.route, line.status) == ("GET", "/sse/events", 200)


def test_no_token_cookie_or_password_reaches_a_log_line(client, request_log):
    request_log.set_level(logging.DEBUG)
    login = client.post("/auth/login", json={"email": "staff@everfresh.test", "password": PASSWORD})
    token = login.json["access_token"]
    refresh_token = login.json["refresh_token"]
    client.post("/auth/session", json={"email": "admin@everfresh.test", "password": PASSWORD})
    cookie = client.get_cookie("access_token_cookie").value
    client.get(f"/bookings?token={token}", headers={"Authorization": f"Bearer {token}"})
    client.get(f"/sse/events?token={token}&lastEventId=1").close()
    client.post("/auth/refresh", headers={"Authorization": f"Bearer {refresh_token}"})

    assert len(lines_of(request_log)) == 5
    formatter = JsonFormatter()
    records = request_log.records
    written = request_log.text + "\n".join(formatter.format(record) for record in records)
    for secret in (PASSWORD, token, refresh_token, cookie, "token="):
        assert secret not in written


def test_json_lines_carry_the_request_fields(client, request_log):
    client.get("/healthz")

    [line] = lines_of(request_log)
    entry = json.loads(JsonFormatter().format(line))
    assert set(entry) == {
        "time",
        "level",
        "logger",
        "message",
        "method",
        "route",
        "status",
        "duration_ms",
    }
    assert entry["logger"] == "everfresh.request"
    assert (entry["method"], entry["route"], entry["status"]) == ("GET", "/healthz", 200)
    assert entry["time"].endswith("+00:00")


def test_json_formatter_keeps_a_plain_record_on_one_line_with_its_exception():
    try:
        raise RuntimeError("boom\nwith a second line")
    except RuntimeError:
        record = logging.LogRecord(
            "everfresh", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )

    line = JsonFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "failed"
    assert "RuntimeError: boom" in entry["exception"]
    assert "method" not in entry


@pytest.mark.parametrize(("log_format", "formatter"), [("json", JsonFormatter), ("text", None)])
def test_log_format_picks_the_formatter_of_a_fresh_process(monkeypatch, log_format, formatter):
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])

    configure_logging("INFO", log_format)

    [handler] = root.handlers
    assert isinstance(handler.formatter, formatter or logging.Formatter)
    assert not isinstance(handler.formatter, JsonFormatter) or log_format == "json"


def test_an_unknown_log_format_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="LOG_FORMAT must be one of text, json, got 'xml'"):
        create_app({"LOG_FORMAT": "xml"})


@pytest.mark.live
def test_gunicorn_writes_json_lines_without_secrets(live_server):
    # A closed stream is noticed (and logged) on its next write: one-second heartbeats.
    server = live_server(LOG_FORMAT="json", SSE_QUERY_TOKEN="true", SSE_HEARTBEAT_SECONDS="1")
    token = server.login("staff@everfresh.test")
    server.request("GET", f"/bookings?token={token}&limit=1", token=token)
    with server.stream(path=f"/sse/events?token={token}") as stream:
        assert stream.next_frame().data is not None

    def request_lines() -> list[dict]:
        lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
        return [line for line in lines if line["logger"] == "everfresh.request"]

    deadline = time.monotonic() + 5
    while len(request_lines()) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    routes = [(line["method"], line["route"], line["status"]) for line in request_lines()]
    assert ("POST", "/auth/login", 200) in routes
    assert ("GET", "/bookings", 200) in routes
    assert ("GET", "/sse/events", 200) in routes
    assert token not in server.log()
    assert PASSWORD not in server.log()
