"""Hold the text people type (names, addresses, notes) to visible characters.

A control character, a zero-width space or a right-to-left override makes a name or an
address read differently on a screen, in a log and in a search from what is stored, and a
cleaner at the door has only what the screen shows. So such text keeps to characters that
show; notes may also break lines (LF, as browsers send a text area's lines). Nothing is
rewritten silently: a refused value is a 422 naming the field, and an accepted one is stored
as sent (trimmed).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

# The code points of Unicode's general categories Cc (control), Cf (format, the invisible
# ones), Zl and Zp (line and paragraph separators), as of Unicode 15 (which added
# U+13439..U+1343F to Cf). tests/test_plain_text.py holds this table to the running
# Python's own Unicode database. Surrogates (Cs) never get this far: pydantic refuses them.
HIDDEN_RANGES = (
    (0x0000, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)
LINE_BREAK = "\n"
SINGLE_LINE_MESSAGE = "Use visible characters only: no line breaks, control or hidden characters."
MULTI_LINE_MESSAGE = "Use visible characters and line breaks only: no control or hidden characters."


def _class_of(ranges: tuple[tuple[int, int], ...]) -> str:
    # Literal characters rather than escapes, which regular expression dialects spell each
    # their own way; none of them is special inside a class, and the API document's JSON
    # carries them as \u escapes.
    parts = []
    for first, last in ranges:
        parts.append(chr(first) if first == last else f"{chr(first)}-{chr(last)}")
    return "".join(parts)


def _without(ranges: tuple[tuple[int, int], ...], character: str) -> tuple[tuple[int, int], ...]:
    code = ord(character)
    split: list[tuple[int, int]] = []
    for first, last in ranges:
        if first <= code <= last:
            split += [(first, code - 1)] if first < code else []
            split += [(code + 1, last)] if code < last else []
        else:
            split.append((first, last))
    return tuple(split)


SINGLE_LINE_PATTERN = f"^[^{_class_of(HIDDEN_RANGES)}]*$"
MULTI_LINE_PATTERN = f"^[^{_class_of(_without(HIDDEN_RANGES, LINE_BREAK))}]*$"
# fullmatch, not match: `$` alone would also let a string end in a line break.
_SINGLE_LINE = re.compile(SINGLE_LINE_PATTERN)
_MULTI_LINE = re.compile(MULTI_LINE_PATTERN)


def check_single_line(value: str) -> str:
    """Return `value` if every character of it shows, else raise ValueError saying so."""
    if not _SINGLE_LINE.fullmatch(value):
        raise ValueError(SINGLE_LINE_MESSAGE)
    return value


def check_multi_line(value: str) -> str:
    """Return `value` if it holds only visible characters and line breaks (LF), else raise."""
    if not _MULTI_LINE.fullmatch(value):
        raise ValueError(MULTI_LINE_MESSAGE)
    return value


def single_line(max_length: int) -> object:
    """Return the annotated type of a one-line text field of at most `max_length` characters."""
    return Annotated[
        str,
        Field(min_length=1, max_length=max_length),
        AfterValidator(check_single_line),
        Field(json_schema_extra={"pattern": SINGLE_LINE_PATTERN}),
    ]


def multi_line(max_length: int) -> object:
    """Return the annotated type of a text field of at most `max_length` characters and lines."""
    return Annotated[
        str,
        Field(min_length=1, max_length=max_length),
        AfterValidator(check_multi_line),
        Field(json_schema_extra={"pattern": MULTI_LINE_PATTERN}),
    ]
