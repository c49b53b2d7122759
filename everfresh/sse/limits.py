"""Cap how many streams one user holds across the whole service (SSE_MAX_STREAMS_PER_USER)."""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter

import gevent

from everfresh.batching import Batcher
from everfresh.redis_clients import REDIS_ERRORS, RedisBusy, redis_client

log = logging.getLogger(__name__)

# Answered in Retry-After when a user is at the limit.
RETRY_AFTER_SECONDS = 10


class StreamLimiter:
    """Count open streams per user inside this process (enough for one worker)."""

    def __init__(self, max_streams: int) -> None:
        self.max_streams = max_streams
        self._open: Counter[str] = Counter()

    def acquire(self, user_id: str) -> str | None:
        """Claim a stream slot for `user_id`; return its lease id, or None at the limit."""
        if self._open[user_id] >= self.max_streams:
            return None
        self._open[user_id] += 1
        return uuid.uuid4().hex

    def release(self, user_id: str, lease: str) -> None:
        """Give a stream slot back."""
        self._open[user_id] -= 1
        if self._open[user_id] <= 0:
            del self._open[user_id]


# Drop expired leases, count the rest, and add as many of ours as fit under the limit,
# atomically; answers how many went in (the first that many of ARGV[5..]).
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local free = tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[1])
local granted = 0
for i = 5, #ARGV do
  if granted >= free then break end
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i])
  granted = granted + 1
end
if granted > 0 then redis.call('EXPIRE', KEYS[1], ARGV[4]) end
return granted
"""


class RedisStreamLimiter(StreamLimiter):
    """Count open streams per user in Redis, shared by every worker and host.

    Each stream holds a lease (a sorted-set member scored by its expiry) that its worker
    renews in one pipeline for all its streams; a worker that dies without releasing
    simply stops renewing, so its leases lapse instead of locking users out.
    """

    # How long a crashed worker's streams still count against their users.
    LEASE_SECONDS = 30

    def __init__(
        self, max_streams: int, redis_url: str, prefix: str, cluster: bool = False
    ) -> None:
        super().__init__(max_streams)
        # One key per user, so the script below and each renewal touch a single cluster slot.
        # A bounded pool: a storm of connects waits its turn rather than failing open.
        self._redis = redis_client(redis_url, cluster, timeout=1, bounded_pool=True)
        self._cluster = cluster
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._prefix = f"{prefix}:streams:"
        self._leases: dict[str, str] = {}
        self._renewer: gevent.Greenlet | None = None
        # The streams connecting together claim their slots in one round trip, and the
        # streams ending together give theirs back in one.
        self._claims: Batcher[str, str | None] = Batcher(self._claim_all)
        self._returns: Batcher[tuple[str, str], None] = Batcher(self._return_all)

    def ping(self) -> bool:
        """Tell whether the Redis holding the leases answers; raises during an outage."""
        return bool(self._redis.ping())

    def acquire(self, user_id: str) -> str | None:
        """Claim a slot in Redis; if Redis is unreachable, fall back to this worker's count.

        Raises RedisBusy when Redis answers but no connection to it came free in time.
        """
        try:
            lease = self._claims.ask(user_id)
        except REDIS_ERRORS as error:
            # Streams matter more than the cap during an outage; the local count still holds.
            log.warning("Stream limit check fell back to this worker (%s)", error)
            local_lease = super().acquire(user_id)
            if local_lease is not None:
                self._leases[local_lease] = ""
            return local_lease
        if lease is None:
            return None
        self._leases[lease] = user_id
        if self._renewer is None:
            self._renewer = gevent.spawn(self._renew_forever)
        return lease

    def _claim_all(self, user_ids: list[str]) -> list[str | None]:
        # One script call per user (each user's key is one slot), pipelined on one server.
        wanted: dict[str, list[int]] = {}
        for index, user_id in enumerate(user_ids):
            wanted.setdefault(user_id, []).append(index)
        leases = [uuid.uuid4().hex for _ in user_ids]
        now = time.time()
        pipeline = self._redis if self._cluster else self._redis.pipeline(transaction=False)
        answers = [
            self._acquire(
                keys=[self._prefix + user_id],
                args=[
                    now,
                    now + self.LEASE_SECONDS,
                    self.max_streams,
                    self.LEASE_SECONDS,
                    *(leases[index] for index in indexes),
                ],
                client=pipeline,
            )
            for user_id, indexes in wanted.items()
        ]
        if not self._cluster:
            answers = pipeline.execute()
        granted: list[str | None] = [None] * len(user_ids)
        for indexes, count in zip(wanted.values(), answers, strict=True):
            for index in indexes[: int(count)]:
                granted[index] = leases[index]
        return granted

    def release(self, user_id: str, lease: str) -> None:
        """Give the slot back in Redis (or locally, if it was granted during an outage)."""
        if self._leases.pop(lease, None) == "":
            super().release(user_id, lease)
            return
        try:
            self._returns.ask((user_id, lease))
        except (*REDIS_ERRORS, RedisBusy):
            pass  # The lease lapses by itself within LEASE_SECONDS.

    def _return_all(self, leases: list[tuple[str, str]]) -> list[None]:
        pipeline = self._redis.pipeline(transaction=False)
        for user_id, lease in leases:
            pipeline.zrem(self._prefix + user_id, lease)
        pipeline.execute()
        return [None] * len(leases)

    def _renew_forever(self) -> None:
        while True:
            gevent.sleep(self.LEASE_SECONDS / 3)
            expiry = time.time() + self.LEASE_SECONDS
            pipeline = self._redis.pipeline(transaction=False)
            for lease, user_id in list(self._leases.items()):
                if user_id:
                    pipeline.zadd(self._prefix + user_id, {lease: expiry}, xx=True)
                    pipeline.expire(self._prefix + user_id, self.LEASE_SECONDS)
            try:
                pipeline.execute()
            except (*REDIS_ERRORS, RedisBusy) as error:
                log.warning("Could not renew stream leases (%s)", error)
