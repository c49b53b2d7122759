"""Decide when a fan-out's wake-ups go out and in what slices (pure logic, no gevent)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")


def hold_seconds(busy: bool, window: float) -> float:
    """Return how long new frames may wait for others to share their streams' wake-up.

    An idle worker delivers at once: holding a frame back only pays when more frames are
    coming, and a worker serving other requests is the sign that they are.
    """
    return window if busy else 0.0


def slices(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Yield `items` in consecutive slices of at most `size`, in order."""
    if size < 1:
        raise ValueError(f"slice size must be at least 1, not {size}")
    for start in range(0, len(items), size):
        yield items[start : start + size]
