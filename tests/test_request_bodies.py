"""Refuse request bodies that would tie up a worker: nested too deeply, or never arriving."""

from __future__ import annotations

import json

import pytest

from everfresh.web.json_depth import MAX_DEPTH, nesting_depth_exceeds
from tests.assertions import assert_error

TOO_DEEP = f"The JSON body is nested too deeply (at most {MAX_DEPTH} levels)."


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
