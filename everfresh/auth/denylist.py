"""Deny logged-out tokens until they expire: in Redis when `REDIS_URL` is set, else in the database.

Only a token's `jti` is kept, and only for the rest of its lifetime; after that the token's own
`exp` refuses it, so Redis lets the key lapse and `flask prune` deletes the row.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from flask import Flask, abort, current_app
from sqlalchemy import String, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.exceptions import ServiceUnavailable

from everfresh.auth.connect_checks import DENYLIST_KEY, batched_check
from everfresh.extensions import db, jwt
from everfresh.redis_clients import REDIS_ERRORS, RedisBusy, redis_client
from everfresh.timestamps import UTCDateTime, utcnow

log = logging.getLogger(__name__)

EXTENSION_KEY = DENYLIST_KEY


class TokenChecksBusy(ServiceUnavailable):
    """Raised when the denylist is reachable but too busy to answer in time: never an outage."""

    description = "Token checks are busy; try again shortly."


class RevokedToken(db.Model):
    """A token that was logged out before it expired."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    # When the token expires by itself, after which the row is only clutter.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


# Built once: every authenticated request runs it.
_REVOKED = select(RevokedToken.__table__.c.jti).where(
    RevokedToken.__table__.c.jti == bindparam("jti")
)
_REVOKED_AMONG = select(RevokedToken.__table__.c.jti).where(
    RevokedToken.__table__.c.jti.in_(bindparam("jtis", expanding=True))
)


class Denylist(Protocol):
    """Where revoked token ids are kept."""

    def deny(self, jti: str, expires_at: datetime) -> None:
        """Refuse the token `jti` from now until `expires_at`."""

    def is_denied(self, jti: str) -> bool:
        """Tell whether the token `jti` has been revoked."""

    def denied_among(self, jtis: list[str]) -> set[str]:
        """Return those of the tokens `jtis` that have been revoked, in one round trip."""


class DatabaseDenylist:
    """Keep revoked token ids in the `revoked_tokens` table, in the request's transaction."""

    def deny(self, jti: str, expires_at: datetime) -> None:
        """Add the token to the table; the caller commits. Revoking it twice is no error."""
        insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
        db.session.execute(
            insert(RevokedToken).values(jti=jti, expires_at=expires_at).on_conflict_do_nothing()
        )

    def is_denied(self, jti: str) -> bool:
        """Look the token up by its id."""
        return db.session.execute(_REVOKED, {"jti": jti}).first() is not None

    def denied_among(self, jtis: list[str]) -> set[str]:
        """Look the tokens up in one query."""
        if not jtis:
            return set()
        return set(db.session.scalars(_REVOKED_AMONG, {"jtis": jtis}))


class RedisDenylist:
    """Keep revoked token ids as Redis keys that expire with the tokens, shared by every worker."""

    def __init__(self, redis_url: str, prefix: str, cluster: bool = False) -> None:
        # One key per token: nothing needs two keys in one cluster slot. A bounded pool:
        # when every connection is in use a check waits for one, and is never skipped.
        self._redis = redis_client(redis_url, cluster, timeout=1, bounded_pool=True)
        self._prefix = f"{prefix}:revoked-token:"

    def ping(self) -> bool:
        """Tell whether the Redis holding revoked tokens answers; raises during an outage."""
        return bool(self._redis.ping())

    def deny(self, jti: str, expires_at: datetime) -> None:
        """Set a key that lives as long as the token would have; 503 if Redis cannot be reached."""
        seconds = math.ceil((expires_at - utcnow()).total_seconds())
        if seconds <= 0:
            return
        try:
            self._redis.set(self._prefix + jti, 1, ex=seconds)
        except REDIS_ERRORS:
            # The client keeps its token and can log out again; nothing pretends to be revoked.
            abort(503, "Logging out is unavailable; try again shortly.")

    def is_denied(self, jti: str) -> bool:
        """Tell whether the token's key still exists; raises redis.RedisError during an outage."""
        return bool(self._redis.exists(self._prefix + jti))

    def denied_among(self, jtis: list[str]) -> set[str]:
        """Read the tokens' keys in one MGET (one per node on a cluster); raises during outages."""
        if not jtis:
            return set()
        # On a Redis Cluster the keys sit in different slots, which one MGET cannot span;
        # mget_nonatomic sends each node its share.
        read = getattr(self._redis, "mget_nonatomic", self._redis.mget)
        found = read([self._prefix + jti for jti in jtis])
        return {jti for jti, value in zip(jtis, found, strict=True) if value is not None}


def denylist() -> Denylist:
    """Return the current app's denylist."""
    return current_app.extensions[EXTENSION_KEY]


def revoke(claims: Mapping[str, Any]) -> None:
    """Refuse the token with these (verified) claims for the rest of its lifetime."""
    expires_at = datetime.fromtimestamp(claims["exp"], UTC)
    if expires_at > utcnow():
        denylist().deny(claims["jti"], expires_at)


def is_token_revoked(_header: dict[str, Any], claims: dict[str, Any]) -> bool:
    """Tell flask-jwt-extended whether a token was logged out (it then answers 401)."""
    jti = claims.get("jti")
    if jti is None:
        return False
    try:
        checked = batched_check(claims)
        if checked is None:
            return denylist().is_denied(jti)
        if checked.denylist_error is None:
            return checked.revoked
        raise checked.denylist_error
    except RedisBusy as busy:
        # Redis answers, just not at once: waiting longer is the client's to do, and
        # letting the token through unchecked would make load a way around a logout.
        raise TokenChecksBusy() from busy
    except REDIS_ERRORS as error:
        # During a Redis outage bookings and streams go on, as they do for the broker, on
        # access tokens, which expire within minutes. Refresh tokens live for weeks and mint
        # new access: those wait until the denylist answers again.
        if claims.get("type") == "access":
            log.warning("Denylist unreachable; accepting access token unchecked (%s)", error)
            return False
        abort(503, "Token checks are unavailable; try again shortly.")


def prune_revoked_tokens() -> int:
    """Delete the rows of tokens that have expired anyway; return how many went."""
    result = db.session.execute(db.delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
    return result.rowcount or 0


def init_app(app: Flask) -> None:
    """Keep the app's revoked tokens in Redis when `REDIS_URL` is set, else in the database."""
    jwt.token_in_blocklist_loader(is_token_revoked)
    redis_url = app.config["REDIS_URL"]
    app.extensions[EXTENSION_KEY] = (
        RedisDenylist(redis_url, app.config["REDIS_PREFIX"], app.config["REDIS_CLUSTER"])
        if redis_url
        else DatabaseDenylist()
    )
