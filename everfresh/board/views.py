"""Serve the staff board page; everything it shows comes from the API and the event stream."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template

from everfresh.web.endpoints import HTML_PAGE, endpoint

bp = Blueprint(
    "board",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/board/static",
)

# The page runs only its own script and talks only to its own origin, so an injected
# tag can neither load code nor send data elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@bp.get("/")
@endpoint("Pages", content=HTML_PAGE, response_description="The board page.")
def board() -> Response:
    """Serve the staff board: a login form, then the company's bookings to watch and work, live."""
    config = current_app.config
    html = render_template(
        "board/index.html",
        # The page cannot see the stream's `: keep-alive` comments, so it needs the interval
        # to tell a quiet stream from a dead one.
        heartbeat_seconds=config["SSE_HEARTBEAT_SECONDS"],
        access_csrf_cookie=config["JWT_ACCESS_CSRF_COOKIE_NAME"],
        access_csrf_header=config["JWT_ACCESS_CSRF_HEADER_NAME"],
        refresh_csrf_cookie=config["JWT_REFRESH_CSRF_COOKIE_NAME"],
        refresh_csrf_header=config["JWT_REFRESH_CSRF_HEADER_NAME"],
    )
    response = Response(html, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response
