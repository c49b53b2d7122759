"""Time every request once, feeding both the request log line and the duration histogram.

Both are labelled alike, from a bounded set: a known method or `other`, the route pattern or
`unmatched`, and the numeric status. gunicorn accepts any method name, so a raw method would
let a client grow a label set (and the worker's memory, and /metrics) without limit.
"""

from __future__ import annotations

import time

from flask import Flask, Response, g, request

from everfresh.metrics import observe_request
from everfresh.web.request_id import request_id
from everfresh.web.request_log import log_request

# The methods of RFC 9110 a client of this API sends; anything else is labelled `other`.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"
# A request that matched no route (404, or 405 on a known path) has no pattern to name.
UNMATCHED_ROUTE = "unmatched"


def method_label(method: str) -> str:
    """Return `method` when it is one of the known methods, else `other`."""
    return method if method in KNOWN_METHODS else OTHER_METHOD


def route_label() -> str:
    """Return the current request's route pattern, or `unmatched` when no route matched."""
    return request.url_rule.rule if request.url_rule is not None else UNMATCHED_ROUTE


def _start_clock() -> None:
    g.request_started = time.perf_counter()


def _record_when_finished(response: Response) -> Response:
    started = g.pop("request_started", None)
    if started is None:
        # Another before_request hook answered first; this request was never timed.
        started = time.perf_counter()
    method = method_label(request.method)
    route = route_label()
    status = response.status_code
    # Read now: a stream's line is written after its request context is gone.
    identifier = request_id()

    def record() -> None:
        seconds = time.perf_counter() - started
        log_request(method, route, status, seconds, identifier)
        observe_request(method, route, status, seconds)

    if response.is_streamed:
        # A stream is measured until the server closes it, so its line and sample carry
        # its whole life rather than the moment its headers left.
        response.call_on_close(record)
    else:
        record()
    return response


def init_app(app: Flask) -> None:
    """Time every request `app` answers, logging it and observing its duration."""
    app.before_request(_start_clock)
    app.after_request(_record_when_finished)
