"""Format EverFresh's and gunicorn's log lines alike: timestamped text, or one JSON object a line.

A top-level module beside config.py, importing only the standard library, because
gunicorn.conf.py needs these formatters in the master: importing them from the `everfresh`
package would run everfresh/__init__.py, which imports the app and its database drivers
before gevent has patched the worker (see gunicorn.conf.py).

A text line holds whatever a client put in the values it logs (gunicorn's access line holds
the URL-decoded path): a line feed there would end the line and let the rest pass for a
line of its own, and an escape sequence would drive the reader's terminal. So every control
character of a text line's message is written as an escape (`\\x0a`, `\\x1b`, `\\u2028`).
JSON lines need nothing more: JSON escapes them itself.
"""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import UTC, datetime
from typing import Any

# The attributes every log record has; anything else on a record came from `extra=`.
STANDARD_RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", logging.INFO, "", 0, "", (), None).__dict__
) | {"message", "asctime"}


# C0 controls (line feed, carriage return, escape, ...), DEL, C1 controls (next line, the
# 8-bit escape introducer, ...), and the two separators Unicode counts as line ends.
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Tracebacks span lines of their own; within them only the other controls are escaped.
_CONTROL_CHARACTERS_BUT_LINE_FEED = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_control_characters(text: str, keep_line_feeds: bool = False) -> str:
    """Return `text` with every control character written as a visible escape, `\\x0a` or so."""
    pattern = _CONTROL_CHARACTERS_BUT_LINE_FEED if keep_line_feeds else _CONTROL_CHARACTERS
    return pattern.sub(_escape, text)


class TextFormatter(logging.Formatter):
    """Format a record as `2026-11-30 23:59:01.123 INFO logger message`, in UTC, on one line."""

    # UTC like the JSON lines, so the two formats of one deployment read the same clock.
    converter = time.gmtime

    def __init__(self) -> None:
        super().__init__(
            fmt="%(asctime)s.%(msecs)03d %(levelname)s %(name)s %(message)s",
            datefmt="%Y-%m-%d %H:%M:%S",
        )

    def formatMessage(self, record: logging.LogRecord) -> str:
        """Return the line for `record`, its message's control characters escaped."""
        message = record.message
        record.message = escape_control_characters(message)
        try:
            return super().formatMessage(record)
        finally:
            record.message = message

    def formatException(self, exc_info: Any) -> str:
        """Return the traceback, on its own lines, with every other control character escaped."""
        return escape_control_characters(super().formatException(exc_info), keep_line_feeds=True)


class JsonFormatter(logging.Formatter):
    """Format every log record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as compact JSON, with the fields it was given through `extra`."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in record.__dict__.items():
            if name not in STANDARD_RECORD_ATTRIBUTES and name not in entry:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # default=str: a log call must never fail over a value JSON cannot hold.
        return json.dumps(entry, separators=(",", ":"), default=str)


FORMATTERS: dict[str, type[logging.Formatter]] = {"text": TextFormatter, "json": JsonFormatter}


def formatter_for(log_format: str) -> logging.Formatter:
    """Return a formatter for `log_format` ("text" or "json")."""
    return FORMATTERS[log_format]()


def gunicorn_logging(level: str, log_format: str, access_log: str) -> dict[str, Any]:
    """Return gunicorn's `logconfig_dict`: its error log, access log and the app's in one format.

    The error log and the app's logs go to stderr; the access log to stdout (`-`), a file, or
    nowhere when `access_log` is empty.
    """
    formatter = {"()": FORMATTERS[log_format]}
    handlers: dict[str, Any] = {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "everfresh",
            "stream": "ext://sys.stderr",
        }
    }
    if access_log == "-":
        handlers["access"] = {
            "class": "logging.StreamHandler",
            "formatter": "everfresh",
            "stream": "ext://sys.stdout",
        }
    elif access_log:
        handlers["access"] = {
            "class": "logging.FileHandler",
            "formatter": "everfresh",
            "filename": access_log,
        }
    access_logger: dict[str, Any] = {
        "level": "INFO",
        "handlers": ["access"] if access_log else [],
        "propagate": False,
    }
    if not access_log:
        # With a logconfig_dict gunicorn always logs access; a level above INFO drops the lines.
        access_logger["level"] = "WARNING"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"everfresh": formatter},
        "handlers": handlers,
        # The root logger carries the app's own logs in the worker: logging is set up here,
        # before the fork, so the app's configure_logging finds it done and keeps it.
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": access_logger,
        },
    }
