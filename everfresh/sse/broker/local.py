"""Deliver committed events to this process's streams: heartbeats, token expiry and shutdown.

A publisher never waits for a subscriber: a slow client must not hold up the others, so each
mailbox is bounded and a subscriber whose mailbox is full is dropped (it reconnects and replays
from the event log).
"""

from __future__ import annotations

import heapq
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from itertools import chain
from typing import NamedTuple

import gevent

from everfresh.metrics import (
    EVENTS_DELIVERED,
    EVENTS_DROPPED,
    EVENTS_PUBLISHED,
    OPEN_STREAMS,
    SLOW_CONSUMERS_DROPPED,
)
from everfresh.sse.broker.mailbox import Closed, Subscriber

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


class Draining(Exception):
    """Raised by `subscribe` once the server has begun shutting down."""


class Broker:
    """Deliver frames to this process's subscribers; publishing goes straight to delivery.

    One heartbeat greenlet per process, not a timer per stream, keeps idle streams alive:
    each second it offers the heartbeat to the streams whose slot is due (every stream once
    per `heartbeat_seconds`) and ends the streams whose token has expired.
    """

    def __init__(self, queue_size: int, heartbeat_seconds: int, heartbeat: bytes) -> None:
        self.queue_size = queue_size
        self.draining = False
        self._by_company: dict[str, set[Subscriber]] = {}
        self._all_companies: set[Subscriber] = set()
        self._recent_ids: OrderedDict[int, None] = OrderedDict()
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

    def subscribe(self, company_id: str | None, user_id: str, expires_at: float) -> Subscriber:
        """Register a stream for one company's events (every company's when None) until expiry."""
        if self.draining:
            raise Draining
        self.start()
        subscriber = Subscriber(company_id, user_id, expires_at, self.queue_size)
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
        self.deliver(envelope.company_id, envelope.event_id, envelope.frame)

    def deliver(self, company_id: str, event_id: int, frame: bytes) -> int:
        """Queue `frame` for this process's matching subscribers; return how many got it."""
        if event_id in self._recent_ids:
            return 0
        self._recent_ids[event_id] = None
        if len(self._recent_ids) > RECENT_EVENT_IDS:
            self._recent_ids.popitem(last=False)

        recipients = self._by_company.get(company_id, set())
        overflowed = self._offer_all(chain(recipients, self._all_companies), frame)
        delivered = len(recipients) + len(self._all_companies) - len(overflowed)
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
