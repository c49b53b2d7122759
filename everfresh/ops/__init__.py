"""Operations endpoints: liveness, readiness and metrics."""

from everfresh.ops.views import init_app

__all__ = ["init_app"]
