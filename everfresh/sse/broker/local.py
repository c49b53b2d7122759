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
from collections.abc import Callable, Iterable
from typing import NamedTuple

import gevent
from gevent.event import Event

from everfresh.metrics import (
    EVENTS_DELIVERED,
    EVENTS_DROPPED,
    EVENTS_PUBLISHED,
    FAN_OUT_SECONDS,
    OPEN_STREAMS,
    SLOW_CONSUMERS_DROPPED,
)
from everfresh.sse.broker.mailbox import Closed, Subscriber
from everfresh.sse.broker.pacing import hold_seconds, slices
from everfresh.sse.ordering import CommitOrder
from everfresh.sse.tail import RecentEvents

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
    # When the event was committed (Unix seconds), for the fan-out latency; None for events
    # read back from the log, whose delay is the outage's, not the fan-out's.
    committed_at: float | None = None


class Draining(Exception):
    """Raised by `subscribe` once the server has begun shutting down."""


class Broker:
    """Deliver frames to this process's subscribers; publishing goes straight to delivery.

    One heartbeat greenlet per process, not a timer per stream, keeps idle streams alive:
    each second it offers the heartbeat to the streams whose slot is due (every stream once
    per `heartbeat_seconds`) and ends the streams whose token has expired.
    """

    # How long an event waits for an earlier one before giving up on it.
    HOLD_SECONDS = 1.0
    # While the worker serves other requests, new frames wait this long for more to share
    # each stream's wake-up and write; an idle worker wakes streams at once.
    COALESCE_SECONDS = 0.1
    # Streams woken before the waker yields, so requests are served between the slices.
    WAKE_SLICE = 256

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
        # Whether the worker is serving other requests (set by the app); idle by default.
        self.busy: Callable[[], bool] = _idle
        # Streams with frames queued and no wake-up yet, and the greenlet that will wake them
        # (with whether it is still waiting out the coalescing window).
        self._unwoken: list[Subscriber] = []
        self._waker: gevent.Greenlet | None = None
        self._waker_holding = False
        # The events delivered last, in order, which reconnecting streams resume from; once
        # the feed is heard, filled from the log by `read_recent` (set by the app), which
        # returns (after, [(company_id, event_id, sequence, frame), ...]): every event after.
        self.tail = RecentEvents()
        self.read_recent: Callable[[], tuple[int, list[tuple[str, int, int, bytes]]]] | None = None
        self.tail_filled = Event()
        self._tail_filling = False

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
        issued_at: float = 0.0,
    ) -> Subscriber:
        """Register a stream for one company's events (every company's when None) until expiry."""
        if self.draining:
            raise Draining
        self.start()
        subscriber = Subscriber(
            company_id, user_id, expires_at, self.queue_size, token_id, issued_at
        )
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
        self.deliver_envelope(envelope)

    def deliver_envelope(self, envelope: Envelope) -> int:
        """Queue an event for its company's streams here, timing it from its commit."""
        self.tail.record(envelope.company_id, envelope.event_id, envelope.sequence, envelope.frame)
        delivered = self.deliver(envelope.company_id, envelope.event_id, envelope.frame)
        if delivered and envelope.committed_at is not None:
            FAN_OUT_SECONDS.observe(max(0.0, time.time() - envelope.committed_at))
        return delivered

    def deliver(self, company_id: str, event_id: int, frame: bytes) -> int:
        """Queue `frame` for this process's subscribers of `company_id`; return how many got it."""
        if not _first_time(self._recent_ids, event_id):
            return 0
        return self._deliver_to(self._by_company.get(company_id, ()), frame)

    def tail_is_complete(self) -> bool:
        """Tell whether this worker hears every event now, so its tail misses none."""
        return True

    def recent_events(
        self, company_id: str | None, event_id: int, wait: float
    ) -> list[tuple[int, bytes]] | None:
        """Return the scope's events after `event_id` from the tail, or None if it lacks some.

        The first call fills the tail from the log; calls meanwhile wait up to `wait` seconds.
        """
        if not self.tail_is_complete():
            return None
        if not self._tail_filling:
            self._tail_filling = True
            gevent.spawn(self._fill_tail)
        self.tail_filled.wait(wait)
        return self.tail.since(company_id, event_id)

    def _fill_tail(self) -> None:
        try:
            if self.read_recent is not None:
                self.tail.fill(*self.read_recent())
        except Exception:
            log.exception("Could not fill the recent events from the log; streams read the log")
        finally:
            self.tail_filled.set()

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
                self.tail.record_for_all_companies(envelope.event_id, envelope.frame)
                self._deliver_to(self._all_companies, envelope.frame)

    def _deliver_to(self, recipients: Iterable[Subscriber], frame: bytes) -> int:
        if not recipients:
            return 0
        overflowed = self._queue_all(recipients, frame)
        delivered = len(recipients) - len(overflowed)
        EVENTS_DELIVERED.inc(delivered)
        EVENTS_DROPPED.inc(len(overflowed))
        self._drop_slow(overflowed)
        self._schedule_wake()
        return delivered

    def _queue_all(self, subscribers: Iterable[Subscriber], frame: bytes) -> list[Subscriber]:
        # The hot loop of every publish: queue only; streams are woken by the waker greenlet.
        overflowed = []
        unwoken = self._unwoken
        for subscriber in subscribers:
            queued = subscriber.put(frame)
            if queued == 1:
                unwoken.append(subscriber)
            elif not queued:
                overflowed.append(subscriber)
        return overflowed

    def _schedule_wake(self) -> None:
        if not self._unwoken:
            return
        hold = hold_seconds(self.busy(), self.COALESCE_SECONDS)
        waker = self._waker
        if waker is not None:
            if not (hold == 0 and self._waker_holding):
                return
            # The worker went idle while frames were held: deliver them now, not later.
            waker.kill(block=False)
        self._waker_holding = hold > 0
        if hold:
            self._waker = gevent.spawn_later(hold, self._wake_unwoken)
        else:
            self._waker = gevent.spawn(self._wake_unwoken)

    def _wake_unwoken(self) -> None:
        self._waker_holding = False
        try:
            while self._unwoken:
                batch, self._unwoken = self._unwoken, []
                for index, part in enumerate(slices(batch, self.WAKE_SLICE)):
                    if index:
                        # Let requests (and the streams just woken) run between slices.
                        gevent.sleep(0)
                    for subscriber in part:
                        subscriber.wake()
        finally:
            self._waker = None

    @staticmethod
    def _offer_all(subscribers: Iterable[Subscriber], frame: bytes) -> list[Subscriber]:
        # Heartbeats: each stream woken at once, the rare full mailbox remembered for dropping.
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


def _idle() -> bool:
    return False


def _first_time(recent: OrderedDict[int, None], event_id: int) -> bool:
    # Remembers the last RECENT_EVENT_IDS ids: a catch-up can overlap what arrived live.
    if event_id in recent:
        return False
    recent[event_id] = None
    if len(recent) > RECENT_EVENT_IDS:
        recent.popitem(last=False)
    return True
