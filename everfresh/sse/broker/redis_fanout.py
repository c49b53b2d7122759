"""Fan events out through Redis pub/sub, so every worker on every host reaches its own streams."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import gevent
import redis
from gevent.queue import Full, Queue
from redis.backoff import NoBackoff
from redis.retry import Retry

from everfresh.metrics import EVENTS_PUBLISHED, REDIS_LISTENER_CONNECTED
from everfresh.redis_clients import REDIS_ERRORS, redis_client
from everfresh.sse.broker.local import Broker, Envelope
from everfresh.sse.frames import EventFrame

log = logging.getLogger(__name__)

# How many of its own publishes a worker remembers the commit time of, for the fan-out latency.
COMMIT_TIMES_KEPT = 4096


class RedisBroker(Broker):
    """Publish through Redis pub/sub so every worker on every host delivers to its own streams.

    Each worker holds one pattern subscription, read by one listener greenlet, never one
    per stream. Publishing hands the frame to a publisher greenlet through a bounded queue,
    so a Redis outage never makes a booking request wait or fail: the event is in the log,
    and after the listener reconnects `catch_up` re-delivers what the outage hid.
    """

    OUTBOX_SIZE = 10_000
    # Events committed this long before the last healthy moment are re-read after an outage,
    # covering publishes that were in flight when the connection broke.
    CATCH_UP_MARGIN = timedelta(seconds=10)
    HEALTH_CHECK_SECONDS = 5
    MAX_BACKOFF_SECONDS = 5.0

    def __init__(
        self, queue_size: int, heartbeat_seconds: int, heartbeat: bytes, redis_url: str, prefix: str
    ) -> None:
        super().__init__(queue_size, heartbeat_seconds, heartbeat)
        self._redis_errors = REDIS_ERRORS
        self._redis = self.connect(redis_url)
        self._channel_prefix = f"{prefix}:events:"
        self._outbox: Queue = Queue(maxsize=self.OUTBOX_SIZE)
        self._greenlets: list[gevent.Greenlet] = []
        self.connected = False
        self._healthy_at = datetime.now(UTC)
        # Called after a reconnect with a moment before the outage; returns every event
        # logged since then, to re-deliver.
        self.catch_up: Callable[[datetime], Iterable[Envelope]] | None = None
        # When this worker committed the events it published, until they come back from
        # Redis, for the fan-out latency: the messages stay as they were (a worker of the
        # previous release reads them during a rolling deploy) and no two hosts' clocks meet.
        self._commit_times: OrderedDict[int, float] = OrderedDict()

    @property
    def connected(self) -> bool:
        """Tell whether this worker's listener is subscribed to Redis right now."""
        return self._connected

    @connected.setter
    def connected(self, value: bool) -> None:
        self._connected = value
        REDIS_LISTENER_CONNECTED.set(1 if value else 0)

    def connect(self, redis_url: str) -> redis.Redis:
        """Return the Redis client of this broker."""
        # No silent retries inside redis-py: the listener must see every disconnect to catch up.
        return redis_client(
            redis_url,
            cluster=False,
            timeout=2,
            socket_keepalive=True,
            health_check_interval=self.HEALTH_CHECK_SECONDS,
            retry=Retry(NoBackoff(), 0),
        )

    def tail_is_complete(self) -> bool:
        """Tell whether the listener is subscribed, so every event reaches this worker's tail."""
        return self.connected

    def channel(self, company_id: str) -> str:
        """Return the Redis channel carrying one company's events."""
        return self._channel_prefix + company_id

    def start(self) -> None:
        """Start the heartbeat, listener and publisher greenlets once per process."""
        super().start()
        if not self._greenlets:
            self._greenlets = [gevent.spawn(self._listen), gevent.spawn(self._publish_forever)]

    def publish(self, envelope: Envelope) -> None:
        """Hand the frame to the publisher greenlet; never wait on Redis."""
        EVENTS_PUBLISHED.inc()
        self.start()
        self._remember_commit_time(envelope)
        header = b"%d %d\n" % (envelope.event_id, envelope.sequence)
        try:
            self._outbox.put_nowait((self.channel(envelope.company_id), header + envelope.frame))
        except Full:
            log.error("Redis outbox full; event %s reaches streams by catch-up", envelope.event_id)

    def _remember_commit_time(self, envelope: Envelope) -> None:
        if envelope.committed_at is None:
            return
        self._commit_times[envelope.event_id] = envelope.committed_at
        if len(self._commit_times) > COMMIT_TIMES_KEPT:
            # Events lost in transit reach streams by catch-up and are never looked up.
            self._commit_times.popitem(last=False)

    def envelope(self, company_id: str, event_id: int, sequence: int, frame: bytes) -> Envelope:
        """Wrap an event heard on Redis, with its commit time if this worker committed it."""
        committed_at = self._commit_times.pop(event_id, None)
        return Envelope(
            company_id, event_id, sequence, EventFrame.of(frame, event_id, sequence), committed_at
        )

    def ping(self) -> bool:
        """Tell whether Redis answers right now."""
        try:
            return bool(self._redis.ping())
        except self._redis_errors:
            return False

    def _publish_forever(self) -> None:
        while True:
            channel, message = self._outbox.get()
            try:
                self._redis.publish(channel, message)
            except self._redis_errors as error:
                # Dropped on purpose: the event is committed to the log, and every listener
                # that missed it catches up from there once Redis is back.
                log.warning("Could not publish to Redis (%s); streams will catch up", error)

    def _listen(self) -> None:
        backoff = 0.1
        outage = False
        while not self.draining:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.psubscribe(self._channel_prefix + "*")
                self.connected = True
                if outage:
                    log.info("Redis is back; catching streams up from the event log")
                    self._catch_up()
                outage = False
                backoff = 0.1
                while not self.draining:
                    message = pubsub.get_message(timeout=1.0)
                    self._healthy_at = datetime.now(UTC)
                    if message is not None and message["type"] == "pmessage":
                        self._deliver_message(message["channel"], message["data"])
            except self._redis_errors as error:
                if not outage:
                    log.warning("Lost the Redis subscription (%s); reconnecting", error)
                self.connected = False
                outage = True
                gevent.sleep(backoff)
                backoff = min(backoff * 2, self.MAX_BACKOFF_SECONDS)
            finally:
                try:
                    pubsub.close()
                except self._redis_errors:
                    pass

    def _deliver_message(self, channel: bytes, data: bytes) -> None:
        company_id = channel[len(self._channel_prefix) :].decode()
        header, _, frame = data.partition(b"\n")
        event_id, sequence = header.split()
        self.receive(self.envelope(company_id, int(event_id), int(sequence), frame))

    def _catch_up(self) -> None:
        if self.catch_up is None:
            return
        try:
            since = self._healthy_at - self.CATCH_UP_MARGIN
            for envelope in self.catch_up(since):
                self.receive(envelope)
        except Exception:
            log.exception("Catching up after a Redis outage failed")
