"""Keep PostgreSQL's event log in one partition per UTC day, made ahead and dropped whole."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Connection, text

from everfresh.timestamps import utcnow

# Days after today whose partitions already exist, so that a pruner stopped for a day or two
# never leaves events to the default partition.
DAYS_AHEAD = 3
# Any fixed number: the advisory lock held while partitions are added or dropped, so that
# the workers' hourly pruners take turns.
PARTITION_LOCK_KEY = 7_412_305_119
# Takes events of days that have no partition yet, so an insert never fails.
DEFAULT_PARTITION = "events_default"
# How long adding or dropping a partition waits for the lock on `events` before giving up.
TABLE_LOCK_TIMEOUT = "5s"
DAY_PARTITION = re.compile(r"^events_p(\d{8})$")


def partition_name(day: date) -> str:
    """Return the name of the partition holding the events of the UTC day `day`."""
    return f"events_p{day:%Y%m%d}"


def ensure_partitions(connection: Connection, today: date | None = None) -> list[str]:
    """Create the default partition and those of today and the next days if missing.

    Return the names created. Events that already landed in the default partition for a day
    move into that day's new partition, since PostgreSQL refuses a partition whose rows sit
    in the default one.
    """
    _take_partition_lock(connection)
    created = []
    if not _exists(connection, DEFAULT_PARTITION):
        connection.execute(text(f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF events DEFAULT"))
        created.append(DEFAULT_PARTITION)
    first = today or utcnow().date()
    for offset in range(DAYS_AHEAD + 1):
        day = first + timedelta(days=offset)
        if not _exists(connection, partition_name(day)):
            _create_day_partition(connection, day)
            created.append(partition_name(day))
    return created


def drop_partitions_before(connection: Connection, moment: datetime) -> int:
    """Drop the day partitions whose whole day is before `moment`; return the events they held.

    Dropping a table frees its files at once, whatever it holds, where deleting rows would
    write, and later vacuum, every one of them.
    """
    _take_partition_lock(connection)
    dropped = 0
    for name, day in day_partitions(connection):
        if _day_end(day) > moment:
            continue
        dropped += connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
        connection.execute(text(f"DROP TABLE {name}"))
    return dropped


def day_partitions(connection: Connection) -> list[tuple[str, date]]:
    """Return (name, day) of each day partition of the event log, oldest first."""
    names = connection.scalars(
        text(
            "SELECT child.relname FROM pg_inherits "
            "JOIN pg_class child ON child.oid = pg_inherits.inhrelid "
            "WHERE pg_inherits.inhparent = 'events'::regclass"
        )
    )
    found = []
    for name in names:
        match = DAY_PARTITION.match(name)
        if match:
            found.append((name, datetime.strptime(match[1], "%Y%m%d").date()))
    return sorted(found, key=lambda partition: partition[1])


def is_partition(name: str) -> bool:
    """Say whether `name` is one of the event log's partitions rather than a table of its own."""
    return name == DEFAULT_PARTITION or DAY_PARTITION.match(name) is not None


def include_name(name: str | None, type_: str, parent_names: Mapping[str, str | None]) -> bool:
    """Leave the event log's partitions out when comparing the database with the models.

    The models describe the partitioned `events` table; its partitions come and go by day.
    """
    return not (type_ == "table" and name is not None and is_partition(name))


def _create_day_partition(connection: Connection, day: date) -> None:
    name = partition_name(day)
    start, end = _day_start(day), _day_end(day)
    bounds = {"start": start, "end": end}
    stray = connection.execute(
        text(
            f"SELECT EXISTS (SELECT 1 FROM {DEFAULT_PARTITION} "
            "WHERE created_at >= :start AND created_at < :end)"
        ),
        bounds,
    ).scalar_one()
    range_sql = f"FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    if not stray:
        connection.execute(
            text(f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF events FOR VALUES {range_sql}")
        )
        return
    # The day's events wait in the default partition: make the table apart, move them in,
    # then attach it, which checks the default partition no longer holds any of that day.
    connection.execute(
        text(f"CREATE TABLE {name} (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    )
    connection.execute(
        text(
            f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} "
            "WHERE created_at >= :start AND created_at < :end RETURNING *) "
            f"INSERT INTO {name} SELECT * FROM moved"
        ),
        bounds,
    )
    connection.execute(text(f"ALTER TABLE events ATTACH PARTITION {name} FOR VALUES {range_sql}"))


def _take_partition_lock(connection: Connection) -> None:
    # Held until the transaction ends, so one worker at a time adds or drops partitions.
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PARTITION_LOCK_KEY})
    # Adding or dropping a partition locks all of `events`, and every booking's commit would
    # queue behind a lock request stuck behind a long read: give up and retry next hour.
    connection.execute(text(f"SET LOCAL lock_timeout = '{TABLE_LOCK_TIMEOUT}'"))


def _exists(connection: Connection, name: str) -> bool:
    found = connection.execute(text("SELECT to_regclass(:name)"), {"name": name}).scalar()
    return found is not None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _day_end(day: date) -> datetime:
    return _day_start(day + timedelta(days=1))
