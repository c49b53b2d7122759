"""Serve the OpenAPI document, and Swagger UI from this origin to read and try it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template

from everfresh.openapi.document import build_document
from everfresh.web.endpoints import HTML_PAGE, endpoint

bp = Blueprint(
    "openapi",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/docs/static",
)

# The vendored Swagger UI (everfresh/openapi/static/swagger-ui/, from swagger-ui-dist).
SWAGGER_UI_VERSION = "5.35.0"
# Swagger UI runs from this origin only and "Try it out" calls only this origin. Its icons
# are data: URLs in its stylesheet; React sets styles through the DOM, which CSP allows.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def document() -> dict[str, Any]:
    """Return the app's OpenAPI document, built once: routes do not change while it runs."""
    extensions = current_app.extensions
    if "everfresh.openapi" not in extensions:
        extensions["everfresh.openapi"] = build_document(current_app)
    return extensions["everfresh.openapi"]


@bp.get("/openapi.json")
@endpoint(
    "Pages",
    content={"application/json": {"schema": {"type": "object"}}},
    response_description="This document.",
)
def openapi_document() -> Response:
    """Return the OpenAPI 3.1 document of every route."""
    return jsonify(document())


@bp.get("/docs")
@endpoint("Pages", content=HTML_PAGE, response_description="The docs page.")
def docs() -> Response:
    """Show the API document in Swagger UI, where each operation can be tried."""
    html = render_template("openapi/docs.html", swagger_ui_version=SWAGGER_UI_VERSION)
    response = Response(html, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response
