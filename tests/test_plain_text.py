"""Test the rule for people's text: visible characters only, and the pattern documenting it."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from everfresh.web.plain_text import (
    HIDDEN_RANGES,
    MULTI_LINE_PATTERN,
    SINGLE_LINE_PATTERN,
    check_multi_line,
    check_single_line,
)

HIDDEN_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}


def hidden_code_points() -> set[int]:
    """Return every code point of the table."""
    return {code for first, last in HIDDEN_RANGES for code in range(first, last + 1)}


def test_the_table_holds_every_hidden_character_this_python_knows():
    known = {
        code
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in HIDDEN_CATEGORIES
    }
    table = hidden_code_points()

    assert known <= table
    # Anything more is from a newer Unicode than this Python's: unassigned here.
    assert {unicodedata.category(chr(code)) for code in table - known} <= {"Cn"}


@pytest.mark.parametrize(
    "text",
    ["Flat 3", "São Paulo", "Zoë 🐕", "Rua Augusta, 1500 – apto 42", "東京都", "Ünïcödé ½"],
)
def test_visible_text_passes_both_rules(text):
    assert check_single_line(text) == text
    assert check_multi_line(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "a\x00b",
        "a\tb",
        "a\rb",
        "a\x1bb",
        "a\x85b",
        "a\u00adb",
        "a\u200bb",
        "a\u200fb",
        "a\u2028b",
        "a\u202eb",
        "a\u2066b",
        "a\ufeffb",
        "a\U000e0041b",
        "a\nb",
        "a\n",
    ],
)
def test_one_line_refuses_hidden_characters_and_line_breaks(text):
    with pytest.raises(ValueError, match="Use visible characters only"):
        check_single_line(text)


def test_notes_may_break_lines_but_nothing_else():
    assert check_multi_line("Key safe: 4821\nCat: friendly\n") == "Key safe: 4821\nCat: friendly\n"
    for text in ("a\r\nb", "a\tb", "a\u200bb", "a\u2029b"):
        with pytest.raises(ValueError, match="Use visible characters and line breaks only"):
            check_multi_line(text)


def test_the_api_document_states_the_same_patterns(client):
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    request = schemas["CreateCustomerRequest"]["properties"]

    def pattern(field: str) -> str:
        options = request[field].get("anyOf", [request[field]])
        return next(option["pattern"] for option in options if "pattern" in option)

    assert pattern("name") == SINGLE_LINE_PATTERN
    assert pattern("city") == SINGLE_LINE_PATTERN
    assert pattern("access_notes") == MULTI_LINE_PATTERN
