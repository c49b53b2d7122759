"""Wait in tests for a condition to hold, up to a deadline, instead of sleeping a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    produce: Callable[[], T],
    timeout: float = 5,
    interval: float = 0.02,
    sleep: Callable[[float], object] = time.sleep,
) -> T:
    """Call `produce` until it returns something truthy and return that, failing at `timeout`.

    Pass `sleep=gevent.sleep` when what is awaited runs in a greenlet of this process.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = produce()
        if result:
            return result
        assert time.monotonic() < deadline, f"still false after {timeout} s: {produce}"
        sleep(interval)
