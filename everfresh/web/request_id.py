"""Give every request an id, echoed in `X-Request-ID` and written in its log line.

A caller's own `X-Request-ID` (a proxy's, or a client's that wants to quote it to support) is
kept when it is a plain token; anything else is replaced, because it reaches the logs and a
newline or a megabyte there would forge or flood lines.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, request

HEADER = "X-Request-ID"
WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,128}")


def request_id() -> str:
    """Return the current request's id: the caller's when well-formed, else a new one."""
    if "request_id" not in g:
        given = request.headers.get(HEADER, "")
        g.request_id = given if WELL_FORMED.fullmatch(given) else uuid.uuid4().hex
    return g.request_id


def _echo_request_id(response: Response) -> Response:
    response.headers[HEADER] = request_id()
    return response


def init_app(app: Flask) -> None:
    """Send every response of `app` with its request's id in `X-Request-ID`."""
    app.after_request(_echo_request_id)
