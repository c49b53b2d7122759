"""Forget what the service no longer promises to keep: old events, keys and revocations."""

from __future__ import annotations

import logging
import random

import gevent
from flask import Flask

from everfresh.auth.denylist import prune_revoked_tokens
from everfresh.bookings.idempotency import prune_idempotency_keys
from everfresh.extensions import db
from everfresh.sse.replay import prune_events

log = logging.getLogger(__name__)

PRUNE_INTERVAL_SECONDS = 3600


def prune_expired() -> dict[str, int]:
    """Remove events past SSE_REPLAY_HOURS, idempotency keys past 24 hours, dead revocations."""
    counts = {
        "events": prune_events(),
        "idempotency_keys": prune_idempotency_keys(),
        "revoked_tokens": prune_revoked_tokens(),
    }
    db.session.commit()
    return counts


def start_pruning(app: Flask) -> gevent.Greenlet:
    """Prune once an hour in the background, each worker at its own random minute."""

    def prune_forever() -> None:
        # Spread the workers out; the deletes are idempotent, so overlapping runs are harmless.
        gevent.sleep(random.uniform(0, PRUNE_INTERVAL_SECONDS))
        while True:
            with app.app_context():
                try:
                    log.info("Pruned %s", prune_expired())
                except Exception:
                    log.exception("Pruning the event log failed; will retry")
                finally:
                    db.session.remove()
            gevent.sleep(PRUNE_INTERVAL_SECONDS)

    return gevent.spawn(prune_forever)
