"""Remember the first answer to each `Idempotency-Key`, so a retried POST creates nothing new."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from flask import abort, request

from everfresh.bookings.models import IdempotencyKey
from everfresh.errors import ValidationFailed
from everfresh.extensions import db
from everfresh.timestamps import utcnow

HEADER = "Idempotency-Key"
# The contract promises at least 24 hours; rows older than this are pruned.
KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255


def idempotency_key() -> str | None:
    """Return the request's `Idempotency-Key` header, or None; refuse an empty or huge one."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed({HEADER: f"Use 1 to {MAX_KEY_LENGTH} printable characters."})
    return key


def request_fingerprint(body: object) -> str:
    """Hash the JSON body canonically, so key order and spacing do not make it 'different'."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def earlier_response(user_id: str, key: str, fingerprint: str) -> str | None:
    """Return the stored answer for this key, None if unused, or 409 if used for another body."""
    row = db.session.scalars(
        db.select(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
        )
    ).one_or_none()
    if row is None:
        return None
    if row.created_at < utcnow() - KEY_LIFETIME:
        # Expired: forget it inside this transaction so the key can be used afresh.
        db.session.delete(row)
        db.session.flush()
        return None
    if row.request_fingerprint != fingerprint:
        abort(409, "This Idempotency-Key was already used with a different request body.")
    return row.response_body


def prune_idempotency_keys() -> int:
    """Delete keys older than their lifetime; return how many went."""
    cutoff = utcnow() - KEY_LIFETIME
    result = db.session.execute(db.delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    return result.rowcount or 0
