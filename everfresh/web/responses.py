"""The pieces every answer shares: its base model, the error shape, pages and timestamps.

Each feature declares its answers in its own `schemas.py` on top of these; the views
serialise through those models and the API document is generated from the same ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from everfresh.timestamps import iso_utc

ItemT = TypeVar("ItemT")

UtcTimestamp = Annotated[
    datetime,
    # Always milliseconds and `Z`, the format the event contract fixed for every timestamp.
    PlainSerializer(iso_utc, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
    Field(description="UTC, ISO 8601 with milliseconds and `Z`."),
]


class Answer(BaseModel):
    """Base of every answer: a field not listed here is a bug."""

    model_config = ConfigDict(extra="forbid")


def serialise(model: type[Answer], row: Any) -> dict[str, Any]:
    """Return `row` (an object or a mapping) as the JSON `model` declares."""
    return model.model_validate(row, from_attributes=True).model_dump(mode="json")


class ErrorDetail(Answer):
    """What went wrong, in the shape every failure shares."""

    code: int = Field(description="The HTTP status code.", examples=[404])
    name: str = Field(
        description="The status code's standard phrase; `Password Change Required` on the 403 "
        "of a user who must choose a new password first.",
        examples=["Not Found"],
    )
    message: str = Field(description="A sentence for a person.", examples=["Booking not found."])
    fields: dict[str, str] | None = Field(
        default=None,
        description="On 422: each failing field and what is wrong with it. On 409: the field "
        "whose value clashes with stored data (`staff_id` of a staff member already booked).",
    )
    checks: dict[str, str] | None = Field(
        default=None, description="On 503 from /readyz only: the state of each dependency."
    )


class ErrorResponse(Answer):
    """The body of every error answer."""

    error: ErrorDetail


class Page(Answer, Generic[ItemT]):
    """One page of a list; pass `next_cursor` as `?cursor=` for the next one."""

    items: list[ItemT]
    next_cursor: str | None = Field(description="Null on the last page.")
