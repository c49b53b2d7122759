"""Keep the events a worker heard last, so reconnecting streams resume without the database."""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable
from typing import NamedTuple

# Events kept per company: a reconnect after a deploy misses seconds, not hours.
EVENTS_PER_COMPANY = 64
# Events kept for all-company (superadmin) streams, in id order.
EVENTS_FOR_ALL_COMPANIES = 1024
# Events kept over every company together; the companies heard from longest ago go first.
# About 450 bytes a frame: some 7 MB per worker at most.
MAX_EVENTS = 16_384


class Recorded(NamedTuple):
    """One event heard: its id, its company's sequence number and its frame."""

    event_id: int
    sequence: int
    frame: bytes


class Recent(NamedTuple):
    """A scope's events after a resume point, and the company's sequence number at that point."""

    events: list[Recorded]
    # The number of the company's last event at or before the resume point (0 for the scope
    # of every company, whose events are numbered by id).
    sequence: int


class Chain:
    """A company's (or all companies') latest events, with no event of the scope missing between.

    `known_from` is an event id at or after which the chain is complete: every event of the
    scope with a larger id, up to the last one heard, is in it. None: nothing is known.
    """

    __slots__ = ("events", "known_from", "limit")

    def __init__(self, limit: int) -> None:
        self.events: deque[Recorded] = deque()
        self.known_from: int | None = None
        self.limit = limit

    def append(self, event: Recorded, follows: bool) -> int:
        """Add the next event (`follows`: it is the one after the last); return the change in size.

        An event that does not follow the last one means something in between never came
        here (lost in transit, or announced out of order): what is kept starts again from it.
        """
        dropped = 0
        if not follows:
            dropped = len(self.events)
            self.events.clear()
            self.known_from = event.event_id
        self.events.append(event)
        if len(self.events) > self.limit:
            self.known_from = self.events.popleft().event_id
            dropped += 1
        return 1 - dropped

    def after(self, event_id: int) -> Recent | None:
        """Return the events after `event_id` and the sequence there, or None if unknown."""
        if self.known_from is None or event_id < self.known_from:
            return None
        events = [event for event in self.events if event.event_id > event_id]
        if len(events) < len(self.events):
            sequence = self.events[len(self.events) - len(events) - 1].sequence
        else:
            # Nothing kept is that old: the chain's first event follows the resume point.
            sequence = self.events[0].sequence - 1
        return Recent(events, sequence)


class RecentEvents:
    """The last events this worker heard, per company and for all companies, bounded.

    The worker's own feed fills it (each event as it is heard, whether or not a stream here
    follows its company), so serving a resume from it costs no database connection. A
    chain only answers for resume points it is sure of: after a hole (an event lost in
    transit, or two announcements that crossed) it starts again from the next event, and
    the stream falls back to the event log.
    """

    def __init__(
        self,
        per_company: int = EVENTS_PER_COMPANY,
        for_all_companies: int = EVENTS_FOR_ALL_COMPANIES,
        max_events: int = MAX_EVENTS,
    ) -> None:
        self.per_company = per_company
        self.max_events = max_events
        self._companies: OrderedDict[str, Chain] = OrderedDict()
        self._company_events = 0
        self._last_sequence: dict[str, int] = {}
        self._all = Chain(for_all_companies)
        # Every event id up to this one has been heard here (or read from the log), so a
        # company's chain knows its sequence at any resume point up to it: an event of the
        # company with a smaller id may still be on its way from another worker otherwise,
        # and a resume answered past it would send it twice once it comes.
        self.heard_through: int | None = None
        self._heard_above: set[int] = set()

    def record(self, company_id: str, event_id: int, sequence: int, frame: bytes) -> None:
        """Keep an event of the company (numbered by the company's sequence)."""
        self._heard(event_id)
        last = self._last_sequence.get(company_id)
        if last is not None and sequence <= last:
            return  # Already kept, or older than what is kept: a late copy.
        chain = self._companies.get(company_id)
        if chain is None:
            chain = self._companies[company_id] = Chain(self.per_company)
        else:
            self._companies.move_to_end(company_id)
        follows = last is not None and sequence == last + 1 and bool(chain.events)
        self._company_events += chain.append(Recorded(event_id, sequence, frame), follows)
        self._last_sequence[company_id] = sequence
        while self._company_events > self.max_events:
            forgotten, oldest = self._companies.popitem(last=False)
            self._company_events -= len(oldest.events)
            del self._last_sequence[forgotten]

    def record_for_all_companies(self, event_id: int, sequence: int, frame: bytes) -> None:
        """Keep an event for the all-company streams (numbered by id)."""
        last = self._all.events[-1].event_id if self._all.events else None
        if last is not None and event_id <= last:
            return
        follows = last is not None and event_id == last + 1
        self._all.append(Recorded(event_id, sequence, frame), follows)

    def _heard(self, event_id: int) -> None:
        if self.heard_through is None:
            # Chains start at what this worker first hears; nothing before is vouched for.
            self.heard_through = event_id - 1
        if event_id <= self.heard_through:
            return
        above = self._heard_above
        above.add(event_id)
        while self.heard_through + 1 in above:
            self.heard_through += 1
            above.remove(self.heard_through)
        if len(above) > MAX_EVENTS:
            # An event never came (lost with a Redis outage no catch-up covered): vouch
            # afresh from here, and let every chain start again after it.
            self.heard_through = max(above)
            above.clear()
            for company_id in list(self._companies):
                self.forget(company_id)
            self._all = Chain(self._all.limit)

    def forget(self, company_id: str) -> None:
        """Drop a company's events: this worker stops hearing them (no stream of it is left)."""
        chain = self._companies.pop(company_id, None)
        if chain is not None:
            self._company_events -= len(chain.events)
        self._last_sequence.pop(company_id, None)

    def fill(self, after: int, events: Iterable[tuple[str, int, int, bytes]]) -> None:
        """Add what the log holds after `after`: every event of it, oldest first.

        (company_id, event_id, sequence, frame) each. Events heard while the log was
        read may already be kept; a scope joins the two only when they meet without a hole.
        """
        by_company: dict[str, list[Recorded]] = {}
        everything: list[Recorded] = []
        if self.heard_through is None:
            self.heard_through = after
        for company_id, event_id, sequence, frame in events:
            self._heard(event_id)
            recorded = Recorded(event_id, sequence, frame)
            by_company.setdefault(company_id, []).append(recorded)
            everything.append(recorded)
        for company_id, read in by_company.items():
            chain = self._companies.get(company_id)
            kept = list(chain.events) if chain is not None else []
            if kept and kept[0].sequence > read[-1].sequence + 1:
                continue  # A hole between the log's events and the ones heard.
            joined = [event for event in read if not kept or event.sequence < kept[0].sequence]
            self.forget(company_id)
            chain = self._companies[company_id] = Chain(self.per_company)
            chain.known_from = after
            for event in joined + kept:
                self._company_events += chain.append(event, True)
            self._last_sequence[company_id] = chain.events[-1].sequence
        while self._company_events > self.max_events:
            forgotten, oldest = self._companies.popitem(last=False)
            self._company_events -= len(oldest.events)
            del self._last_sequence[forgotten]
        self._fill_all_companies(after, everything)

    def _fill_all_companies(self, after: int, read: list[Recorded]) -> None:
        ids = [event.event_id for event in read]
        if ids != list(range(after + 1, after + 1 + len(ids))):
            return  # Ids are gap-free; a hole means the read cannot be trusted to be whole.
        kept = list(self._all.events)
        if not kept and not read:
            return
        if kept and kept[0].event_id > (read[-1].event_id if read else after) + 1:
            return  # A hole between the log's events and the ones heard.
        joined = [event for event in read if not kept or event.event_id < kept[0].event_id]
        chain = Chain(self._all.limit)
        chain.known_from = after
        for event in joined + kept:
            chain.append(event, True)
        self._all = chain

    def since(self, company_id: str | None, event_id: int) -> Recent | None:
        """Return the scope's events after `event_id`, or None if not all of them are here.

        `company_id` None is the scope of every company. A resume point beyond the last event
        heard here is left to the event log, which knows whether it exists.
        """
        if company_id is None:
            # Numbered by id, the chain is whole by itself; a point past it is the log's.
            if not self._all.events or event_id > self._all.events[-1].event_id:
                return None
            recent = self._all.after(event_id)
            return None if recent is None else Recent(recent.events, 0)
        if self.heard_through is None or event_id > self.heard_through:
            return None
        chain = self._companies.get(company_id)
        return None if chain is None else chain.after(event_id)
