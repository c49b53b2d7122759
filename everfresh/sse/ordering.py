"""Put events back in commit order (their ids) when they arrive out of it, waiting only briefly."""

from __future__ import annotations

from typing import Generic, TypeVar

Item = TypeVar("Item")


class CommitOrder(Generic[Item]):
    """Release items in the order of their gap-free event ids, holding an early one a while.

    Event ids follow commit order across every company, so a stream of all companies that
    receives them in id order can resume by its last id without missing one. An id that
    never comes (lost in a Redis outage) holds the later ones at most `hold_seconds`; it
    still reaches streams through catch-up, late, and reconnects through replay.
    """

    def __init__(self, hold_seconds: float) -> None:
        self.hold_seconds = hold_seconds
        # The id due next; None until the first id or known log position.
        self.next_id: int | None = None
        self._held: dict[int, Item] = {}
        self._holding_since: float | None = None

    @property
    def held(self) -> int:
        """Return how many items wait for an earlier one."""
        return len(self._held)

    def start_after(self, position: int) -> None:
        """Expect the id after `position` first, unless ids have already arrived."""
        if self.next_id is None:
            self.next_id = position + 1

    def offer(self, event_id: int, item: Item, now: float) -> list[Item]:
        """Take one item and return those now ready, in order (late ones go out at once)."""
        if self.next_id is None:
            self.next_id = event_id
        if event_id < self.next_id:
            return [item]
        if event_id > self.next_id:
            self._held.setdefault(event_id, item)
            if self._holding_since is None:
                self._holding_since = now
            return []
        ready = [item]
        self.next_id += 1
        self._release_consecutive(ready, now)
        return ready

    def release_overdue(self, now: float) -> list[Item]:
        """Give up on missing ids whose later items have waited `hold_seconds`; return those."""
        ready: list[Item] = []
        while (
            self._held
            and self._holding_since is not None
            and now - self._holding_since >= self.hold_seconds
        ):
            self.next_id = min(self._held)
            self._release_consecutive(ready, now)
        return ready

    def due_at(self) -> float | None:
        """Return when the oldest wait runs out, or None if nothing is held."""
        if self._holding_since is None:
            return None
        return self._holding_since + self.hold_seconds

    def _release_consecutive(self, ready: list[Item], now: float) -> None:
        assert self.next_id is not None
        while self.next_id in self._held:
            ready.append(self._held.pop(self.next_id))
            self.next_id += 1
        # What is still held now waits for the new gap, from this moment on.
        self._holding_since = now if self._held else None
