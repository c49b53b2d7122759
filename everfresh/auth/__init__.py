"""Authentication, roles and user accounts."""

from flask import Flask

from everfresh.auth import denylist, ratelimits
from everfresh.extensions import jwt


def init_app(app: Flask) -> None:
    """Bind tokens to `app`: JWT checks, the denylist of logged-out tokens, login rate limits."""
    jwt.init_app(app)
    denylist.init_app(app)
    ratelimits.init_app(app)
