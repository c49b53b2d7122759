"""Tighten request schemas to exactly what the server accepts.

Pydantic describes a field as declared, but request models trim strings before their length
limits apply, and every request is refused if it holds a NUL character
(`everfresh.web.text_input`). The schemas of request models are rewritten here so that a
value a schema allows is a value the server takes, and the other way round.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

# What pydantic trims (Unicode White_Space), as a regex character class body.
WHITESPACE = r"\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NO_NUL = r"^[^\u0000]*$"


def trimmed_pattern(min_length: int, max_length: int | None, allowed: str = "") -> str:
    """Return a pattern for raw text whose trimmed value is `min_length`..`max_length` long.

    With `allowed` (a character class body), the trimmed value holds only those characters.
    """
    space, edge, inner = f"[{WHITESPACE}]*", rf"[^{WHITESPACE}\u0000]", r"[^\u0000]"
    if allowed:
        edge, inner = f"(?![{WHITESPACE}])[{allowed}]", f"[{allowed}]"
    upper = "" if max_length is None else str(max(max_length - 2, 0))
    if max_length == 1:
        content = edge
    elif min_length <= 1:
        content = f"{edge}(?:{inner}{{0,{upper}}}{edge})?"
    else:
        content = f"{edge}{inner}{{{min_length - 2},{upper}}}{edge}"
    if min_length == 0:
        content = f"(?:{content})?"
    return f"^{space}{content}{space}$"


def _untrimmed(model: type[BaseModel], name: str) -> bool:
    field = model.model_fields.get(name)
    return field is not None and any(
        getattr(item, "strip_whitespace", None) is False for item in field.metadata
    )


def _length_rule(minimum: int, maximum: int | None) -> str:
    if maximum is None:
        return f"At least {minimum} characters"
    if minimum == 0:
        return f"At most {maximum} characters"
    return f"{minimum} to {maximum} characters"


def _tighten_string(schema: dict[str, Any], trimmed: bool) -> str:
    """Tighten one string schema in place; return a sentence on its length, if it has a rule."""
    if schema.get("type") != "string" or {"enum", "const", "format"} & schema.keys():
        return ""
    allowed = ""
    if "pattern" in schema:
        # A field's own pattern names the characters it takes; only `^[...]+$` ones are
        # declared, and those apply to the trimmed value.
        match = re.fullmatch(r"\^\[(.+)\]\+\$", schema["pattern"])
        if not trimmed or match is None:
            return ""
        allowed = match.group(1)
        schema.setdefault("minLength", 1)
    if not trimmed:
        schema["pattern"] = NO_NUL
        return ""
    minimum = schema.pop("minLength", 0)
    maximum = schema.pop("maxLength", None)
    if minimum == 0 and maximum is None and not allowed:
        schema["pattern"] = NO_NUL
        return ""
    schema["pattern"] = trimmed_pattern(minimum, maximum, allowed)
    return f"{_length_rule(minimum, maximum)} once surrounding whitespace is trimmed."


def tighten_request_schema(model: type[BaseModel], schema: dict[str, Any]) -> None:
    """Rewrite the component `schema` of request `model` in place to say what is accepted."""
    trims = bool(model.model_config.get("str_strip_whitespace"))
    for name, field in schema.get("properties", {}).items():
        options = field.get("anyOf", [field])
        trimmed = trims and not _untrimmed(model, name)
        rules = {_tighten_string(option, trimmed) for option in options}
        rules.discard("")
        if rules and "description" not in field:
            field["description"] = " ".join(sorted(rules))
        # A null default on a field that refuses null only means "may be left out".
        if field.get("default", ...) is None and {"type": "null"} not in options:
            del field["default"]
