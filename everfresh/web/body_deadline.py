"""Give a request's body REQUEST_BODY_TIMEOUT_SECONDS to arrive, then answer 408.

gunicorn bounds the wait for a request's headers (keepalive) but not for its body: the app
reads it from the socket with no timeout. A client that sends headers and a Content-Length
and then nothing held its connection slot for good; a few dozen such sockets filled a
worker's WORKER_CONNECTIONS and froze it. Every read of the body now shares one deadline,
so a body dripped a byte at a time is bounded too.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import IO, Any

import gevent
from flask import Flask
from gevent import monkey
from werkzeug.exceptions import RequestTimeout


class BodyDeadlineInput:
    """A `wsgi.input` whose reads fail with 408 once the body's deadline has passed."""

    def __init__(self, stream: IO[bytes], seconds: float) -> None:
        self._stream = stream
        self._seconds = seconds
        self._deadline = time.monotonic() + seconds

    def _timed_out(self) -> RequestTimeout:
        return RequestTimeout(f"The request body did not arrive within {self._seconds:g} seconds.")

    def _within_deadline(self, read: Any, *args: Any) -> Any:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise self._timed_out()
        with gevent.Timeout(remaining, self._timed_out()):
            return read(*args)

    def read(self, size: int = -1) -> bytes:
        """Read up to `size` bytes (all when negative) before the deadline."""
        return self._within_deadline(self._stream.read, size)

    def readline(self, size: int = -1) -> bytes:
        """Read one line before the deadline."""
        return self._within_deadline(self._stream.readline, size)

    def readlines(self, hint: int = -1) -> list[bytes]:
        """Read every line before the deadline."""
        return self._within_deadline(self._stream.readlines, hint)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")


class BodyDeadline:
    """WSGI middleware putting one deadline on reading each request's body."""

    def __init__(self, wsgi_app: Any, seconds: float) -> None:
        self.wsgi_app = wsgi_app
        self.seconds = seconds

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """Wrap the body of a request that has one, then hand the request on."""
        if environ.get("CONTENT_LENGTH") or environ.get("HTTP_TRANSFER_ENCODING"):
            environ["wsgi.input"] = BodyDeadlineInput(environ["wsgi.input"], self.seconds)
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    """Bound the time to receive a body, where reads are gevent's (under gunicorn).

    Outside gevent (the test client, `flask run`) a read never yields to gevent's timer,
    so there is nothing to bound and no middleware is added.
    """
    seconds = app.config["REQUEST_BODY_TIMEOUT_SECONDS"]
    if seconds > 0 and monkey.is_module_patched("socket"):
        app.wsgi_app = BodyDeadline(app.wsgi_app, seconds)
