"""Put numbered items back in order per key, holding an early one only briefly for a missing one.

Pure logic: the caller passes the time in and delivers what comes out, so it needs neither
gevent nor Redis.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Hashable
from itertools import count
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Key = TypeVar("Key", bound=Hashable)
Item = TypeVar("Item")


class Resequencer(Generic[Key, Item]):
    """Release each key's items in the order of their numbers, 1, 2, 3, ...

    An item that arrives before an earlier number of its key waits for it, at most
    `hold_seconds`; then the missing numbers up to it are given up on. The first item of a key
    not seen before sets where that key's line starts. An item numbered below what a key
    expects (a given-up one arriving late, or a duplicate) is released at once: telling the two
    apart takes the item's identity, which the caller's de-duplication already checks.
    """

    def __init__(self, hold_seconds: float) -> None:
        self.hold_seconds = hold_seconds
        # Per key: the number expected next, and later items held until it comes.
        self._expected: dict[Key, int] = {}
        self._held: dict[Key, dict[int, Item]] = {}
        # When each held item stops waiting: (deadline, tie-break, key, number). Entries of items
        # released meanwhile stay until they come up, cheaper than finding them in the heap.
        self._deadlines: list[tuple[float, int, Key, int]] = []
        self._tie_break = count()

    def receive(self, key: Key, number: int, item: Item, now: float) -> list[Item]:
        """Take an item that arrived at `now`; return the items now ready, in order."""
        expected = self._expected.get(key)
        if expected is None:
            self._expected[key] = number + 1
            return [item]
        if number < expected:
            return [item]
        if number > expected:
            held = self._held.setdefault(key, {})
            if number not in held:
                held[number] = item
                deadline = now + self.hold_seconds
                heapq.heappush(self._deadlines, (deadline, next(self._tie_break), key, number))
            return []
        self._expected[key] = number + 1
        return [item, *self._release(key)]

    def expire(self, now: float) -> list[Item]:
        """Give up on the numbers that have held an item `hold_seconds`; return what that frees."""
        released: list[Item] = []
        while self._deadlines and self._deadlines[0][0] <= now:
            _, _, key, number = heapq.heappop(self._deadlines)
            held = self._held.get(key)
            while held and number in held:
                missing, first_held = self._expected[key], min(held)
                if first_held - missing == 1:
                    log.warning("Number %d of %s never arrived; moving on", missing, key)
                else:
                    log.warning(
                        "Numbers %d to %d of %s never arrived; moving on",
                        missing,
                        first_held - 1,
                        key,
                    )
                self._expected[key] = first_held
                released.extend(self._release(key))
        return released

    def forget(self, key: Key) -> None:
        """Drop what is known of `key`'s line and its held items; its next item starts anew."""
        self._expected.pop(key, None)
        self._held.pop(key, None)

    def keys(self) -> list[Key]:
        """Return the keys whose line is known."""
        return list(self._expected)

    def next_deadline(self) -> float | None:
        """Return when the soonest held item stops waiting, or None when nothing is held."""
        while self._deadlines:
            deadline, _, key, number = self._deadlines[0]
            if number in self._held.get(key, ()):
                return deadline
            heapq.heappop(self._deadlines)
        return None

    def _release(self, key: Key) -> list[Item]:
        held = self._held.get(key)
        if not held:
            return []
        released = []
        expected = self._expected[key]
        while expected in held:
            released.append(held.pop(expected))
            expected += 1
        self._expected[key] = expected
        if not held:
            del self._held[key]
        return released
