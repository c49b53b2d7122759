"""The API document: OpenAPI 3.1 at `/openapi.json`, readable at `/docs`."""

from everfresh.openapi.views import bp

__all__ = ["bp"]
