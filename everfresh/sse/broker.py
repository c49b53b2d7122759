"""Fan event frames out to each subscriber's bounded mailbox, in-process or through Redis.

This is the only module that knows how streams wait (gevent). A publisher never waits for a
subscriber: a slow client must not hold up the others, so each mailbox is bounded and a
subscriber whose mailbox is full is dropped (it reconnects and replays from the event log).
"""

from __future__ import annotations

import enum
import heapq
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import gevent
import redis
from gevent.hub import Waiter, get_hub
from gevent.queue import Full, Queue
from redis.backoff import NoBackoff
from redis.retry import Retry

from everfresh.metrics import (
    EVENTS_DELIVERED,
    EVENTS_DROPPED,
    EVENTS_PUBLISHED,
    OPEN_STREAMS,
    SLOW_CONSUMERS_DROPPED,
)
from everfresh.sse.ordering import CommitOrder

log = logging.getLogger(__name__)

# How many recently delivered event ids a worker remembers to drop duplicates
# (a catch-up after a Redis outage can overlap what already arrived live).
RECENT_EVENT_IDS = 4096


class Envelope(NamedTuple):
    """A committed event on its way to streams: its company, id, place in line and frame."""

    company_id: str
    event_id: int
    # The company's event number, 1, 2, 3, ... in commit order.
    sequence: int
    frame: bytes


class Closed(enum.Enum):
    """Why the broker ended a subscription."""

    SHUTDOWN = "shutdown"
    OVERFLOW = "overflow"
    REVOKED = "revoked"
    EXPIRED = "expired"


class Draining(Exception):
    """Raised by `subscribe` once the server has begun shutting down."""


class Subscriber:
    """One open stream's mailbox: a bounded list of frames for one company, or for all.

    A list and a one-shot waiter rather than a gevent Queue: a Queue carries three deques,
    about 2.5 KB per stream before a single frame arrives, and a stream only ever needs
    "append, and wake the one reader".
    """

    __slots__ = (
        "company_id",
        "user_id",
        "token_id",
        "expires_at",
        "closed",
        "registered",
        "heartbeat_slot",
        "_frames",
        "_spare",
        "_capacity",
        "_waiter",
        "_reusable_waiter",
        "_greenlet",
    )

    def __init__(
        self,
        company_id: str | None,
        user_id: str,
        expires_at: float,
        queue_size: int,
        token_id: str | None = None,
    ) -> None:
        self.company_id = company_id
        self.user_id = user_id
        # The `jti` of the access token the stream was opened with; revoking it ends the stream.
        self.token_id = token_id
        # When the stream's access token expires (epoch seconds); the stream ends then.
        self.expires_at = expires_at
        self.closed: Closed | None = None
        # Whether the broker still delivers to it, and which heartbeat slot it sits in.
        self.registered = False
        self.heartbeat_slot = 0
        self._frames: list[bytes] = []
        self._spare: list[bytes] = []
        self._capacity = queue_size
        # Set while the stream waits for frames; whoever adds one wakes it through the hub.
        self._waiter: Waiter | None = None
        self._reusable_waiter = Waiter()
        # The greenlet serving this stream; it writes to the socket, so only it can be stuck.
        self._greenlet = gevent.getcurrent()

    def offer(self, frame: bytes) -> bool:
        """Queue `frame` without waiting; return False when the mailbox is full."""
        if len(self._frames) >= self._capacity:
            return False
        self._frames.append(frame)
        self._wake()
        return True

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            # Waiters are switched to from the hub, never from another greenlet directly.
            get_hub().loop.run_callback(waiter.switch, None)

    def next_frames(self) -> list[bytes] | Closed:
        """Wait for frames and return every one queued by then (valid until the next call).

        Taking all that is waiting at once lets the stream write them in one go: a burst of
        bookings costs one socket write per stream, not one per booking.
        """
        if self.closed is None and not self._frames:
            # One Waiter per stream, reused: gevent resets it after each completed get().
            self._waiter = self._reusable_waiter
            try:
                self._reusable_waiter.get()
            finally:
                self._waiter = None
        if self.closed is not None:
            return self.closed
        # Two lists take turns, so a wake allocates nothing that outlives it: objects that
        # survive from wake to wake pile up in the oldest GC generation, and collecting that
        # stalls fan-out. The caller must be done with the list by its next call.
        frames = self._frames
        self._spare.clear()
        self._frames, self._spare = self._spare, frames
        return frames

    def close(self, reason: Closed) -> None:
        """End the subscription; the stream notices at once, or is ended if stuck writing."""
        if self.closed is not None:
            return
        self.closed = reason
        if self._waiter is not None:
            self._wake()
        elif len(self._frames) >= self._capacity:
            # A full mailbox means a reader that is not reading, most likely stuck writing
            # to a client that went quiet: end its greenlet rather than wait on the socket.
            if (
                isinstance(self._greenlet, gevent.Greenlet)
                and self._greenlet is not gevent.getcurrent()
            ):
                self._greenlet.kill(block=False)


class Broker:
    """Deliver frames to this process's subscribers; publishing goes straight to delivery.

    One heartbeat greenlet per process, not a timer per stream, keeps idle streams alive:
    each second it offers the heartbeat to the streams whose slot is due (every stream once
    per `heartbeat_seconds`) and ends the streams whose token has expired.
    """

    # How long an event waits for an earlier one before giving up on it.
    HOLD_SECONDS = 1.0

    def __init__(self, queue_size: int, heartbeat_seconds: int, heartbeat: bytes) -> None:
        self.queue_size = queue_size
        self.draining = False
        self._by_company: dict[str, set[Subscriber]] = {}
        self._all_companies: set[Subscriber] = set()
        self._recent_ids: OrderedDict[int, None] = OrderedDict()
        # Streams of every company get events in id (commit) order, so they resume exactly.
        self._all_companies_order: CommitOrder[Envelope] = CommitOrder(self.HOLD_SECONDS)
        self._recent_all_companies_ids: OrderedDict[int, None] = OrderedDict()
        self._ordering_timer: gevent.Greenlet | None = None
        self._heartbeat = heartbeat
        self._heartbeat_slots: list[set[Subscriber]] = [set() for _ in range(heartbeat_seconds)]
        self._next_slot = 0
        self._expiries: list[tuple[float, int, Subscriber]] = []
        self._subscribed = 0
        self._heart: gevent.Greenlet | None = None

    @property
    def subscriber_count(self) -> int:
        """Return how many streams this process is serving."""
        return len(self._all_companies) + sum(len(s) for s in self._by_company.values())

    def subscribers(self) -> Iterable[Subscriber]:
        """Return every current subscriber."""
        yield from self._all_companies
        for subscribers in self._by_company.values():
            yield from subscribers

    def subscribe(
        self,
        company_id: str | None,
        user_id: str,
        expires_at: float,
        token_id: str | None = None,
    ) -> Subscriber:
        """Register a stream for one company's events (every company's when None) until expiry."""
        if self.draining:
            raise Draining
        self.start()
        subscriber = Subscriber(company_id, user_id, expires_at, self.queue_size, token_id)
        if company_id is None:
            self._all_companies.add(subscriber)
        else:
            self._by_company.setdefault(company_id, set()).add(subscriber)
        # The slot due last: the first heartbeat comes a full interval after connecting.
        subscriber.heartbeat_slot = (self._next_slot - 1) % len(self._heartbeat_slots)
        self._heartbeat_slots[subscriber.heartbeat_slot].add(subscriber)
        subscriber.registered = True
        self._subscribed += 1
        heapq.heappush(self._expiries, (expires_at, self._subscribed, subscriber))
        OPEN_STREAMS.inc()
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Forget a stream; safe to call more than once."""
        if subscriber.company_id is None:
            subscribers = self._all_companies
        else:
            subscribers = self._by_company.get(subscriber.company_id, set())
        if not subscriber.registered:
            return
        subscriber.registered = False
        subscribers.discard(subscriber)
        if not subscribers and subscriber.company_id is not None:
            del self._by_company[subscriber.company_id]
        self._heartbeat_slots[subscriber.heartbeat_slot].discard(subscriber)
        OPEN_STREAMS.dec()
        if len(self._expiries) > 2 * self.subscriber_count + 64:
            # Ended streams wait in the expiry heap until their token would expire; drop them
            # once they outnumber the live ones, so they do not pin memory meanwhile.
            self._expiries = [entry for entry in self._expiries if entry[2].registered]
            heapq.heapify(self._expiries)

    def publish(self, envelope: Envelope) -> None:
        """Send a committed event's frame to every stream that should see it."""
        EVENTS_PUBLISHED.inc()
        self.receive(envelope)

    def receive(self, envelope: Envelope) -> None:
        """Deliver a committed event to its company's streams, and in id order to all-company ones.

        Even in one process, two requests' announcements can cross after their commits.
        """
        self.deliver_in_commit_order(envelope)
        self.deliver(envelope.company_id, envelope.event_id, envelope.frame)

    def deliver(self, company_id: str, event_id: int, frame: bytes) -> int:
        """Queue `frame` for this process's subscribers of `company_id`; return how many got it."""
        if not _first_time(self._recent_ids, event_id):
            return 0
        return self._deliver_to(self._by_company.get(company_id, ()), frame)

    def note_log_position(self, position: int) -> None:
        """Tell the broker how far the log went when a stream subscribed (the order's start)."""
        self._all_companies_order.start_after(position)

    def deliver_in_commit_order(self, envelope: Envelope) -> None:
        """Hand an event to the streams of every company once all earlier ids have gone out."""
        now = gevent.get_hub().loop.now()
        ready = self._all_companies_order.offer(envelope.event_id, envelope, now)
        self._deliver_to_all_companies(ready)
        if self._all_companies_order.held and self._ordering_timer is None:
            self._ordering_timer = gevent.spawn_later(
                self.HOLD_SECONDS, self._release_overdue_for_all_companies
            )

    def _release_overdue_for_all_companies(self) -> None:
        self._ordering_timer = None
        order = self._all_companies_order
        now = gevent.get_hub().loop.now()
        overdue = order.release_overdue(now)
        if overdue:
            log.warning("Event %s never arrived; moving on", overdue[0].event_id - 1)
        self._deliver_to_all_companies(overdue)
        due_at = order.due_at()
        if due_at is not None:
            self._ordering_timer = gevent.spawn_later(
                max(due_at - now, 0.0), self._release_overdue_for_all_companies
            )

    def _deliver_to_all_companies(self, envelopes: list[Envelope]) -> None:
        for envelope in envelopes:
            if _first_time(self._recent_all_companies_ids, envelope.event_id):
                self._deliver_to(self._all_companies, envelope.frame)

    def _deliver_to(self, recipients: Iterable[Subscriber], frame: bytes) -> int:
        if not recipients:
            return 0
        overflowed = self._offer_all(recipients, frame)
        delivered = len(recipients) - len(overflowed)
        EVENTS_DELIVERED.inc(delivered)
        EVENTS_DROPPED.inc(len(overflowed))
        self._drop_slow(overflowed)
        return delivered

    @staticmethod
    def _offer_all(subscribers: Iterable[Subscriber], frame: bytes) -> list[Subscriber]:
        # The hot loop of every publish; the rare full mailbox is remembered for dropping.
        return [subscriber for subscriber in subscribers if not subscriber.offer(frame)]

    def _drop_slow(self, overflowed: list[Subscriber]) -> None:
        for subscriber in overflowed:
            log.warning("Dropping a slow stream of user %s: its queue is full", subscriber.user_id)
            self.unsubscribe(subscriber)
            subscriber.close(Closed.OVERFLOW)
            SLOW_CONSUMERS_DROPPED.inc()

    def start(self) -> None:
        """Start the heartbeat greenlet once per process (after any fork)."""
        if self._heart is None:
            self._heart = gevent.spawn(self._beat_forever)

    def _beat_forever(self) -> None:
        while True:
            gevent.sleep(1.0)
            self.beat(time.time())

    def beat(self, now: float) -> None:
        """Heartbeat the streams whose slot is due, and end those whose token has expired."""
        slot = self._heartbeat_slots[self._next_slot]
        self._next_slot = (self._next_slot + 1) % len(self._heartbeat_slots)
        self._drop_slow(self._offer_all(slot, self._heartbeat))
        while self._expiries and self._expiries[0][0] <= now:
            subscriber = heapq.heappop(self._expiries)[2]
            if subscriber.registered:
                self.unsubscribe(subscriber)
                subscriber.close(Closed.EXPIRED)

    def shutdown(self) -> None:
        """Refuse new streams and tell every open one that the server is going away."""
        self.draining = True
        for subscriber in list(self.subscribers()):
            subscriber.close(Closed.SHUTDOWN)

    def wait_until_idle(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for every stream to finish; return whether they did."""
        deadline = gevent.get_hub().loop.now() + timeout
        while self.subscriber_count and gevent.get_hub().loop.now() < deadline:
            gevent.sleep(0.02)
        return self.subscriber_count == 0


def _first_time(recent: OrderedDict[int, None], event_id: int) -> bool:
    # Remembers the last RECENT_EVENT_IDS ids: a catch-up can overlap what arrived live.
    if event_id in recent:
        return False
    recent[event_id] = None
    if len(recent) > RECENT_EVENT_IDS:
        recent.popitem(last=False)
    return True


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
        self._redis_errors = (redis.RedisError, OSError)
        # No silent retries inside redis-py: the listener must see every disconnect to catch up.
        self._redis = redis.Redis.from_url(
            redis_url,
            socket_connect_timeout=2,
            socket_timeout=2,
            socket_keepalive=True,
            health_check_interval=self.HEALTH_CHECK_SECONDS,
            retry=Retry(NoBackoff(), 0),
        )
        self._channel_prefix = f"{prefix}:events:"
        self._outbox: Queue = Queue(maxsize=self.OUTBOX_SIZE)
        self._greenlets: list[gevent.Greenlet] = []
        self.connected = False
        self._healthy_at = datetime.now(UTC)
        # Called after a reconnect with a moment before the outage; returns every event
        # logged since then, to re-deliver.
        self.catch_up: Callable[[datetime], Iterable[Envelope]] | None = None
        # Per company: the sequence number expected next, and later events held until it comes.
        self._next_sequence: dict[str, int] = {}
        self._held: dict[str, dict[int, Envelope]] = {}

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
        header = b"%d %d\n" % (envelope.event_id, envelope.sequence)
        try:
            self._outbox.put_nowait((self.channel(envelope.company_id), header + envelope.frame))
        except Full:
            log.error("Redis outbox full; event %s reaches streams by catch-up", envelope.event_id)

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
        self.receive(Envelope(company_id, int(event_id), int(sequence), frame))

    def receive(self, envelope: Envelope) -> None:
        """Deliver an event from Redis in its company's commit order.

        Two workers' publishes can cross on their way through Redis; an event that arrives
        before an earlier one of its company waits for it, at most HOLD_SECONDS.
        """
        self.deliver_in_commit_order(envelope)
        company_id, sequence = envelope.company_id, envelope.sequence
        expected = self._next_sequence.get(company_id)
        if expected is not None and sequence > expected:
            held = self._held.setdefault(company_id, {})
            held[sequence] = envelope
            if len(held) == 1:
                gevent.spawn_later(self.HOLD_SECONDS, self._stop_waiting, company_id, expected)
            return
        self.deliver(company_id, envelope.event_id, envelope.frame)
        if expected is None or sequence == expected:
            self._next_sequence[company_id] = sequence + 1
            self._release_held(company_id)

    def _release_held(self, company_id: str) -> None:
        held = self._held.get(company_id)
        while held and self._next_sequence[company_id] in held:
            envelope = held.pop(self._next_sequence[company_id])
            self.deliver(company_id, envelope.event_id, envelope.frame)
            self._next_sequence[company_id] = envelope.sequence + 1
        if not held:
            self._held.pop(company_id, None)

    def _stop_waiting(self, company_id: str, missing: int) -> None:
        # The missing event was lost in transit (a Redis outage): deliver what came after it,
        # in order; it still reaches streams through catch-up, and reconnects through replay.
        held = self._held.get(company_id)
        if not held or self._next_sequence.get(company_id) != missing:
            return
        log.warning("Event %s of company %s never arrived; moving on", missing, company_id)
        self._next_sequence[company_id] = min(held)
        self._release_held(company_id)
        if self._held.get(company_id):
            gevent.spawn_later(
                self.HOLD_SECONDS, self._stop_waiting, company_id, self._next_sequence[company_id]
            )

    def _catch_up(self) -> None:
        if self.catch_up is None:
            return
        try:
            since = self._healthy_at - self.CATCH_UP_MARGIN
            for envelope in self.catch_up(since):
                self.receive(envelope)
        except Exception:
            log.exception("Catching up after a Redis outage failed")
