"""Talk plain HTTP/1.1 to a server under test: log in, create bookings, measure throughput."""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

DEMO_STAFF_EMAIL = "staff@everfresh.test"
# The demo staff user, renamed: production refuses to start while a demo login is active.
BENCH_STAFF_EMAIL = "bench-staff@everfresh.test"
DEMO_PASSWORD = "everfresh-demo"


class HttpError(RuntimeError):
    """Raised when the server under test answers with an unexpected status."""


@dataclass
class Answer:
    """A response's status, its decoded JSON body (or raw bytes), and when the request was sent."""

    status: int
    body: Any
    sent_at: float


class Api:
    """One keep-alive HTTP connection to the server on `port`, reconnecting when it drops."""

    def __init__(self, port: int, token: str | None = None, timeout: float = 30) -> None:
        self.port = port
        self.token = token
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: Any = None) -> Answer:
        """Send one request and return its answer; retry once if a kept-alive socket died."""
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=self.timeout
                )
            headers = {"Content-Type": "application/json"} if body is not None else {}
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
            payload = json.dumps(body) if body is not None else None
            try:
                sent_at = time.monotonic()
                self._connection.request(method, path, body=payload, headers=headers)
                response = self._connection.getresponse()
                raw = response.read()
            except (ConnectionError, http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise
                continue
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            content_type = response.getheader("Content-Type", "")
            decoded = json.loads(raw) if raw and "json" in content_type else raw
            return Answer(response.status, decoded, sent_at)
        raise AssertionError("unreachable")

    def expect(self, status: int, method: str, path: str, body: Any = None) -> Answer:
        """Send a request and raise HttpError unless the answer has `status`."""
        answer = self.request(method, path, body)
        if answer.status != status:
            raise HttpError(f"{method} {path} answered {answer.status}: {answer.body!r:.500}")
        return answer

    def close(self) -> None:
        """Close the connection; the next request opens a new one."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def log_in(port: int, email: str = BENCH_STAFF_EMAIL, password: str = DEMO_PASSWORD) -> str:
    """Log in to EverFresh over HTTP and return the access token."""
    api = Api(port)
    try:
        answer = api.expect(200, "POST", "/auth/login", {"email": email, "password": password})
    finally:
        api.close()
    return answer.body["access_token"]


GREETING_ID = re.compile(rb"id: (\d+)\r?\n(?:[^\n]*\n)*?data: [^\n]*connection_established")


def stream_position(port: int, token: str, timeout: float = 10) -> int:
    """Open one EverFresh stream, read its greeting's id (the log's position), and hang up."""
    request = (
        f"GET /sse/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Accept: text/event-stream\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(request.encode())
        while (found := GREETING_ID.search(received)) is None:
            chunk = connection.recv(65536)
            if not chunk:
                raise HttpError(f"the stream ended before its greeting: {received[:500]!r}")
            received += chunk
    return int(found.group(1))


@dataclass
class Throughput:
    """The outcome of a bounded burst of `POST /bookings`."""

    requests: int
    concurrency: int
    seconds: float
    errors: int
    booking_ids: list[str]

    @property
    def per_second(self) -> float:
        """Return successful requests per second."""
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0


def post_bookings(
    port: int, token: str | None, body: dict[str, Any], requests: int, concurrency: int
) -> Throughput:
    """Send `requests` POST /bookings over `concurrency` keep-alive connections; time them all."""
    remaining = iter(range(requests))
    lock = threading.Lock()
    booking_ids: list[str] = []
    errors = [0]

    def work() -> None:
        api = Api(port, token)
        try:
            while True:
                with lock:
                    if next(remaining, None) is None:
                        return
                try:
                    answer = api.request("POST", "/bookings", body)
                except OSError:
                    answer = None
                with lock:
                    if answer is not None and answer.status == 201:
                        booking_ids.append(answer.body["booking_id"])
                    else:
                        errors[0] += 1
        finally:
            api.close()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    return Throughput(requests, concurrency, seconds, errors[0], booking_ids)
