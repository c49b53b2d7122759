"""A superadmin stream that keeps dropping and resuming by id sees every booking exactly once.

Eight writers book in two companies on two workers sharing PostgreSQL and Redis, while the
all-company stream reconnects every few hundred milliseconds with its last id, as an
EventSource does. Event ids follow commit order across companies and the broker delivers
them in that order, so resuming after the last id neither skips nor repeats an event.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import pytest

from tests.live import LiveServer, prepare_database

pytestmark = pytest.mark.live

WRITERS = 8
WRITING_SECONDS = 20
COMPANIES = ("staff@everfresh.test", "staff@brighthome.test")


def write_bookings(server: LiveServer, token: str, until: float, committed: list[str]) -> None:
    """Create bookings until `until`, recording the id of each one committed."""
    customer = server.request("GET", "/customers", token=token).body["items"][0]["id"]
    service = server.request("GET", "/services", token=token).body["items"][0]["id"]
    while time.monotonic() < until:
        booking = server.create_booking(token, customer_id=customer, service_id=service)
        committed.append(booking["booking_id"])


class ResumingReader:
    """Read the stream like an EventSource whose connection drops every few hundred ms."""

    def __init__(self, server: LiveServer, token: str) -> None:
        self.server = server
        self.token = token
        self.last_id: str | None = None
        self.received: list[str] = []
        self.reconnects = 0

    def read_for(self, seconds: float) -> None:
        """Connect with the last id seen, read for `seconds`, then drop the connection."""
        headers = {} if self.last_id is None else {"Last-Event-ID": self.last_id}
        stream = self.server.stream(self.token, headers=headers)
        assert stream.status == 200
        self.reconnects += 1
        deadline = time.monotonic() + seconds
        try:
            while (left := deadline - time.monotonic()) > 0:
                try:
                    frame = stream.next_frame(timeout=left)
                except TimeoutError:
                    break
                assert frame is not None, "the server ended the stream"
                # Any frame with an id moves an EventSource's last id, the greeting's too.
                if frame.id is not None:
                    self.last_id = frame.id
                if frame.event == "booking_created":
                    self.received.append(frame.json["booking_id"])
        finally:
            stream.close()


def test_an_all_company_stream_resuming_by_id_sees_every_booking_once(
    live_server, postgres_url, redis_url, redis_prefix
):
    prepare_database(postgres_url)
    server = live_server(
        postgres_url,
        WEB_CONCURRENCY="2",
        REDIS_URL=redis_url,
        REDIS_PREFIX=redis_prefix,
        SSE_HEARTBEAT_SECONDS="1",
        SSE_MAX_STREAMS_PER_USER="1000",
    )
    tokens = [server.login(email) for email in COMPANIES]
    reader = ResumingReader(server, server.login("superadmin@everfresh.test"))
    reader.read_for(0.2)

    until = time.monotonic() + WRITING_SECONDS
    committed: list[str] = []
    writers = [
        threading.Thread(
            target=write_bookings, args=(server, tokens[n % len(tokens)], until, committed)
        )
        for n in range(WRITERS)
    ]
    for writer in writers:
        writer.start()
    while time.monotonic() < until:
        reader.read_for(random.uniform(0.2, 0.5))
    for writer in writers:
        writer.join()
    # The last connection stays until everything committed has arrived (or clearly never will).
    deadline = time.monotonic() + 20
    while len(reader.received) < len(committed) and time.monotonic() < deadline:
        reader.read_for(2)

    assert len(committed) > 100
    assert reader.reconnects > 20
    duplicates = [booking for booking, count in Counter(reader.received).items() if count > 1]
    missed = set(committed) - set(reader.received)
    assert (len(missed), len(duplicates)) == (0, 0), f"of {len(committed)}: {missed=}"
    assert sorted(reader.received) == sorted(committed)
