"""Refuse request bodies that would tie up a worker: nested too deeply, or never arriving."""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest

from everfresh.web import json_depth
from everfresh.web.json_depth import MAX_DEPTH, nesting_depth_exceeds
from tests.assertions import assert_error

TOO_DEEP = f"The JSON body is nested too deeply (at most {MAX_DEPTH} levels)."
NOT_UTF8 = "The JSON body must be encoded as UTF-8 (RFC 8259)."
TOO_DEEP_TO_PROCESS = "The request is nested too deeply to process."
# The second attack's body: a character whose UTF-16 form holds a quote byte, then depth.
FOR_ALL_THEN_DEEP = '["\u2200", ' + "[" * 3000 + "]" * 3000 + "]"


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    """Return `depth` levels of arrays (or objects) around nothing."""
    return opener * depth + closer * depth


@pytest.mark.parametrize(
    ("body", "too_deep"),
    [
        (nested(MAX_DEPTH), False),
        (nested(MAX_DEPTH + 1), True),
        ('{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1), True),
        ("[" * 1000, True),
        # Brackets inside strings are text, escaped quotes do not end the string.
        (json.dumps({"name": "[" * 1000}), False),
        (json.dumps({"name": '\\"' + "[" * 100}), False),
        (json.dumps(["\\", [[1]]]), False),
        (json.dumps({"name": "]" * 100, "nested": json.loads(nested(MAX_DEPTH - 1))}), False),
    ],
    ids=[
        "at-limit",
        "one-over",
        "objects",
        "unclosed-thousand",
        "brackets-in-string",
        "escaped-quote",
        "escaped-backslash",
        "closers-in-string",
    ],
)
def test_nesting_depth_is_measured_outside_strings(body, too_deep):
    assert nesting_depth_exceeds(body.encode()) is too_deep


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/auth/login", None),
        ("/auth/session", None),
        ("/companies", None),
        ("/no-such-route", None),
        ("/bookings", "staff"),
        ("/customers", "admin"),
        ("/companies", "superadmin"),
    ],
)
def test_deeply_nested_json_is_400_before_and_after_login(client, login_as, caplog, path, role):
    headers = login_as(role) if role else {}

    response = client.post(
        path, data="[" * 1000 + "]" * 1000, content_type="application/json", headers=headers
    )

    assert_error(response, 400, "Bad Request", TOO_DEEP)
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize(
    "encoding", ["utf-16-le", "utf-16-be", "utf-16", "utf-32-le", "utf-32-be", "utf-32"]
)
@pytest.mark.parametrize(
    ("path", "role"),
    [("/auth/login", None), ("/no-such-route", None), ("/bookings", "staff")],
)
def test_json_in_another_encoding_than_utf8_is_400_before_and_after_login(
    client, login_as, caplog, encoding, path, role
):
    headers = login_as(role) if role else {}

    response = client.post(
        path,
        data=FOR_ALL_THEN_DEEP.encode(encoding),
        content_type="application/json",
        headers=headers,
    )

    assert_error(response, 400, "Bad Request", NOT_UTF8)
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("prefix", [b"", b"\xef\xbb\xbf"], ids=["plain", "byte-order-mark"])
def test_utf8_json_reaches_the_view(client, prefix):
    body = json.dumps({"email": "admin@everfresh.test", "password": "\u2200 wrong"}).encode()

    response = client.post("/auth/login", data=prefix + body, content_type="application/json")

    assert_error(response, 401, "Unauthorized", "Invalid email or password.")


def test_a_recursion_error_anywhere_is_400_without_a_trace(client, monkeypatch, caplog):
    # As if the depth scan missed a deep body: the parser's RecursionError must not be a 500.
    monkeypatch.setattr(json_depth, "nesting_depth_exceeds", lambda body: False)

    response = client.post(
        "/auth/login", data="[" * 20_000 + "]" * 20_000, content_type="application/json"
    )

    assert_error(response, 400, "Bad Request", TOO_DEEP_TO_PROCESS)
    assert "Traceback" not in caplog.text


def test_nesting_within_the_limit_reaches_the_view(client):
    body = {"email": "admin@everfresh.test", "password": json.loads(nested(MAX_DEPTH - 1))}

    response = client.post("/auth/login", json=body)

    assert response.status_code == 422


def test_deeply_nested_json_sent_to_gunicorn_is_400_and_logs_no_trace(live_server):
    server = live_server()
    deep = json.loads(nested(MAX_DEPTH))
    token = server.login("staff@everfresh.test")

    before_login = server.request("POST", "/auth/login", [deep])
    after_login = server.request("POST", "/bookings", [deep], token=token)

    expected = {"error": {"code": 400, "name": "Bad Request", "message": TOO_DEEP}}
    assert (before_login.status, before_login.body) == (400, expected)
    assert (after_login.status, after_login.body) == (400, expected)
    assert "Traceback" not in server.log()


def test_utf16_json_sent_to_gunicorn_is_400_and_logs_no_trace(live_server):
    server = live_server()
    body = FOR_ALL_THEN_DEEP.encode("utf-16-le")
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(
            "POST", "/auth/login", body=body, headers={"Content-Type": "application/json"}
        )
        answer = connection.getresponse()
        status, answered = answer.status, json.loads(answer.read())
    finally:
        connection.close()

    assert (status, answered) == (
        400,
        {"error": {"code": 400, "name": "Bad Request", "message": NOT_UTF8}},
    )
    assert "Traceback" not in server.log()
    assert "RecursionError" not in server.log()


# --- Bodies that never arrive -----------------------------------------------------------------

BODY_SECONDS = 2
SLOW = f"The request body did not arrive within {BODY_SECONDS} seconds."


def start_slow_login(port: int, sent: bytes, length: int = 200) -> socket.socket:
    """Send a login's headers, announcing `length` bytes of JSON, and the first of them."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=1)
    head = (
        f"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
    sock.sendall(head.encode() + sent)
    return sock


def read_answer(sock: socket.socket, deadline: float, drip: bytes = b"") -> bytes:
    """Read until the server closes the socket, sending one byte of `drip` between waits."""
    received = b""
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            if drip:
                sock.sendall(drip[:1])
                drip = drip[1:]
            continue
        except ConnectionResetError:
            break
        if not data:
            break
        received += data
    return received


@pytest.mark.parametrize(
    "drip", [b"", b'"admin@everfresh.test", "password": "' + b"x" * 100], ids=["stalled", "dripped"]
)
def test_a_body_that_does_not_arrive_in_time_is_408_and_the_worker_serves_others(live_server, drip):
    server = live_server(REQUEST_BODY_TIMEOUT_SECONDS=str(BODY_SECONDS), WORKER_CONNECTIONS="8")
    slow = [start_slow_login(server.port, b'{"email": ') for _ in range(5)]
    try:
        # While the bodies are awaited, the worker answers everyone else.
        assert server.request("GET", "/healthz").status == 200
        deadline = time.monotonic() + 30
        answers = [read_answer(sock, deadline, drip) for sock in slow]
    finally:
        for sock in slow:
            sock.close()

    for answer in answers:
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408 ")
        assert json.loads(body) == {
            "error": {"code": 408, "name": "Request Timeout", "message": SLOW}
        }
    # Every slot came back: a worker with 8 connections serves 8 more requests.
    assert [server.request("GET", "/healthz").status for _ in range(8)] == [200] * 8


def test_a_body_that_arrives_in_time_is_read_in_full(live_server):
    server = live_server(REQUEST_BODY_TIMEOUT_SECONDS=str(BODY_SECONDS))
    body = json.dumps({"email": "admin@everfresh.test", "password": "everfresh-demo"}).encode()
    sock = start_slow_login(server.port, body[:10], len(body))
    try:
        sock.sendall(body[10:])
        head = read_answer(sock, time.monotonic() + 30).split(b"\r\n")[0]
    finally:
        sock.close()

    assert head == b"HTTP/1.1 200 OK"
