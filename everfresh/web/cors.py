"""Let the staff single-page app on its own origin call the API and read the event stream."""

from __future__ import annotations

from flask import Flask
from flask_cors import CORS

# What the SPA and the `event-source-polyfill` snippet send: the bearer token, JSON bodies,
# the resume point of a stream, and the retry key of a booking.
ALLOWED_HEADERS = ["Authorization", "Content-Type", "Last-Event-ID", "Idempotency-Key"]
# A cross-origin script sees only safelisted response headers unless told otherwise; these
# tell it when to come back (429) and why it was refused (401).
EXPOSED_HEADERS = ["Retry-After", "WWW-Authenticate"]
# Browsers may reuse a preflight answer this long instead of asking before every request.
PREFLIGHT_MAX_AGE_SECONDS = 600


def init_app(app: Flask) -> None:
    """Answer CORS for the origins in `CORS_ORIGINS`; with none listed, add no CORS headers.

    Credentials (cookies) are never allowed cross-origin: the SPA authenticates with its
    bearer token, and the board's cookie stays a same-origin affair.
    """
    origins = app.config["CORS_ORIGINS"]
    if not origins:
        return
    CORS(
        app,
        origins=origins,
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        supports_credentials=False,
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
    )
