"""Bound the events each user's streams may read back from the event log per minute.

A stream that reconnects with `Last-Event-ID: 0` makes the server read and send the whole
log window; slots come straight back, so one account could repeat that in a loop. Each
user has a budget of events per minute (SSE_REPLAY_BUDGET_PER_MINUTE): once it is spent, a
stream that would read the log starts live with `replay_truncated` instead. Only events
read from the database count: a resume served from the worker's own recent events costs
next to nothing, so a deploy's storm of reconnects is always replayed in full.
"""

from __future__ import annotations

import logging
import time
from collections import Counter

from everfresh.redis_clients import REDIS_ERRORS, RedisBusy, redis_client

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60


def _window(now: float) -> int:
    return int(now // WINDOW_SECONDS)


class ReplayBudget:
    """Count each user's replayed events per minute inside this process (enough for one worker)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._window = _window(time.time())
        self._spent: Counter[str] = Counter()

    def remaining(self, user_id: str) -> int:
        """Return how many more events `user_id`'s streams may read from the log this minute."""
        self._roll()
        return max(0, self.per_minute - self._spent[user_id])

    def spend(self, user_id: str, events: int) -> None:
        """Count `events` read from the log for `user_id`."""
        self._roll()
        self._spent[user_id] += events

    def _roll(self) -> None:
        window = _window(time.time())
        if window != self._window:
            self._window = window
            self._spent.clear()


class RedisReplayBudget(ReplayBudget):
    """Count each user's replayed events per minute in Redis, shared by every worker and host.

    During a Redis outage (or while it is too busy to answer) each worker counts on its own,
    so a user's budget is at most one per worker rather than gone.
    """

    def __init__(self, per_minute: int, redis_url: str, prefix: str, cluster: bool = False) -> None:
        super().__init__(per_minute)
        self._redis = redis_client(redis_url, cluster, timeout=1, bounded_pool=True)
        self._prefix = f"{prefix}:replay-budget:"

    def _key(self, user_id: str) -> str:
        return f"{self._prefix}{user_id}:{_window(time.time())}"

    def remaining(self, user_id: str) -> int:
        """Return what is left of the user's budget this minute, across every worker."""
        try:
            spent = int(self._redis.get(self._key(user_id)) or 0)
        except (*REDIS_ERRORS, RedisBusy) as error:
            log.warning("Replay budget counted in this worker (%s)", error)
            return super().remaining(user_id)
        return max(0, self.per_minute - spent)

    def spend(self, user_id: str, events: int) -> None:
        """Add `events` to the user's count for this minute, which Redis forgets after it."""
        if not events:
            return
        key = self._key(user_id)
        pipeline = self._redis.pipeline(transaction=False)
        pipeline.incrby(key, events)
        pipeline.expire(key, 2 * WINDOW_SECONDS)
        try:
            pipeline.execute()
        except (*REDIS_ERRORS, RedisBusy) as error:
            log.warning("Replay budget counted in this worker (%s)", error)
            super().spend(user_id, events)
