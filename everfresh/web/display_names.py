"""Normalise the names people give companies and users, and refuse invisible characters in them.

A name is read by people on a board and compared by the service: two names that look alike
must be stored alike. NFKC folds compatibility forms (a no-break space becomes a space, a
full-width letter an ASCII one); control and format characters (a zero-width space, a
right-to-left override) are refused, since they hide or reorder what a reader sees.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field

# Control, format, surrogate and private-use characters, and line and paragraph separators.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
INVISIBLE_CHARACTERS = (
    "Use visible characters only: no control or formatting characters such as tabs, "
    "zero-width spaces or direction overrides."
)
EMPTY = "Use at least one visible character."
MAX_NAME_LENGTH = 200


def normalise_name(value: str) -> str:
    """Return `value` in NFKC with runs of spaces made one, or raise ValueError saying why not."""
    text = unicodedata.normalize("NFKC", value)
    if any(unicodedata.category(character) in REFUSED_CATEGORIES for character in text):
        raise ValueError(INVISIBLE_CHARACTERS)
    # Every other space is a plain one after NFKC; a name has no use for several in a row.
    text = " ".join(text.split())
    if not text:
        raise ValueError(EMPTY)
    if len(text) > MAX_NAME_LENGTH:
        raise ValueError(f"Use at most {MAX_NAME_LENGTH} characters.")
    return text


def name_key(name: str) -> str:
    """Return what two names must not share to be told apart: `name` normalised and case-folded."""
    return unicodedata.normalize("NFKC", name.casefold())


# A company's or a person's name in a request body.
DisplayName = Annotated[
    str, Field(min_length=1, max_length=MAX_NAME_LENGTH), AfterValidator(normalise_name)
]
