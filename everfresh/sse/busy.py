"""Count the requests this worker is serving, so fan-out can tell a busy worker from an idle one."""

from __future__ import annotations

from weakref import WeakSet

import gevent
from flask import Flask, request_started, request_tearing_down


class RequestsInFlight:
    """The greenlets serving a request right now (a stream counts only while it is being set up).

    A weak set, not a counter: a greenlet killed between the two signals drops out by itself
    instead of leaving the worker looking busy forever.
    """

    def __init__(self) -> None:
        self._serving: WeakSet = WeakSet()

    def init_app(self, app: Flask) -> None:
        """Follow the app's requests from start to teardown."""
        request_started.connect(self._started, app, weak=False)
        request_tearing_down.connect(self._finished, app, weak=False)

    def _started(self, _sender: Flask, **_extra: object) -> None:
        self._serving.add(gevent.getcurrent())

    def _finished(self, _sender: Flask, **_extra: object) -> None:
        self._serving.discard(gevent.getcurrent())

    def others(self) -> int:
        """Return how many requests are in flight besides the calling greenlet's own."""
        count = len(self._serving)
        return count - 1 if gevent.getcurrent() in self._serving else count

    def busy(self) -> bool:
        """Tell whether any other request is in flight."""
        return self.others() > 0
