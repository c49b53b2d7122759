"""The peer: what a Flask team picks today, Flask-SSE (Redis pub/sub, one subscription per stream).

Flask-SSE's own blueprint serves `GET /stream?channel=...` unmodified. `POST /bookings` does
the same insert as EverFresh into SQLite (claim the company's next booking number, insert the
booking and its event-log row, commit; one connection per process, WAL) and then publishes
the same ten-key payload with `sse.publish` to the company's channel. Flask-SSE sends
nothing until the first message, so `POST /hello` publishes a greeting that serves as
every stream's first frame once the harness has seen all subscriptions in Redis.
"""

from __future__ import annotations

import json
import os
import sqlite3

from flask import Flask, request
from flask_sse import sse

from bench.apps.booking_payload import booking_payload, iso_now

CHANNEL_PREFIX = os.environ.get("BENCH_CHANNEL_PREFIX", "bench")
COMPANY_ID = os.environ.get("BENCH_COMPANY_ID", "comp_flask_sse_baseline_company")
SCHEMA = """
CREATE TABLE IF NOT EXISTS companies (id TEXT PRIMARY KEY, last_booking_number INTEGER);
CREATE TABLE IF NOT EXISTS bookings (
    id TEXT PRIMARY KEY, company_id TEXT, booking_number TEXT, customer_id TEXT,
    service_id TEXT, staff_id TEXT, scheduled_date TEXT, scheduled_time_start TEXT,
    status TEXT, notes TEXT, created_at TEXT, updated_at TEXT
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, company_id TEXT, type TEXT, payload TEXT,
    created_at TEXT
);
"""

app = Flask(__name__)
app.config["REDIS_URL"] = os.environ["REDIS_URL"]
app.register_blueprint(sse, url_prefix="/stream")

database = sqlite3.connect(
    os.environ["BENCH_SQLITE_PATH"], check_same_thread=False, isolation_level=None
)
for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=15000"):
    database.execute(f"PRAGMA {pragma}")
database.executescript(SCHEMA)
database.execute(
    "INSERT OR IGNORE INTO companies VALUES (?, 1000)",
    (COMPANY_ID,),
)


def channel(company_id: str) -> str:
    """Return the Flask-SSE channel of one company's events."""
    return f"{CHANNEL_PREFIX}:{company_id}"


@app.post("/bookings")
def create_booking() -> tuple[dict, int]:
    """Insert a booking and its event row in one transaction, then publish it with Flask-SSE."""
    fields = request.get_json()
    database.execute("BEGIN IMMEDIATE")
    try:
        (number,) = database.execute(
            "UPDATE companies SET last_booking_number = last_booking_number + 1 "
            "WHERE id = ? RETURNING last_booking_number",
            (COMPANY_ID,),
        ).fetchone()
        payload = booking_payload(fields, COMPANY_ID, number)
        now = iso_now()
        database.execute(
            "INSERT INTO bookings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                payload["booking_id"],
                COMPANY_ID,
                payload["booking_number"],
                payload["customer_id"],
                payload["service_id"],
                payload["staff_id"],
                payload["scheduled_date"],
                payload["scheduled_time_start"],
                "pending",
                fields.get("notes"),
                now,
                now,
            ),
        )
        event_id = database.execute(
            "INSERT INTO events (company_id, type, payload, created_at) VALUES (?, ?, ?, ?)",
            (COMPANY_ID, "booking_created", json.dumps(payload, separators=(",", ":")), now),
        ).lastrowid
        database.execute("COMMIT")
    except BaseException:
        database.execute("ROLLBACK")
        raise
    sse.publish(payload, type="booking_created", id=event_id, channel=channel(COMPANY_ID))
    return payload, 201


@app.post("/hello")
def hello() -> tuple[dict, int]:
    """Publish the greeting every stream takes as its first frame."""
    message = {"type": "connection_established", "message": "Connected to SSE server"}
    sse.publish(message, channel=request.args.get("channel") or channel(COMPANY_ID))
    return {"published": True}, 200
