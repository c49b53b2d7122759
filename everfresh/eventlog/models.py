"""Store the durable event log (outbox) that live streams and replays are built from."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Connection,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    bindparam,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.event import listens_for
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from everfresh.companies.models import Company, claim_next
from everfresh.eventlog.partitions import ensure_partitions
from everfresh.extensions import db
from everfresh.timestamps import UTCDateTime, utcnow

# Where a session keeps the events recorded in its transaction until they are numbered.
UNNUMBERED = "everfresh.unnumbered_events"
# The one row of `event_counter`.
COUNTER_ROW = 1


class Event(db.Model):
    """One change worth telling staff about, written in the same transaction as the change."""

    __tablename__ = "events"
    __table_args__ = (
        # PostgreSQL wants the partition key in every unique key. `id` is unique all the
        # same: only the counter hands ids out (see `claim_event_ids`).
        PrimaryKeyConstraint("id", "created_at"),
        Index("ix_events_company_id_id", "company_id", "id"),
        # One partition per UTC day, so pruning drops whole days (see partitions.py).
        {"postgresql_partition_by": "RANGE (created_at)"},
    )
    # Rows are found, replayed and compared by id alone.
    __mapper_args__ = {"primary_key": ["id"]}

    # Taken from `event_counter` at commit (see `number_events`), so ids follow commit order.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), autoincrement=False
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
    def record(
        cls, company_id: str, type: str, payload: dict[str, Any], sequence: int | None = None
    ) -> Event:
        """Add an event to the current transaction; it commits or rolls back with the change.

        Numbering the event locks the company row until commit, so a company's events are
        written one transaction at a time. Its id is given at commit (see `number_events`).
        A caller that already claimed the company's next `sequence` in this transaction
        passes it.
        """
        if sequence is None:
            (sequence,) = claim_next(company_id, Company.last_event_sequence)
        event = cls(
            company_id=company_id,
            sequence=sequence,
            type=type,
            payload=json.dumps(payload, separators=(",", ":")),
        )
        db.session.info.setdefault(UNNUMBERED, []).append(event)
        return event


@listens_for(Event.__table__, "after_create")
def create_partitions(table: Table, connection: Connection, **_kw: Any) -> None:
    """Give a new PostgreSQL event log its default partition and the coming days' ones."""
    if connection.dialect.name == "postgresql":
        ensure_partitions(connection)


class EventCounter(db.Model):
    """The last event id handed out: one row, bumped by every commit that logs events."""

    __tablename__ = "event_counter"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_event_id: Mapped[int] = mapped_column(BigInteger)


def claim_event_ids(session: Session, count: int) -> int:
    """Reserve `count` consecutive event ids in the current transaction; return the last one.

    The UPDATE locks the counter row until commit, so every transaction that logs events
    commits one at a time from here on: ids are gap-free and in commit order across all
    companies. A missing row (an emptied test database) restarts after the largest id.
    """
    last = session.execute(_BUMP_COUNTER, {"count": count}).scalar()
    if last is not None:
        return last
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    after_largest = select(func.coalesce(func.max(Event.id), 0)).scalar_subquery() + count
    return session.execute(
        insert(EventCounter)
        .values(id=COUNTER_ROW, last_event_id=after_largest)
        .on_conflict_do_update(
            index_elements=[EventCounter.id],
            set_={"last_event_id": EventCounter.last_event_id + count},
        )
        .returning(EventCounter.last_event_id)
    ).scalar_one()


# Built once and run as Core on every commit that logs events; the upsert above, with its
# scan for the largest id, is only for a counter row that is not there yet.
_COUNTER = EventCounter.__table__
_BUMP_COUNTER = (
    update(_COUNTER)
    .where(_COUNTER.c.id == COUNTER_ROW)
    .values(last_event_id=_COUNTER.c.last_event_id + bindparam("count"))
    .returning(_COUNTER.c.last_event_id)
)


class LogPosition(NamedTuple):
    """Where the log stood at one moment: its last event id, and one company's last sequence."""

    event_id: int
    sequence: int


def log_position() -> int:
    """Return the id of the last committed event (0 for an empty log)."""
    return log_position_of(None).event_id


def log_position_of(company_id: str | None) -> LogPosition:
    """Return the log's last event id and the company's last sequence (0 without a company).

    One statement reads both, so they describe the same moment: every event of the company
    up to that sequence has an id up to that event id, and no later one has.
    """
    if company_id is None:
        event_id, sequence = db.session.execute(_POSITION).one()
    else:
        event_id, sequence = db.session.execute(
            _POSITION_OF_COMPANY, {"company_id": company_id}
        ).one()
    if event_id is None:
        # No counter row yet (an emptied test database): the largest id stands for it.
        event_id = db.session.scalar(select(func.coalesce(func.max(Event.id), 0)))
    return LogPosition(event_id, sequence)


# Built once: every stream that opens reads the position.
_LAST_EVENT_ID = (
    select(_COUNTER.c.last_event_id).where(_COUNTER.c.id == COUNTER_ROW).scalar_subquery()
)
_POSITION = select(_LAST_EVENT_ID, literal(0))
_POSITION_OF_COMPANY = select(
    _LAST_EVENT_ID,
    func.coalesce(
        select(Company.last_event_sequence)
        .where(Company.id == bindparam("company_id"))
        .scalar_subquery(),
        0,
    ),
)


@listens_for(Session, "before_commit")
def number_events(session: Session) -> None:
    """Give the transaction's events their ids and write them, as the last step before commit.

    Claiming the ids last holds the counter's lock only for the commit itself, so
    concurrent bookings queue behind each other for a moment, not for a whole request.
    """
    events = session.info.pop(UNNUMBERED, None)
    if not events:
        return
    # Everything else goes to the database first, so the counter is the last lock taken.
    session.flush()
    last = claim_event_ids(session, len(events))
    for event_id, recorded in enumerate(events, start=last - len(events) + 1):
        recorded.id = event_id
        session.add(recorded)
    session.flush()


@listens_for(Session, "after_transaction_end")
def forget_unnumbered_events(session: Session, transaction: SessionTransaction) -> None:
    """Drop events recorded in a transaction that rolled back, so a later commit cannot log them."""
    if transaction.parent is None:
        session.info.pop(UNNUMBERED, None)
