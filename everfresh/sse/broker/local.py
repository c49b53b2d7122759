"""Deliver committed events to this process's streams: heartbeats, token expiry and shutdown.

A publisher never waits for a subscriber: a slow client must not hold up the others, so each
mailbox is bounded and a subscriber whose mailbox is full is dropped (it reconnects and replays
from the event log).
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable, Hashable, Iterable
from typing import NamedTuple

import gevent
from gevent.event import Event

from everfresh.metrics import (
    EVENT_HOLES_READ,
    EVENTS_DELIVERED,
    EVENTS_DROPPED,
    EVENTS_LACKING,
    EVENTS_PUBLISHED,
    FAN_OUT_SECONDS,
    OPEN_STREAMS,
    SLOW_CONSUMERS_DROPPED,
)
from everfresh.sse.broker.mailbox import Closed, Subscriber
from everfresh.sse.broker.pacing import hold_seconds, slices
from everfresh.sse.ordering import Hole, Ordering
from everfresh.sse.tail import Recent, RecentEvents

log = logging.getLogger(__name__)

# The key of the line of every company's events, numbered by event id; a company's own line
# is keyed by its id and numbered by its sequence.
ALL_COMPANIES = None


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

    Events reach streams in commit order, line by line (`Ordering`): a company's streams by
    the company's sequence, all-company streams by event id. Even in one process two
    requests' announcements can cross after their commits, and through Redis two workers'
    publishes can; an event whose predecessor is late waits briefly, then the predecessor
    is read from the event log (`read_log`), so no stream is ever sent past a hole.

    One heartbeat greenlet per process, not a timer per stream, keeps idle streams alive:
    each second it offers the heartbeat to the streams whose slot is due (every stream once
    per `heartbeat_seconds`) and ends the streams whose token has expired.
    """

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
        # A line per company with streams here, and one for all-company streams if any.
        self._ordering: Ordering[str | None, Envelope] = Ordering()
        # Sleeps until the soonest hole is due to be read; None while no line waits.
        self._hole_timer: gevent.Greenlet | None = None
        # Reads a hole of a line from the event log: (key, first, last, id of the event
        # waiting after it) -> its envelopes, oldest first.
        self.read_log: Callable[[str | None, int, int, int], list[Envelope]] = _nothing_read
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
        # The events heard last, which reconnecting streams resume from; once the feed is
        # heard, filled from the log by `read_recent` (set by the app), which returns
        # (after, [(company_id, event_id, sequence, frame), ...]): every event after it.
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
        if not subscribers:
            # A line no stream here follows would only hold and read holes for nobody.
            self._ordering.forget(subscriber.company_id)
            if subscriber.company_id is not None:
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
        """Deliver a committed event to the streams that follow its lines, in commit order."""
        # Every event heard, whether or not a stream here follows its company: the next
        # stream of that company may resume from it.
        self.tail.record(envelope.company_id, envelope.event_id, envelope.sequence, envelope.frame)
        self.tail.record_for_all_companies(envelope.event_id, envelope.sequence, envelope.frame)
        now = time.monotonic()
        ordering = self._ordering
        if self._all_companies:
            ready = ordering.receive(ALL_COMPANIES, envelope.event_id, envelope, now)
            self._deliver_to_all_companies(ready)
        if envelope.company_id in self._by_company:
            for ready_envelope in ordering.receive(
                envelope.company_id, envelope.sequence, envelope, now
            ):
                self.deliver_envelope(ready_envelope)
        if self._hole_timer is None:
            self._watch_for_holes(now)

    def deliver_envelope(self, envelope: Envelope) -> int:
        """Queue an event for its company's streams here, timing it from its commit."""
        delivered = self.deliver(envelope.company_id, envelope.frame)
        if delivered and envelope.committed_at is not None:
            FAN_OUT_SECONDS.observe(max(0.0, time.time() - envelope.committed_at))
        return delivered

    def deliver(self, company_id: str, frame: bytes) -> int:
        """Queue `frame` for this process's subscribers of `company_id`; return how many got it."""
        return self._deliver_to(self._by_company.get(company_id, ()), frame)

    def tail_is_complete(self) -> bool:
        """Tell whether this worker hears every event now, so its tail misses none."""
        return True

    def recent_events(self, company_id: str | None, event_id: int, wait: float) -> Recent | None:
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

    def _deliver_to_all_companies(self, envelopes: list[Envelope]) -> None:
        for envelope in envelopes:
            self._deliver_to(self._all_companies, envelope.frame)

    def _deliver_line(self, key: Hashable, envelopes: list[Envelope]) -> None:
        if key is ALL_COMPANIES:
            self._deliver_to_all_companies(envelopes)
        else:
            for envelope in envelopes:
                self.deliver_envelope(envelope)

    def _watch_for_holes(self, now: float) -> None:
        due = self._ordering.next_due()
        if due is not None:
            self._hole_timer = gevent.spawn_later(max(due - now, 0.0), self._read_holes)

    def _read_holes(self) -> None:
        self._hole_timer = None
        now = time.monotonic()
        for hole in self._ordering.holes(now):
            gevent.spawn(self._fill, hole)
        self._watch_for_holes(now)

    def _fill(self, hole: Hole[str | None, Envelope]) -> None:
        # The later event proves the missing ones committed, so the log has them.
        EVENT_HOLES_READ.labels("worker").inc()
        read: list[Envelope] | None = None
        try:
            read = self.read_log(hole.key, hole.first, hole.last, hole.waiting.event_id)
        except Exception as error:
            # Move on: each stream then meets the hole itself and ends with a `retry:` when
            # it cannot read it either, so its client resumes by replay.
            log.warning(
                "Could not read events %s-%s of %s (%s)", hole.first, hole.last, hole.key, error
            )
        by_id = hole.key is ALL_COMPANIES
        numbered = [(e.event_id if by_id else e.sequence, e) for e in read or ()]
        ready, lacking = self._ordering.fill(hole, numbered, time.monotonic())
        if lacking and read is not None:
            EVENTS_LACKING.inc(lacking)
            log.warning("%d of %s's events %s-%s are not in the log", lacking, *hole[:3])
        self._deliver_line(hole.key, ready)
        if self._hole_timer is None:
            self._watch_for_holes(time.monotonic())

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


def _nothing_read(_key: str | None, _first: int, _last: int, _waiting: int) -> list[Envelope]:
    # A broker without an event log (the unit tests') gives holes up at once.
    return []
