"""Check the tokens of requests arriving together: one query for their users, one denylist read.

A deploy sends every client of a worker back at once; checking each token with a round trip
of its own to the database and to Redis made those checks, not the streams, the cost of a
reconnect. Batched, each request still gets exactly its own answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import bindparam, select

from everfresh.auth.models import User
from everfresh.batching import Batcher
from everfresh.extensions import db
from everfresh.redis_clients import REDIS_ERRORS

EXTENSION_KEY = "everfresh.connect_checks"
# Where `everfresh.auth.denylist` keeps the app's denylist (that module builds on this one).
DENYLIST_KEY = "everfresh.denylist"
# Users or tokens looked up per query or MGET; keeps the IN list within every database's
# limits. A batch holds any number of requests: a storm's share a handful of users.
BATCH_SIZE = 500
# Where a checked request keeps its user until flask-jwt-extended asks for it.
_CHECKED_USER = "everfresh_checked_user"
# Built once: a statement built per batch leaves a cycle of garbage behind each time, and
# the worker collects cycles rarely (see `everfresh.lifecycle`).
_USERS_BY_ID = select(User).where(User.id.in_(bindparam("user_ids", expanding=True)))


class CheckedToken(NamedTuple):
    """What one batch found for one token: revoked or not, and its user as it stood."""

    revoked: bool
    # The error that kept the denylist from answering (an outage), if it did not.
    denylist_error: Exception | None
    # A read-only copy of the token's user, None if there is no such user.
    user: User | None


class ConnectChecks:
    """Batch the token checks of the endpoints named in `endpoints` (streams, by default none)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.endpoints: set[str] = set()
        self._batcher: Batcher[tuple[str, str], CheckedToken] = Batcher(self._look_up)

    @property
    def lookups(self) -> int:
        """Return how many batches have been looked up so far."""
        return self._batcher.lookups

    def check(self, claims: Mapping[str, Any]) -> CheckedToken:
        """Return the checks of the token with `claims`, made with every other token asked now."""
        return self._batcher.ask((claims["jti"], claims["sub"]))

    def _look_up(self, tokens: list[tuple[str, str]]) -> list[CheckedToken]:
        token_ids = sorted({token_id for token_id, _ in tokens})
        user_ids = sorted({user_id for _, user_id in tokens})
        error: Exception | None = None
        users: dict[str, User] = {}
        revoked: set[str] = set()
        with self.app.app_context():
            try:
                for start in range(0, len(user_ids), BATCH_SIZE):
                    chunk = {"user_ids": user_ids[start : start + BATCH_SIZE]}
                    users.update(
                        (user.id, user) for user in db.session.scalars(_USERS_BY_ID, chunk)
                    )
                # Detached, the rows are read-only copies the callers may share.
                db.session.expunge_all()
                denylist = current_app.extensions[DENYLIST_KEY]
                try:
                    for start in range(0, len(token_ids), BATCH_SIZE):
                        revoked |= denylist.denied_among(token_ids[start : start + BATCH_SIZE])
                except REDIS_ERRORS as outage:
                    revoked, error = set(), outage
            finally:
                db.session.remove()
        return [
            CheckedToken(token_id in revoked, error, users.get(user_id))
            for token_id, user_id in tokens
        ]


def batched_check(claims: Mapping[str, Any]) -> CheckedToken | None:
    """Check the token of this request in a batch if its endpoint is batched, else return None.

    The user the batch read is kept for `checked_user`, so the request reads it only once.
    """
    checks: ConnectChecks | None = current_app.extensions.get(EXTENSION_KEY)
    if checks is None or not has_request_context() or request.endpoint not in checks.endpoints:
        return None
    checked = checks.check(claims)
    setattr(g, _CHECKED_USER, (claims["sub"], checked.user))
    return checked


def checked_user(user_id: str) -> tuple[bool, User | None]:
    """Return (True, the user) if this request's batch read `user_id`, else (False, None)."""
    found = g.pop(_CHECKED_USER, None)
    if found is None or found[0] != user_id:
        return False, None
    return True, found[1]


def init_app(app: Flask) -> None:
    """Give the app its batched connect checks (no endpoint uses them until one is named)."""
    app.extensions[EXTENSION_KEY] = ConnectChecks(app)
