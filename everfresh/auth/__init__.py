"""Identity: who the caller is (tokens, passwords, logins) and which roles a view admits."""

from flask import Flask

from everfresh.auth import connect_checks, denylist, ratelimits, signing_keys, tokens


def init_app(app: Flask) -> None:
    """Bind tokens to `app`: JWT checks, the denylist of logged-out tokens, login rate limits."""
    tokens.init_app(app)
    signing_keys.init_app(app)
    denylist.init_app(app)
    connect_checks.init_app(app)
    ratelimits.init_app(app)
