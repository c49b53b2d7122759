"""Commit a change and answer 409, never 500, when it breaks a unique constraint.

A check before writing ("is this name taken?") cannot see a concurrent request that has not
committed yet; only the database's unique constraint decides such a race, and its loser
must get the same 409 the check would have given.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from flask import abort
from sqlalchemy.exc import IntegrityError

from everfresh.extensions import db

# PostgreSQL's SQLSTATE for unique_violation.
UNIQUE_VIOLATION = "23505"
SQLITE_PREFIX = "UNIQUE constraint failed: "
# PostgreSQL names the columns in the error's detail: `Key (email)=(a@b.test) already exists.`
KEY_COLUMNS = re.compile(r"Key \(([^)]*)\)=")


def unique_violation(error: IntegrityError) -> str | None:
    """Return the columns of the unique constraint `error` broke, as "table.column", or None.

    Several columns read "table.a, table.b"; None means another integrity error (a foreign
    key, a NOT NULL), which is a bug, not a conflict.
    """
    cause = error.orig
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate is not None:
        if sqlstate != UNIQUE_VIOLATION:
            return None
        diag = cause.diag
        match = KEY_COLUMNS.search(diag.message_detail or "")
        columns = match.group(1).split(", ") if match else [diag.constraint_name or "?"]
        return ", ".join(f"{diag.table_name}.{column}" for column in columns)
    message = str(cause)
    return message.removeprefix(SQLITE_PREFIX) if message.startswith(SQLITE_PREFIX) else None


@contextmanager
def conflict_on_duplicate(message: str) -> Iterator[None]:
    """Turn a unique constraint broken inside the block into a rollback and a 409 `message`.

    Other integrity errors (a foreign key, a NOT NULL) are bugs and are raised as they are.
    """
    try:
        yield
    except IntegrityError as error:
        db.session.rollback()
        if unique_violation(error) is None:
            raise
        abort(409, message)


def commit_or_conflict(message: str) -> None:
    """Commit the session; if a unique constraint refuses it, roll back and abort with 409."""
    with conflict_on_duplicate(message):
        db.session.commit()
