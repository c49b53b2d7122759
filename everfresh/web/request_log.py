"""Log one line per request (method, route, status, duration, request id), as text or JSON.

A line names the route pattern (`/bookings/<booking_id>`), never the raw path, and never
the query string, a header or a body: that is how no token, cookie or password reaches a log.
"""

from __future__ import annotations

import logging

from flask import Flask

from config import LOG_FORMATS, SettingsError
from log_format import formatter_for

log = logging.getLogger("everfresh.request")


def configure_logging(level: str, log_format: str) -> None:
    """Send logs to stderr at `level`, as text or JSON lines, unless logging is already set up."""
    if log_format not in LOG_FORMATS:
        raise SettingsError(
            f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {log_format!r}"
        )
    handler = logging.StreamHandler()
    handler.setFormatter(formatter_for(log_format))
    # basicConfig leaves a root logger that already has handlers alone, so whoever set up
    # logging first (gunicorn.conf.py's logconfig_dict, pytest) keeps theirs.
    logging.basicConfig(level=level, handlers=[handler])


def log_request(method: str, route: str, status: int, seconds: float, request_id: str) -> None:
    """Write the one log line of a finished request."""
    duration_ms = round(seconds * 1000, 1)
    fields = {
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": duration_ms,
        "request_id": request_id,
    }
    log.info(
        "%s %s %s %.1fms request_id=%s",
        method,
        route,
        status,
        duration_ms,
        request_id,
        extra=fields,
    )


def init_app(app: Flask) -> None:
    """Set up the log format from `LOG_FORMAT`; requests are logged by request_timing."""
    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
