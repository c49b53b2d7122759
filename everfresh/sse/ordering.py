"""Put numbered events back in commit order per line, and name the holes to read from the log.

Pure logic: the caller passes the time in, reads what is missing and delivers what comes out,
so it needs neither gevent, Redis nor a database.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable
from typing import Generic, NamedTuple, TypeVar

Key = TypeVar("Key", bound=Hashable)
Item = TypeVar("Item")

# How long an event waits for an earlier one before the earlier one is read from the event log.
# Events of one line published by two workers cross in Redis by well under a millisecond; a
# link that holds one worker's publishes for longer is what this catches.
HOLD_SECONDS = 0.5


class Hole(NamedTuple, Generic[Key, Item]):
    """Numbers `first` to `last` of a line have not arrived, though `waiting` (the next) has."""

    key: Key
    first: int
    last: int
    waiting: Item


class _Line(Generic[Item]):
    __slots__ = ("expected", "held", "due", "reading")

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.held: dict[int, Item] = {}
        # When the hole before the held items is to be read from the log; None while none is.
        self.due: float | None = None
        # Whether that read is under way: the hole is named once, then filled or given up.
        self.reading = False


class Ordering(Generic[Key, Item]):
    """Release each line's items in the order of their gap-free numbers, never past a hole.

    A line is a company's events numbered by the company's sequence, or every company's
    events numbered by event id. Both are gap-free and follow commit order, so an item that
    arrives before its predecessor proves the predecessor committed: after `hold_seconds`
    the hole is named (`holes`), the caller reads it from the event log and hands it back
    (`fill`), and the line goes on in order. Only what the log itself lacks is given up on.
    The first item of a line sets where it starts; an item numbered below what its line
    expects went out already (or came before the line began) and is dropped.
    """

    def __init__(self, hold_seconds: float = HOLD_SECONDS) -> None:
        self.hold_seconds = hold_seconds
        self._lines: dict[Key, _Line[Item]] = {}
        # (due, tie-break, key): a line's entry is stale once its `due` moved on.
        self._due: list[tuple[float, int, Key]] = []
        self._pushed = 0

    def receive(self, key: Key, number: int, item: Item, now: float) -> list[Item]:
        """Take an item that arrived at `now`; return the items of its line now ready, in order."""
        line = self._lines.get(key)
        if line is None:
            self._lines[key] = _Line(number + 1)
            return [item]
        if number == line.expected:
            line.expected += 1
            if not line.held:
                return [item]
            return [item, *self._release(key, line, now)]
        if number > line.expected and number not in line.held:
            line.held[number] = item
            if line.due is None and not line.reading:
                self._schedule(key, line, now + self.hold_seconds)
        return []

    def holes(self, now: float) -> list[Hole[Key, Item]]:
        """Return the holes whose hold has run out, each once, for the caller to read."""
        found = []
        while self._due and self._due[0][0] <= now:
            due, _, key = heapq.heappop(self._due)
            line = self._lines.get(key)
            if line is None or line.due != due or not line.held:
                continue
            line.due, line.reading = None, True
            first_held = min(line.held)
            found.append(Hole(key, line.expected, first_held - 1, line.held[first_held]))
        return found

    def fill(
        self, hole: Hole[Key, Item], read: list[tuple[int, Item]], now: float
    ) -> tuple[list[Item], int]:
        """Hand back what the log held for a hole; return the items now ready, and how many of
        the hole's numbers the log lacked (given up on: no stream can ever be sent those).
        """
        line = self._lines.get(hole.key)
        if line is None:
            return [], 0
        line.reading = False
        ready: list[Item] = []
        for number, item in read:
            ready.extend(self.receive(hole.key, number, item, now))
        lacking = 0
        while line.expected <= hole.last:
            if line.expected in line.held:
                ready.extend(self._release(hole.key, line, now))
            else:
                lacking += 1
                line.expected += 1
        if lacking:
            ready.extend(self._release(hole.key, line, now))
        elif line.held and line.due is None:
            self._schedule(hole.key, line, now + self.hold_seconds)
        return ready, lacking

    def forget(self, key: Key) -> None:
        """Drop a line and what it holds; its next item starts it anew."""
        self._lines.pop(key, None)

    def held(self, key: Key) -> int:
        """Return how many items of a line wait for an earlier one."""
        line = self._lines.get(key)
        return len(line.held) if line is not None else 0

    def next_due(self) -> float | None:
        """Return when the soonest hole is to be read, or None when no line waits."""
        while self._due:
            due, _, key = self._due[0]
            line = self._lines.get(key)
            if line is not None and line.due == due and line.held:
                return due
            heapq.heappop(self._due)
        return None

    def _release(self, key: Key, line: _Line[Item], now: float) -> list[Item]:
        released = []
        held, expected = line.held, line.expected
        while expected in held:
            released.append(held.pop(expected))
            expected += 1
        line.expected = expected
        # What is still held waits for the next hole, from now on.
        line.due = None
        if held and not line.reading:
            self._schedule(key, line, now + self.hold_seconds)
        return released

    def _schedule(self, key: Key, line: _Line[Item], due: float) -> None:
        line.due = due
        self._pushed += 1
        heapq.heappush(self._due, (due, self._pushed, key))
