"""Fan events out through a Redis Cluster's sharded pub/sub: each worker hears its companies."""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import UTC, datetime

import gevent
import redis
from gevent.event import Event
from gevent.queue import Full
from redis.cluster import ClusterNode, ClusterPubSub

from everfresh.metrics import BROKER_MESSAGES_RECEIVED, BROKER_MESSAGES_UNNEEDED, EVENTS_PUBLISHED
from everfresh.redis_clients import redis_client
from everfresh.sse.broker.local import Envelope
from everfresh.sse.broker.mailbox import Subscriber
from everfresh.sse.broker.redis_fanout import RedisBroker

log = logging.getLogger(__name__)


class RedisClusterBroker(RedisBroker):
    """Publish with SPUBLISH and let each worker SSUBSCRIBE only to the companies it serves.

    Every event goes out twice: on its company's channel, and on one channel of every
    company's events that only workers holding an all-company (superadmin) stream subscribe
    to. A worker subscribes to a company's channel when its first stream of that company
    opens and leaves it after the last one closes. One manager greenlet makes those changes;
    one reader greenlet per shard node reads, because redis-py's round-robin
    `get_sharded_message` would wait out each idle node in turn. A broken shard connection
    (a failover) or a channel the server moved away (resharding) makes the manager rebuild
    every subscription from a fresh view of the cluster and catch up from the event log.
    """

    # A publish that fails is tried again this long: a failover promotes a replica in seconds.
    PUBLISH_RETRY_SECONDS = 10.0
    # How long a company's first stream waits for its channel's subscription to be confirmed.
    SUBSCRIBE_WAIT_SECONDS = 2.0
    # How long each reader waits for a message before checking on its node.
    READ_SECONDS = 1.0

    def __init__(
        self, queue_size: int, heartbeat_seconds: int, heartbeat: bytes, redis_url: str, prefix: str
    ) -> None:
        super().__init__(queue_size, heartbeat_seconds, heartbeat, redis_url, prefix)
        self.all_companies_channel = f"{prefix}:all-events"
        # Channels this worker's streams need; the manager makes the subscription match.
        self._wanted: set[str] = set()
        # Channels SSUBSCRIBEd on the current pub/sub, and SUNSUBSCRIBEs not yet confirmed.
        self._requested: set[str] = set()
        self._leaving: Counter[str] = Counter()
        # Set once the cluster confirms a channel's subscription; cleared by a rebuild.
        self._confirmed: dict[str, Event] = {}
        self._pubsub: ClusterPubSub | None = None
        self._readers: dict[str, gevent.Greenlet] = {}
        # When each node's reader last knew its connection to be sound.
        self._heard_at: dict[str, datetime] = {}
        self._changed = Event()
        self._broken = False
        # Events logged since this moment are re-read once every wanted channel is confirmed.
        self._catch_up_from: datetime | None = None
        self._publish_failing_since: float | None = None

    def tail_is_complete(self) -> bool:
        """Return False: a worker hears only the companies it serves, joining and leaving them."""
        return False

    def connect(self, redis_url: str) -> redis.RedisCluster:
        """Return a cluster client; its node connections never retry silently, whatever we ask."""
        return redis_client(redis_url, cluster=True, timeout=2, socket_keepalive=True)

    def channel(self, company_id: str | None) -> str:
        """Return the shard channel carrying one company's events (every company's for None)."""
        if company_id is None:
            return self.all_companies_channel
        return self._channel_prefix + company_id

    def subscribe(
        self,
        company_id: str | None,
        user_id: str,
        expires_at: float,
        token_id: str | None = None,
        issued_at: float = 0.0,
    ) -> Subscriber:
        """Register a stream, waiting briefly until its channel's subscription is confirmed.

        The view reads the event log after subscribing, so a stream must not start before
        its channel hears new events; if the cluster is slow to confirm, the stream goes on
        and the events it may have missed are caught up once the confirmation comes.
        """
        subscriber = super().subscribe(company_id, user_id, expires_at, token_id, issued_at)
        channel = self.channel(company_id)
        confirmed = self._confirmed.setdefault(channel, Event())
        if channel not in self._wanted:
            self._wanted.add(channel)
            self._changed.set()
        if not confirmed.wait(self.SUBSCRIBE_WAIT_SECONDS):
            self._catch_up_later(datetime.now(UTC))
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Forget a stream; leave its channel once it was the last stream that needed it."""
        super().unsubscribe(subscriber)
        company_id = subscriber.company_id
        if company_id is None and self._all_companies:
            return
        if company_id is not None and company_id in self._by_company:
            return
        channel = self.channel(company_id)
        if channel in self._wanted:
            self._wanted.discard(channel)
            self._changed.set()

    def publish(self, envelope: Envelope) -> None:
        """Queue the event for its company's channel and the all-companies channel."""
        EVENTS_PUBLISHED.inc()
        self.start()
        company = envelope.company_id.encode()
        self._remember_commit_time(envelope)
        message = b"%d %d %s\n" % (envelope.event_id, envelope.sequence, company) + envelope.frame
        event_id = envelope.event_id
        for channel in (self.channel(envelope.company_id), self.all_companies_channel):
            try:
                self._outbox.put_nowait((channel, message))
            except Full:
                log.error("Redis outbox full; event %s reaches streams by catch-up", event_id)

    def _publish_forever(self) -> None:
        while True:
            channel, message = self._outbox.get()
            self._publish_one(channel, message)

    def _publish_one(self, channel: str, message: bytes) -> None:
        backoff = 0.05
        while True:
            try:
                self._redis.spublish(channel, message)
                self._publish_failing_since = None
                return
            except self._redis_errors as error:
                now = time.monotonic()
                if self._publish_failing_since is None:
                    self._publish_failing_since = now
                if now - self._publish_failing_since >= self.PUBLISH_RETRY_SECONDS:
                    # The event is in the log; the listeners that missed it catch up from there.
                    log.warning("Could not publish to Redis Cluster (%s); streams catch up", error)
                    return
            gevent.sleep(backoff)
            backoff = min(backoff * 2, 1.0)

    def _listen(self) -> None:
        # The manager: make the cluster subscription match the wanted channels, rebuild it
        # after a break, and catch up once every wanted channel is confirmed again.
        backoff = 0.1
        while not self.draining:
            try:
                if self._pubsub is None or self._broken:
                    self._rebuild()
                self._apply()
                self._start_readers()
                self.connected = True
                backoff = 0.1
                if self._catch_up_from is not None and self._all_confirmed():
                    self._healthy_at, self._catch_up_from = self._catch_up_from, None
                    log.info("Redis Cluster subscriptions are back; catching streams up")
                    self._catch_up()
            except self._redis_errors as error:
                if self.connected:
                    log.warning("Lost the Redis Cluster subscription (%s); reconnecting", error)
                self._break(datetime.now(UTC))
                gevent.sleep(backoff)
                backoff = min(backoff * 2, self.MAX_BACKOFF_SECONDS)
                continue
            self._changed.wait(self.READ_SECONDS)
            self._changed.clear()

    def _rebuild(self) -> None:
        old, self._pubsub = self._pubsub, None
        gevent.killall(list(self._readers.values()))
        self._readers.clear()
        if old is not None:
            try:
                old.reset()
            except self._redis_errors:
                pass
        self._requested.clear()
        self._leaving.clear()
        for confirmed in self._confirmed.values():
            confirmed.clear()
        # The failed master's replica may own its slots now: read the layout again.
        self._redis.nodes_manager.initialize()
        self._pubsub = self._redis.pubsub()
        self._broken = False

    def _apply(self) -> None:
        pubsub = self._pubsub
        for channel in sorted(self._wanted - self._requested):
            # One channel per command: channels in different slots may not share one.
            pubsub.ssubscribe(channel)
            self._requested.add(channel)
        for channel in sorted(self._requested - self._wanted):
            pubsub.sunsubscribe(channel)
            self._requested.discard(channel)
            self._leaving[channel] += 1
            # Cleared, not dropped: a stream that wants the channel again may wait on it.
            self._confirmed[channel].clear()

    def _all_confirmed(self) -> bool:
        return all(
            channel in self._confirmed and self._confirmed[channel].is_set()
            for channel in self._wanted
        )

    def _start_readers(self) -> None:
        pubsub = self._pubsub
        for name in list(pubsub.node_pubsub_mapping):
            reader = self._readers.get(name)
            if reader is None or reader.dead:
                node = self._redis.get_node(node_name=name)
                if node is not None:
                    self._heard_at[name] = datetime.now(UTC)
                    self._readers[name] = gevent.spawn(self._read, pubsub, node)

    def _read(self, pubsub: ClusterPubSub, node: ClusterNode) -> None:
        pinged_at: float | None = None
        heard = time.monotonic()
        try:
            while pubsub is self._pubsub and node.name in pubsub.node_pubsub_mapping:
                message = pubsub.get_sharded_message(target_node=node, timeout=self.READ_SECONDS)
                now = time.monotonic()
                if message is not None:
                    heard, pinged_at = now, None
                    self._heard_at[node.name] = datetime.now(UTC)
                    self._handle(message)
                elif pinged_at is not None and now - pinged_at > self.HEALTH_CHECK_SECONDS:
                    raise redis.ConnectionError(f"{node.name} stopped answering")
                elif pinged_at is None and now - heard > self.HEALTH_CHECK_SECONDS:
                    # A quiet node is asked for a pong, so a dead link shows within seconds;
                    # redis-py's own health checks are not passed on to cluster nodes.
                    node_pubsub = pubsub.node_pubsub_mapping.get(node.name)
                    if node_pubsub is not None:
                        node_pubsub.ping()
                        pinged_at = now
        except gevent.GreenletExit:
            raise
        except Exception as error:
            # Whatever broke the read, a rebuilt subscription and a catch-up mend it.
            if pubsub is self._pubsub and not self._broken:
                if self.connected:
                    log.warning("Lost Redis Cluster node %s (%s); reconnecting", node.name, error)
                self._break(self._heard_at.get(node.name, datetime.now(UTC)))

    def _handle(self, message: dict) -> None:
        kind = message["type"]
        if kind == "smessage":
            self._deliver_message(message["channel"], message["data"])
            return
        if kind not in ("ssubscribe", "sunsubscribe"):
            return
        channel = message["channel"].decode()
        if kind == "ssubscribe":
            if channel in self._requested:
                self._confirmed.setdefault(channel, Event()).set()
                self._changed.set()
        elif self._leaving[channel] > 0:
            self._leaving[channel] -= 1
            if not self._leaving[channel]:
                del self._leaving[channel]
        elif channel in self._requested:
            # Unasked: the channel's slot moved to another node (resharding).
            log.warning("Redis Cluster moved channel %s; subscribing again", channel)
            self._break(datetime.now(UTC))

    def _break(self, last_sound: datetime) -> None:
        self.connected = False
        self._broken = True
        self._catch_up_later(last_sound)
        self._changed.set()

    def _catch_up_later(self, since: datetime) -> None:
        if self._catch_up_from is None or since < self._catch_up_from:
            self._catch_up_from = since
        self._changed.set()

    def _deliver_message(self, channel: bytes, data: bytes) -> None:
        header, _, frame = data.partition(b"\n")
        event_id, sequence, company = header.split()
        company_id = company.decode()
        if channel.decode() == self.all_companies_channel:
            kind, needed = "all", bool(self._all_companies)
        else:
            kind, needed = "company", company_id in self._by_company
        BROKER_MESSAGES_RECEIVED.labels(kind).inc()
        if not needed:
            BROKER_MESSAGES_UNNEEDED.labels(kind).inc()
        self.receive(self.envelope(company_id, int(event_id), int(sequence), frame))
