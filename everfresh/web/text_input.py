"""Refuse NUL characters anywhere in a request's path, query string or JSON body, up front.

PostgreSQL cannot store or even compare text holding NUL (U+0000): the driver raises, and
the request would end in a 500. No EverFresh value has a use for one, so a request carrying
one is refused before any view sees it, with the answer a view would give for bad input.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, request
from werkzeug.exceptions import HTTPException

from everfresh.errors import ValidationFailed

NUL = "\x00"
MESSAGE = "Text may not contain NUL characters."


def _nul_paths(value: Any, path: str = "") -> list[str]:
    # The dotted paths, as validation errors name fields, of every string holding a NUL.
    if isinstance(value, str):
        return [path or "body"] if NUL in value else []
    if isinstance(value, dict):
        items = list(value.items())
        found = [path or "body" for key, _ in items if NUL in key]
    elif isinstance(value, list):
        items = list(enumerate(value))
        found = []
    else:
        return []
    for key, item in items:
        found += _nul_paths(item, f"{path}.{key}" if path else str(key))
    return found


def refuse_nul_characters() -> None:
    """Answer 404 for a path, and 422 naming the parameter or field, that holds a NUL."""
    if NUL in request.path:
        abort(404)
    parameters = sorted(
        {name for name, value in request.args.items(multi=True) if NUL in name + value}
    )
    if parameters:
        raise ValidationFailed(
            dict.fromkeys(parameters, MESSAGE), "The query string has invalid parameters."
        )
    try:
        body = request.get_json(silent=True)
    except HTTPException:
        # Too large: the view's own reading of the body answers 413.
        return
    fields = _nul_paths(body)
    if fields:
        raise ValidationFailed(dict.fromkeys(fields, MESSAGE))


def init_app(app: Flask) -> None:
    """Check every request for NUL characters before its view runs."""
    app.before_request(refuse_nul_characters)
