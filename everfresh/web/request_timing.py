"""Time every request once, feeding both the request log line and the duration histogram."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request

from everfresh.metrics import observe_request
from everfresh.web.request_log import log_request

# A request that matched no route (404, or 405 on a known path) has no pattern to name.
UNMATCHED_ROUTE = "unmatched"


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
    method = request.method
    route = route_label()
    status = response.status_code

    def record() -> None:
        seconds = time.perf_counter() - started
        log_request(method, route, status, seconds)
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
