"""Build a `booking_created` payload shaped and sized exactly like EverFresh's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ulid import ULID


def iso_now() -> str:
    """Return the current UTC time as EverFresh writes it: ISO 8601, milliseconds, `Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def today() -> str:
    """Return today's UTC date as YYYY-MM-DD."""
    return datetime.now(UTC).date().isoformat()


def booking_payload(fields: dict[str, Any], company_id: str, number: int) -> dict[str, Any]:
    """Return the ten keys of EverFresh's booking frame for a booking made from `fields`."""
    return {
        "booking_id": str(ULID()),
        "booking_number": f"BK-{number}",
        "customer_id": fields.get("customer_id") or "cust_" + str(ULID()),
        "service_id": fields.get("service_id") or "serv_" + str(ULID()),
        "staff_id": fields.get("staff_id"),
        "scheduled_date": f"{fields.get('scheduled_date') or today()}T00:00:00.000Z",
        "scheduled_time_start": fields.get("scheduled_time_start", "10:00"),
        "status": "pending",
        "created_at": iso_now(),
        "company_id": company_id,
    }
