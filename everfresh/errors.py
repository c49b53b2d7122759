"""Turn every failure into one JSON shape: ``{"error": {"code", "name", "message"}}``."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, jsonify
from sqlalchemy import exc as sqlalchemy_errors
from werkzeug.exceptions import Conflict, HTTPException, InternalServerError, UnprocessableEntity

log = logging.getLogger(__name__)

# What the database raises when it cannot be reached or does not answer in time: a refused or
# dropped connection, a pool with no free connection, a statement past its timeout.
DATABASE_UNAVAILABLE = (
    sqlalchemy_errors.OperationalError,
    sqlalchemy_errors.InterfaceError,
    sqlalchemy_errors.TimeoutError,
)
# How soon a client should try again while the database is unavailable.
DATABASE_RETRY_AFTER_SECONDS = 5
RECURSION_MESSAGE = "The request is nested too deeply to process."


class ValidationFailed(UnprocessableEntity):
    """A request that is well-formed JSON but breaks the rules of its fields."""

    def __init__(self, fields: dict[str, str], message: str = "The request has invalid fields."):
        super().__init__(message)
        self.fields = fields


class FieldConflict(Conflict):
    """A valid request that clashes with data already stored, naming the fields that clash."""

    def __init__(self, fields: dict[str, str], message: str):
        super().__init__(message)
        self.fields = fields


def error_response(
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    name: str | None = None,
    **details: Any,
) -> Response:
    """Build the JSON error response every failure leaves through.

    `name` is the status's standard phrase unless a refusal needs its own, for clients to act on.
    """
    name = name or HTTPStatus(status).phrase
    body = {"code": status, "name": name, "message": message, **details}
    response = jsonify(error=body)
    response.status_code = status
    if headers:
        response.headers.update(headers)
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="everfresh"')
    return response


def handle_http_exception(error: HTTPException) -> Response:
    """Render a Werkzeug or view-raised HTTP error as JSON, keeping its own headers."""
    named = isinstance(error, ValidationFailed | FieldConflict)
    details = {"fields": error.fields} if named else {}
    headers = {
        name: value
        for name, value in error.get_headers()
        if name.lower() not in {"content-type", "content-length"}
    }
    return error_response(
        error.code or 500,
        error.description or "",
        headers,
        getattr(error, "error_name", None),
        **details,
    )


def handle_database_unavailable(error: Exception) -> Response:
    """Answer 503 with Retry-After while the database cannot be reached; it is not a bug."""
    # One line, not a trace: during an outage every request fails the same way.
    log.warning("Database unavailable: %s", str(error).splitlines()[0])
    return error_response(
        503,
        "The database is unavailable; try again shortly.",
        {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


def handle_recursion_error(error: RecursionError) -> Response:
    """Answer 400 for input nested too deeply to process, whichever walk over it gave up."""
    # The JSON depth check refuses deep bodies before they are parsed; this is the net under
    # any other input that reaches a recursive walk. Logged once, without a trace.
    log.warning("Request refused: input nested too deeply to process (%s)", error)
    return error_response(400, RECURSION_MESSAGE)


def handle_unexpected_exception(error: Exception) -> Response:
    """Log an unexpected failure and answer 500 without revealing a stack trace."""
    log.exception("Unhandled error", exc_info=error)
    return error_response(500, InternalServerError.description)


def init_app(app: Flask) -> None:
    """Route every error raised while handling a request to the JSON handlers."""
    app.register_error_handler(HTTPException, handle_http_exception)
    for error in DATABASE_UNAVAILABLE:
        app.register_error_handler(error, handle_database_unavailable)
    app.register_error_handler(RecursionError, handle_recursion_error)
    app.register_error_handler(Exception, handle_unexpected_exception)
