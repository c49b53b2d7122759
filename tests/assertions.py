"""Assertions and contract constants shared by the test modules."""

from __future__ import annotations

import re

from werkzeug.test import TestResponse

# The nine keys the customer's document lists for `booking_created`, plus company_id, in order.
EVENT_KEYS = [
    "booking_id",
    "booking_number",
    "customer_id",
    "service_id",
    "staff_id",
    "scheduled_date",
    "scheduled_time_start",
    "status",
    "created_at",
    "company_id",
]
ISO_UTC_MS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def assert_error(response: TestResponse, status: int, name: str, message: str) -> None:
    """Check that `response` is the one JSON error shape with exactly this status and message."""
    assert response.status_code == status
    assert response.get_json() == {"error": {"code": status, "name": name, "message": message}}


def invalid_fields(
    response: TestResponse, message: str = "The request has invalid fields."
) -> dict:
    """Check a 422 in the JSON error shape and return its failing fields."""
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert sorted(error) == ["code", "fields", "message", "name"]
    assert (error["code"], error["name"], error["message"]) == (
        422,
        "Unprocessable Entity",
        message,
    )
    return error["fields"]
