"""Answer the requests that arrive together with one round trip instead of one each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import gevent
from gevent.event import AsyncResult

Item = TypeVar("Item")
Answer = TypeVar("Answer")


class Batcher(Generic[Item, Answer]):
    """Hand every item asked for while a lookup runs to the next lookup, all at once.

    A caller who finds no lookup running makes one at once, for its own item and whatever
    else is waiting, so an idle worker adds neither delay nor a greenlet switch. Callers
    arriving while it runs wait and go together in the next lookup: under a storm of
    connects every lookup carries all that arrived during the one before, so the round
    trips per connect fall as the storm grows. `look_up` gets the items in arrival order
    and returns one answer per item, in the same order; if it raises, every caller of
    that batch gets the exception.
    """

    def __init__(
        self, look_up: Callable[[list[Item]], Sequence[Answer]], max_items: int = 10_000
    ) -> None:
        self._look_up = look_up
        self.max_items = max_items
        self._waiting: list[tuple[Item, AsyncResult]] = []
        self._running = False
        # Lookups made and items answered, for tests and the benchmark's curiosity.
        self.lookups = 0
        self.items = 0

    def ask(self, item: Item) -> Answer:
        """Return the answer for `item`, looked up with whatever else is asked meanwhile."""
        answer = AsyncResult()
        self._waiting.append((item, answer))
        if not self._running:
            self._run_until(answer)
        return answer.get()

    def _run_until(self, mine: AsyncResult) -> None:
        # Looks up batches in the caller's greenlet until the caller's own item is answered;
        # whoever is still waiting then gets a greenlet of their own to carry on.
        self._running = True
        try:
            while self._waiting and not mine.ready():
                self._look_up_next()
        finally:
            self._running = False
            if self._waiting:
                self._running = True
                gevent.spawn(self._run_rest)

    def _run_rest(self) -> None:
        try:
            while self._waiting:
                self._look_up_next()
        finally:
            self._running = False
            if self._waiting:
                # Killed mid-batch: the callers still waiting get a lookup of their own.
                self._running = True
                gevent.spawn(self._run_rest)

    def _look_up_next(self) -> None:
        batch = self._waiting[: self.max_items]
        del self._waiting[: self.max_items]
        self.lookups += 1
        self.items += len(batch)
        try:
            answers = self._look_up([item for item, _ in batch])
        except BaseException as error:  # noqa: B036 - handed to every caller of the batch
            for _, answer in batch:
                answer.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        for (_, answer), value in zip(batch, answers, strict=True):
            answer.set(value)
