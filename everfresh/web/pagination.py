"""Page through list endpoints with opaque cursors: ``{"items": [...], "next_cursor": ...}``."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from everfresh.errors import ValidationFailed
from everfresh.extensions import db
from everfresh.web.responses import Answer, serialise

MAX_PAGE_SIZE = 100


class PageQuery(BaseModel):
    """The paging parameters every list endpoint accepts; other parameters are ignored."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = None
    company_id: str | None = None


def encode_cursor(last_id: str) -> str:
    """Wrap the last id of a page into an opaque cursor."""
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """Unwrap a cursor made by `encode_cursor`, or fail with 422 naming `cursor`."""
    try:
        last_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        last_id = ""
    # The decoder skips characters outside its alphabet, so garbage can still decode:
    # accept only what `encode_cursor` would have written for a printable id.
    if not last_id or not last_id.isprintable() or encode_cursor(last_id) != cursor:
        raise ValidationFailed({"cursor": "Not a cursor from a previous page."})
    return last_id


def paginate(
    query: Select[Any],
    id_column: InstrumentedAttribute[str],
    page: PageQuery,
    item: type[Answer],
) -> dict[str, Any]:
    """Run `query` ordered by `id_column` and return one page of `item`s and the next cursor."""
    if page.cursor:
        query = query.where(id_column > decode_cursor(page.cursor))
    rows = db.session.scalars(query.order_by(id_column).limit(page.limit + 1)).all()
    has_more = len(rows) > page.limit
    rows = rows[: page.limit]
    return {
        "items": [serialise(item, row) for row in rows],
        "next_cursor": encode_cursor(rows[-1].id) if has_more else None,
    }
