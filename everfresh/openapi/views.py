"""Serve the OpenAPI document and a self-contained page that renders it for people."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template
from markupsafe import Markup, escape

from everfresh.openapi.document import build_document
from everfresh.web.endpoints import HTML_PAGE, endpoint

bp = Blueprint(
    "openapi",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/docs/static",
)

# The docs page is plain HTML and one stylesheet: no script, nothing from another origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
MAX_ENUM_SHOWN = 12
CONSTRAINTS = (
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "pattern",
    "default",
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
    """Show the API document as a page for people."""
    html = render_template(
        "openapi/docs.html",
        spec=document(),
        type_of=type_of,
        constraints_of=constraints_of,
        prose=prose,
    )
    response = Response(html, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


def type_of(schema: dict[str, Any]) -> Markup:
    """Name a JSON Schema's type for a reader, linking to named schemas."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return Markup('<a href="#schema-{0}">{0}</a>').format(name)
    if "anyOf" in schema:
        return Markup(" | ").join(type_of(option) for option in schema["anyOf"])
    if "const" in schema:
        return Markup("<code>{}</code>").format(repr(schema["const"]).replace("'", '"'))
    if "enum" in schema:
        values = schema["enum"]
        # A long list (the time zone names) is named by its size and a few of its values.
        shown = values if len(values) <= MAX_ENUM_SHOWN else values[:3]
        words = Markup(", ").join(Markup("<code>{}</code>").format(value) for value in shown)
        if len(shown) < len(values):
            return Markup("one of {} values, such as ").format(len(values)) + words
        return Markup("one of ") + words
    kind = schema.get("type", "any")
    if kind == "array":
        return Markup("array of ") + type_of(schema.get("items", {}))
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return Markup("object of ") + type_of(schema["additionalProperties"])
    if "format" in schema:
        return escape(f"{kind} ({schema['format']})")
    return escape(kind)


def constraints_of(schema: dict[str, Any]) -> str:
    """List a schema's limits (lengths, bounds, pattern, default) in one line."""
    return ", ".join(f"{name}: {schema[name]}" for name in CONSTRAINTS if name in schema)


def prose(text: str) -> Markup:
    """Render the little Markdown the document uses: paragraphs, `- ` lists and `code`."""
    html = []
    for block in text.strip().split("\n\n"):
        lines = [line.strip() for line in block.splitlines()]
        if not lines[0].startswith("- "):
            html.append(f"<p>{_inline(' '.join(lines))}</p>")
            continue
        items: list[list[str]] = []
        for line in lines:
            # A line starting "- " opens an item; any other line continues the last one.
            if line.startswith("- "):
                items.append([])
            items[-1].append(line.removeprefix("- "))
        html.append("<ul>" + "".join(f"<li>{_inline(' '.join(item))}</li>" for item in items))
        html.append("</ul>")
    return Markup("".join(html))


def _inline(text: str) -> str:
    # Escape first, then turn `code` spans into <code>: nothing from the text becomes a tag.
    parts = str(escape(text)).split("`")
    return "".join(
        f"<code>{part}</code>" if index % 2 else part for index, part in enumerate(parts)
    )
