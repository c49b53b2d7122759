"""Log one line per request (method, route, status, duration), as text or as JSON lines.

A line names the route pattern (`/bookings/<booking_id>`), never the raw path, and never
the query string, a header or a body: that is how no token, cookie or password reaches a log.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from flask import Flask

log = logging.getLogger("everfresh.request")

LOG_FORMATS = ("text", "json")
# The structured fields of a request line, as JSON keys and as attributes of its log record.
REQUEST_FIELDS = ("method", "route", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    """Format every log record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as compact JSON, with the request fields when it has them."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in REQUEST_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, separators=(",", ":"))


def configure_logging(level: str, log_format: str) -> None:
    """Send logs to stderr at `level`, as text or JSON lines, unless logging is already set up."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {log_format!r}")
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
    # basicConfig leaves a root logger that already has handlers alone, so whoever set up
    # logging first (a logging config file, pytest) keeps theirs.
    logging.basicConfig(level=level, handlers=[handler])


def log_request(method: str, route: str, status: int, seconds: float) -> None:
    """Write the one log line of a finished request."""
    duration_ms = round(seconds * 1000, 1)
    fields = {"method": method, "route": route, "status": status, "duration_ms": duration_ms}
    log.info("%s %s %s %.1fms", method, route, status, duration_ms, extra=fields)


def init_app(app: Flask) -> None:
    """Set up the log format from `LOG_FORMAT`; requests are logged by request_timing."""
    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
