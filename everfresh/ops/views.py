"""Answer the probes and scrapes operators point at the service."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app

from everfresh.errors import error_response
from everfresh.metrics import render_metrics
from everfresh.ops.readiness import check_dependencies, dependency_probes
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
    """Report whether the database and, when configured, each use of Redis answer."""
    checks = check_dependencies(dependency_probes(current_app))
    failing = [name for name, state in checks.items() if state != "ok"]
    if failing:
        return error_response(503, f"Not ready: {', '.join(failing)}.", checks=checks)
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


def init_app(app: Flask) -> None:
    """Mount the endpoints."""
    app.register_blueprint(bp)
