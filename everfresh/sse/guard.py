"""End the streams of users who lose access, or whose token is revoked, within one heartbeat."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import NamedTuple

import gevent
from flask import Flask

from everfresh.auth.access import STAFF_ROLES
from everfresh.auth.denylist import denylist
from everfresh.auth.models import Role, User, issued_before_sessions_ended
from everfresh.extensions import db
from everfresh.redis_clients import REDIS_ERRORS, RedisBusy
from everfresh.sse.broker import Broker, Closed

log = logging.getLogger(__name__)

# Users or tokens looked up per query; keeps the IN list within every database's limits.
BATCH_SIZE = 500


class Scope(NamedTuple):
    """What a user's streams may still show: a company (None: all) and since when tokens count."""

    company_id: str | None
    sessions_valid_after: datetime | None


class StreamGuard:
    """Re-check, once per heartbeat, that every open stream's user and token may still watch.

    A token stays valid until it expires, but an admin who deactivates a user, takes away
    the staff role or ends their sessions, or a user who logs out, expects the live board
    to go dark now.
    The denylist is shared by every worker and host, so each worker finds its own streams'
    revoked tokens there. One query per worker per interval for users and one for tokens,
    however many streams it holds, keeps that cheap.
    """

    def __init__(self, app: Flask, broker: Broker) -> None:
        self.app = app
        self.broker = broker
        self._greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        """Start checking in the background, once per process."""
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self._run)

    def _run(self) -> None:
        interval = self.app.config["SSE_HEARTBEAT_SECONDS"]
        while not self.broker.draining:
            gevent.sleep(interval)
            try:
                self.check_once()
            except Exception:
                log.exception("Checking stream access failed; will retry")

    def check_once(self) -> int:
        """Close every stream whose user lost access or whose token was revoked; return how many."""
        subscribers = list(self.broker.subscribers())
        with self.app.app_context():
            try:
                scopes = self._allowed_scopes(sorted({s.user_id for s in subscribers}))
                revoked = self._revoked_tokens(sorted({s.token_id for s in subscribers} - {None}))
            finally:
                db.session.remove()
        closed = 0
        for subscriber in subscribers:
            scope = scopes.get(subscriber.user_id)
            if (
                scope is None
                or scope.company_id not in (None, subscriber.company_id)
                or issued_before_sessions_ended(scope.sessions_valid_after, subscriber.issued_at)
                or subscriber.token_id in revoked
            ):
                self.broker.unsubscribe(subscriber)
                subscriber.close(Closed.REVOKED)
                closed += 1
        if closed:
            log.info("Closed %d streams whose users lost access or logged out", closed)
        return closed

    def _allowed_scopes(self, user_ids: list[str]) -> dict[str, Scope]:
        # Maps each user who may still watch to what their streams may show.
        scopes: dict[str, Scope] = {}
        for start in range(0, len(user_ids), BATCH_SIZE):
            rows = db.session.execute(
                db.select(User.id, User.role, User.company_id, User.sessions_valid_after).where(
                    User.id.in_(user_ids[start : start + BATCH_SIZE]),
                    User.active.is_(True),
                    User.role.in_([str(role) for role in STAFF_ROLES]),
                )
            )
            for row in rows:
                company_id = None if row.role == Role.SUPERADMIN else row.company_id
                scopes[row.id] = Scope(company_id, row.sessions_valid_after)
        return scopes

    def _revoked_tokens(self, token_ids: list[str]) -> set[str]:
        revoked: set[str] = set()
        for start in range(0, len(token_ids), BATCH_SIZE):
            try:
                revoked |= denylist().denied_among(token_ids[start : start + BATCH_SIZE])
            except REDIS_ERRORS as error:
                # As for requests: during a Redis outage access tokens go on unchecked.
                log.warning("Denylist unreachable; stream tokens not re-checked (%s)", error)
                break
            except RedisBusy as error:
                # Busy is no outage: the same tokens are checked again next heartbeat.
                log.warning("Denylist busy; stream tokens re-checked next time (%s)", error)
                break
        return revoked
