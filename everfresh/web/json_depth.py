"""Refuse JSON bodies nested deeper than any EverFresh request needs, before anything parses them.

Python's JSON decoder, and every walk over what it returns, recurses once per level: a body
of 1,000 `[` ends in a RecursionError, a 500 and a logged trace, on any route and before
login. The raw bytes are scanned once, without recursing, before any hook or view reads them.
The scan reads them as UTF-8, the only encoding JSON exchanged between systems may use
(RFC 8259, section 8.1), so bodies in any other encoding are refused first: `json.loads`
would decode UTF-16 or UTF-32 by itself, where a quote the scan saw is half of a character.
"""

from __future__ import annotations

import json
import re

from flask import Flask, abort, request
from werkzeug.exceptions import HTTPException

# Arrays and objects inside one another; the deepest EverFresh body has two.
MAX_DEPTH = 32
MESSAGE = f"The JSON body is nested too deeply (at most {MAX_DEPTH} levels)."
NOT_UTF8_MESSAGE = "The JSON body must be encoded as UTF-8 (RFC 8259)."
# json.detect_encoding's names for UTF-8, with and without the byte order mark RFC 8259 lets
# a parser ignore; anything else is UTF-16 or UTF-32.
UTF8_ENCODINGS = frozenset({"utf-8", "utf-8-sig"})

# The only bytes that open or close a level, a string, or an escape within a string.
_STRUCTURE = re.compile(rb'[\[\]{}"\\]')


def nesting_depth_exceeds(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Tell whether arrays and objects in `body` nest deeper than `limit`, strings aside."""
    depth = 0
    in_string = False
    escaped_position = -1
    for match in _STRUCTURE.finditer(body):
        position = match.start()
        if position == escaped_position:
            continue
        character = body[position : position + 1]
        if in_string:
            if character == b"\\":
                escaped_position = position + 1
            elif character == b'"':
                in_string = False
        elif character == b'"':
            in_string = True
        elif character in b"[{":
            depth += 1
            if depth > limit:
                return True
        elif character in b"]}":
            depth -= 1
    return False


def is_utf8_json(body: bytes) -> bool:
    """Tell whether `body` is in the encoding JSON must use: UTF-8 (a byte order mark aside)."""
    # The first bytes tell: JSON text starts with an ASCII character, so UTF-16 and UTF-32
    # show NUL bytes among its first four, where UTF-8 has none.
    return json.detect_encoding(body) in UTF8_ENCODINGS


def refuse_deep_nesting() -> None:
    """Answer 400 for a JSON body not in UTF-8, or nested deeper than MAX_DEPTH."""
    if not request.is_json:
        return
    try:
        body = request.get_data(cache=True)
    except HTTPException:
        # Too large: the view's own reading of the body answers 413.
        return
    if not is_utf8_json(body):
        abort(400, NOT_UTF8_MESSAGE)
    if nesting_depth_exceeds(body):
        abort(400, MESSAGE)


def init_app(app: Flask) -> None:
    """Check bodies before every other hook, the login limiter's included, reads them."""
    app.before_request(refuse_deep_nesting)
