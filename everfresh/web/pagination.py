"""Page through list endpoints with cursors: ``{"items": [...], "next_cursor": ...}``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from everfresh.extensions import db
from everfresh.web.responses import Answer, serialise

MAX_PAGE_SIZE = 100
# A cursor is a position in id order: any value of this shape is one, so the document's
# pattern and the check below accept exactly the same cursors.
CURSOR_PATTERN = r"^[0-9A-Za-z_]{1,40}$"
_CURSOR = re.compile(CURSOR_PATTERN.removeprefix("^").removesuffix("$"))


def _check_cursor(cursor: str) -> str:
    if not _CURSOR.fullmatch(cursor):
        raise ValueError("Not a cursor from a previous page.")
    return cursor


Cursor = Annotated[
    str,
    AfterValidator(_check_cursor),
    WithJsonSchema({"type": "string", "pattern": CURSOR_PATTERN}),
]


class PageQuery(BaseModel):
    """The paging parameters every list endpoint accepts; other parameters are ignored."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)
    cursor: Cursor | None = None
    company_id: str | None = None


def encode_cursor(last_id: str) -> str:
    """Return the cursor of the page after the row with `last_id`: the id itself."""
    return last_id


def paginate(
    query: Select[Any],
    id_column: InstrumentedAttribute[str],
    page: PageQuery,
    item: type[Answer],
    present: Callable[[Any], Any] | None = None,
) -> dict[str, Any]:
    """Run `query` ordered by `id_column` and return one page of `item`s and the next cursor.

    `present`, when given, turns each row into what `item` is read from.
    """
    if page.cursor is not None:
        query = query.where(id_column > page.cursor)
    rows = db.session.scalars(query.order_by(id_column).limit(page.limit + 1)).all()
    has_more = len(rows) > page.limit
    rows = rows[: page.limit]
    return {
        "items": [serialise(item, present(row) if present else row) for row in rows],
        "next_cursor": encode_cursor(rows[-1].id) if has_more else None,
    }
