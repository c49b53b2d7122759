"""Answer the probes and scrapes operators point at the service."""

from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, current_app, g, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from everfresh.errors import error_response
from everfresh.extensions import db
from everfresh.metrics import REQUEST_DURATION, render_metrics
from everfresh.ops.schemas import Health, Readiness
from everfresh.web.endpoints import endpoint
from everfresh.web.responses import serialise

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
@endpoint("Operations", response=Health)
def healthz():
    """Report that the process is alive."""
    return serialise(Health, {"status": "ok"})


@bp.get("/readyz")
@endpoint("Operations", response=Readiness, errors=(503,))
def readyz():
    """Report whether the database and, when configured, Redis are reachable."""
    checks = {"database": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        checks["database"] = "unreachable"
    finally:
        db.session.remove()
    broker = current_app.extensions["everfresh.broker"]
    if hasattr(broker, "ping"):
        checks["redis"] = "ok" if broker.ping() else "unreachable"
    if any(state != "ok" for state in checks.values()):
        return error_response(503, "A dependency is unreachable.", checks=checks)
    return serialise(Readiness, {"status": "ok", "checks": checks})


@bp.get("/metrics")
@endpoint(
    "Operations",
    content={"text/plain": {"schema": {"type": "string"}}},
    response_description="Every metric, summed across workers, in Prometheus text format.",
)
def metrics():
    """Export the metrics in Prometheus text format."""
    return Response(render_metrics(), content_type="text/plain; version=0.0.4; charset=utf-8")


def _start_timer() -> None:
    g.request_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("request_started", None)
    if started is not None:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        REQUEST_DURATION.labels(request.method, route, str(response.status_code)).observe(
            time.perf_counter() - started
        )
    return response


def init_app(app: Flask) -> None:
    """Mount the endpoints and time every request by route."""
    app.register_blueprint(bp)
    app.before_request(_start_timer)
    app.after_request(_observe)
