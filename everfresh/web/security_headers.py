"""Add the security headers every response carries, and a strict default policy for pages."""

from __future__ import annotations

from flask import Flask, Response

# Every response: browsers must not guess content types, leak our URLs (a `?token=` among
# them) to other sites in Referer, or show our pages inside another site's frame.
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# An HTML page that sets no policy of its own may load nothing, run nothing, post nowhere
# and be framed by no one; a page that needs more (the board, the docs) says so itself.
DEFAULT_PAGE_POLICY = (
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def add_security_headers(response: Response) -> Response:
    """Add the headers `response` does not already set."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", DEFAULT_PAGE_POLICY)
    return response


def init_app(app: Flask) -> None:
    """Add the security headers to every response `app` sends, errors and streams included."""
    app.after_request(add_security_headers)
