"""Check the request log: one line per request, by route and request id, with no secrets."""

from __future__ import annotations

import json
import logging
import re
import socket
import sys
import time

import pytest

from config import SettingsError
from everfresh import create_app
from everfresh.sse.frames import connection_established_frame
from everfresh.web.request_log import configure_logging
from log_format import JsonFormatter, TextFormatter

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
        ("GET", "/no/such/page?token=abc", "unmatched", 404),
        ("DELETE", "/auth/login", "unmatched", 405),
    ],
)
def test_each_request_logs_one_line_with_method_route_status_and_duration(
    client, login_as, request_log, method, path, route, status
):
    response = client.open(path, method=method, headers=login_as("staff"))

    assert response.status_code == status
    [line] = lines_of(request_log)
    assert (line.method, line.route, line.status) == (method, route, status)
    assert isinstance(line.duration_ms, float) and line.duration_ms >= 0
    assert line.request_id == response.headers["X-Request-ID"]
    assert line.getMessage() == (
        f"{method} {route} {status} {line.duration_ms:.1f}ms request_id={line.request_id}"
    )


def test_a_made_up_method_is_logged_as_other(client, request_log):
    response = client.open("/healthz", method="BREW")

    assert response.status_code == 405
    [line] = lines_of(request_log)
    assert (line.method, line.route, line.status) == ("other", "unmatched", 405)


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
        "request_id",
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


@pytest.mark.parametrize(
    ("log_format", "formatter"), [("json", JsonFormatter), ("text", TextFormatter)]
)
def test_log_format_picks_the_formatter_of_a_fresh_process(monkeypatch, log_format, formatter):
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])

    configure_logging("INFO", log_format)

    [handler] = root.handlers
    assert type(handler.formatter) is formatter


def test_an_unknown_log_format_is_refused_with_the_choices():
    with pytest.raises(SettingsError, match="LOG_FORMAT must be one of text, json, got 'xml'"):
        create_app({"LOG_FORMAT": "xml"}, environment="testing")


def test_text_lines_start_with_a_utc_timestamp(client, request_log):
    client.get("/healthz", headers={"X-Request-ID": "abc-123"})

    [line] = lines_of(request_log)
    line.created, line.msecs = 1796083141.123, 123.0  # 2026-11-30 23:59:01.123 UTC
    assert re.fullmatch(
        r"2026-11-30 23:59:01\.123 INFO everfresh\.request GET /healthz 200 "
        r"\d+\.\dms request_id=abc-123",
        TextFormatter().format(line),
    )


# --- Request ids --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    ["abc-123", "A.b_C-9", "0" * 128, "1f0e3d2c-aaaa-4bbb-8ccc-0123456789ab"],
)
def test_a_well_formed_request_id_is_echoed_and_logged(client, request_log, given):
    response = client.get("/healthz", headers={"X-Request-ID": given})

    assert response.headers["X-Request-ID"] == given
    [line] = lines_of(request_log)
    assert line.request_id == given


@pytest.mark.parametrize(
    "given",
    ["", "0" * 129, "two words", "line\nbreak", "carriage\rreturn", "caf\u00e9", "a;b", "{x}"],
    ids=[
        "empty",
        "too-long",
        "space",
        "newline",
        "carriage-return",
        "non-ascii",
        "semicolon",
        "braces",
    ],
)
def test_a_malformed_request_id_is_replaced_by_a_generated_one(client, request_log, given):
    # Straight into the WSGI environ: the test client, like gunicorn, refuses some in a header.
    response = client.get("/healthz", environ_overrides={"HTTP_X_REQUEST_ID": given})

    generated = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    [line] = lines_of(request_log)
    assert line.request_id == generated


def test_each_request_without_an_id_gets_its_own(client, request_log):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]

    assert first != second
    assert [line.request_id for line in lines_of(request_log)] == [first, second]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/no/such/page", 404), ("BREW", "/healthz", 405), ("POST", "/customers", 401)],
)
def test_error_answers_carry_the_request_id_too(client, request_log, method, path, status):
    response = client.open(path, method=method, headers={"X-Request-ID": "error-1"})

    assert (response.status_code, response.headers["X-Request-ID"]) == (status, "error-1")
    [line] = lines_of(request_log)
    assert line.request_id == "error-1"


def test_a_stream_carries_its_request_id_into_its_line(client, login_as, request_log):
    headers = {**login_as("staff"), "X-Request-ID": "stream-1"}
    response = client.get("/sse/events", headers=headers, buffered=False)
    assert response.headers["X-Request-ID"] == "stream-1"
    response.close()

    [line] = lines_of(request_log)
    assert (line.route, line.request_id) == ("/sse/events", "stream-1")


@pytest.mark.live
def test_gunicorn_writes_json_lines_without_secrets(live_server):
    # A closed stream is noticed (and logged) on its next write: one-second heartbeats.
    server = live_server(LOG_FORMAT="json", SSE_QUERY_TOKEN="true", SSE_HEARTBEAT_SECONDS="1")
    token = server.login("staff@everfresh.test")
    server.request("GET", f"/bookings?token={token}&limit=1", token=token)
    with server.stream(path=f"/sse/events?token={token}") as stream:
        assert stream.next_frame().data is not None

    def request_lines() -> list[dict]:
        lines = [json.loads(line) for line in server.log().splitlines()]
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


def wait_for_lines(server, wanted: int, logger: str) -> list[str]:
    """Return the server's output once it holds `wanted` lines mentioning `logger`."""
    deadline = time.monotonic() + 10
    while server.log().count(logger) < wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    return server.log().splitlines()


@pytest.mark.live
def test_with_json_every_line_gunicorn_writes_is_json(live_server):
    server = live_server(LOG_FORMAT="json", ACCESS_LOG="-")
    answer = server.request("GET", "/healthz", headers={"X-Request-ID": "trace-me-1"})
    malformed = server.request("GET", "/healthz", headers={"X-Request-ID": "has space"})
    server.request("GET", "/no/such/page")

    lines = wait_for_lines(server, 6, "gunicorn.access")
    entries = [json.loads(line) for line in lines]

    assert answer.headers["x-request-id"] == "trace-me-1"
    generated = malformed.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    loggers = {entry["logger"] for entry in entries}
    assert {"gunicorn.error", "gunicorn.access", "everfresh.request"} <= loggers
    assert any(entry["message"].startswith("Booting worker") for entry in entries)
    requests = [entry for entry in entries if entry["logger"] == "everfresh.request"]
    ids = [(entry["route"], entry["request_id"]) for entry in requests]
    assert ("/healthz", "trace-me-1") in ids
    assert ("/healthz", generated) in ids
    access = [entry["message"] for entry in entries if entry["logger"] == "gunicorn.access"]
    assert any(message.endswith(" trace-me-1") for message in access)
    assert any(message.endswith(f" {generated}") for message in access)
    assert "has space" not in server.log()


@pytest.mark.live
def test_in_text_every_line_gunicorn_writes_starts_with_a_timestamp(live_server):
    server = live_server(LOG_FORMAT="text", ACCESS_LOG="-")
    server.request("GET", "/healthz", headers={"X-Request-ID": "trace-me-2"})

    lines = wait_for_lines(server, 3, "gunicorn.access")

    timestamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [A-Z]+ \S+ "
    assert [line for line in lines if not re.match(timestamp, line)] == []
    request_line = r".* INFO everfresh\.request GET /healthz 200 \d+\.\dms request_id=trace-me-2"
    assert len([line for line in lines if re.fullmatch(request_line, line)]) == 1
    assert any("gunicorn.access" in line and line.endswith(" trace-me-2") for line in lines)


# --- Forged lines -------------------------------------------------------------------------------

FORGED = "2026-11-30 23:59:01.123 INFO everfresh.request GET /auth/me 200 1.0ms request_id=forged"


@pytest.mark.parametrize(
    ("character", "escaped"),
    [
        ("\n", "\\x0a"),
        ("\r", "\\x0d"),
        ("\x1b", "\\x1b"),
        ("\x00", "\\x00"),
        ("\x07", "\\x07"),
        ("\x7f", "\\x7f"),
        ("\x85", "\\x85"),
        ("\x9b", "\\x9b"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ],
    ids=["LF", "CR", "ESC", "NUL", "BEL", "DEL", "NEL", "CSI", "LS", "PS"],
)
def test_a_text_line_escapes_every_control_character_of_its_values(character, escaped):
    record = logging.LogRecord(
        "gunicorn.access", logging.INFO, __file__, 1, '"GET %s"', (f"/a{character}b",), None
    )

    line = TextFormatter().format(record)

    assert line.endswith(f' gunicorn.access "GET /a{escaped}b"')
    assert character not in line


def test_a_text_line_keeps_printable_text_and_a_traceback_its_own_lines():
    try:
        raise RuntimeError("boom\x1b[31m")
    except RuntimeError:
        record = logging.LogRecord(
            "everfresh",
            logging.ERROR,
            __file__,
            1,
            "failed for %s",
            ("caf\u00e9 \u2200",),
            sys.exc_info(),
        )

    first, *trace = TextFormatter().format(record).split("\n")

    assert first.endswith(" ERROR everfresh failed for caf\u00e9 \u2200")
    assert trace[0] == "Traceback (most recent call last):"
    assert trace[-1] == "RuntimeError: boom\\x1b[31m"


def forging_path() -> str:
    """Return a percent-encoded path whose decoded form would write a line of its own."""
    return "/no/such/page%0d%0a" + FORGED.replace(" ", "%20") + "%1b[2J%c2%85%7f"


def send_raw(port: int, path: str) -> bytes:
    """Send one GET with `path` exactly as given and return the raw answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.live
def test_gunicorn_text_access_log_escapes_a_forged_line(live_server):
    server = live_server(LOG_FORMAT="text", ACCESS_LOG="-")

    answer = send_raw(server.port, forging_path())
    server.request("GET", "/healthz", headers={"X-Request-ID": "after-forgery"})

    assert answer.startswith(b"HTTP/1.1 404 ")
    lines = wait_for_lines(server, 3, "gunicorn.access")
    assert any(line.endswith(" after-forgery") for line in lines)
    assert not any(line.startswith(FORGED) for line in lines)
    [access] = [line for line in lines if "gunicorn.access" in line and "no/such" in line]
    assert f"/no/such/page\\x0d\\x0a{FORGED}\\x1b[2J" in access
    assert "\x1b" not in server.log()


@pytest.mark.live
def test_gunicorn_json_access_log_stays_json_under_a_forged_line(live_server):
    server = live_server(LOG_FORMAT="json", ACCESS_LOG="-")

    send_raw(server.port, forging_path())
    server.request("GET", "/healthz", headers={"X-Request-ID": "after-forgery"})

    lines = wait_for_lines(server, 3, "gunicorn.access")
    entries = [json.loads(line) for line in lines]
    [access] = [entry for entry in entries if "no/such" in entry["message"]]
    assert f"/no/such/page\r\n{FORGED}\x1b[2J" in access["message"]
    assert not any(entry["message"].startswith(FORGED) for entry in entries)
