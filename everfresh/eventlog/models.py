"""Store the durable event log (outbox) that live streams and replays are built from."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from everfresh.companies.models import Company, claim_next
from everfresh.extensions import db
from everfresh.timestamps import UTCDateTime, utcnow


class Event(db.Model):
    """One change worth telling staff about, written in the same transaction as the change."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_company_id_id", "company_id", "id"),
        # SQLite would otherwise reuse the ids of pruned rows, and clients replay by id.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    # 1, 2, 3, ... per company in commit order: lets each worker deliver a company's events
    # in order even when two workers' publishes cross on their way through Redis.
    sequence: Mapped[int]
    type: Mapped[str] = mapped_column(String(40))
    # The payload exactly as it goes on the wire, serialised once when the event is recorded.
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    @classmethod
    def record(cls, company_id: str, type: str, payload: dict[str, Any]) -> Event:
        """Add an event to the current transaction; it commits or rolls back with the change.

        Numbering the event locks the company row until commit, so a company's events are
        written one transaction at a time and their ids, too, follow commit order.
        """
        event = cls(
            company_id=company_id,
            sequence=claim_next(company_id, Company.last_event_sequence),
            type=type,
            payload=json.dumps(payload, separators=(",", ":")),
        )
        db.session.add(event)
        return event
