"""A real EventSource that received only the greeting still resumes without a gap.

The greeting's `id:` is the log's position when the stream subscribed, so the `eventsource`
npm package reconnects with it as `Last-Event-ID` and is replayed what it missed, once.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unavailable
from tests.live import prepare_database

pytestmark = pytest.mark.live

BROWSER_DIR = Path(__file__).parent / "browser"


class NodeEventSource:
    """One EventSource in `tests/browser/resume.mjs`, reporting what happens line by line."""

    def __init__(self, url: str, token: str) -> None:
        self.process = subprocess.Popen(
            ["node", "resume.mjs", url, token],
            cwd=BROWSER_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.reports: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                self.reports.put(json.loads(line))
            except json.JSONDecodeError:
                self.reports.put({"kind": "output", "text": line})

    def next(self, *kinds: str, timeout: float = 20) -> dict[str, Any]:
        """Return the next report of one of `kinds`, skipping others; fail after `timeout`."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                report = self.reports.get(timeout=left)
            except queue.Empty:
                break
            if report["kind"] in kinds:
                return report
        raise AssertionError(f"no {kinds} report within {timeout} s")

    def close(self) -> None:
        """Stop the node process."""
        self.process.kill()
        self.process.wait()


@pytest.fixture
def node_client():
    """Start NodeEventSource clients on demand and always stop them."""
    if shutil.which("node") is None:
        unavailable("node is not installed")
    if not (BROWSER_DIR / "node_modules" / "eventsource").is_dir():
        unavailable("tests/browser/node_modules is missing (cd tests/browser && npm ci)")
    started: list[NodeEventSource] = []

    def start(url: str, token: str) -> NodeEventSource:
        client = NodeEventSource(url, token)
        started.append(client)
        return client

    yield start
    for client in started:
        client.close()


def test_an_eventsource_that_saw_only_the_greeting_gets_what_it_missed_once(
    live_server, tmp_path, node_client
):
    database_url = f"sqlite:///{tmp_path / 'resume.sqlite3'}"
    prepare_database(database_url)
    first = live_server(database_url)
    token = first.login("staff@everfresh.test")
    before = first.create_booking(token)
    client = node_client(f"{first.base_url}/sse/events", token)
    assert client.next("connect")["lastEventId"] is None
    greeting = client.next("message")
    assert json.loads(greeting["data"]) == {
        "type": "connection_established",
        "message": "Connected to SSE server",
    }
    # The log held one event when the stream subscribed.
    assert greeting["id"] == "1"

    first.stop()
    client.next("error")
    second = live_server(database_url)
    missed = second.create_booking(second.login("staff@everfresh.test"))
    first.start()

    assert client.next("connect", timeout=60)["lastEventId"] in (None, "1")
    while (reconnect := client.next("connect", "message", "booking_created"))["kind"] == "connect":
        assert reconnect["lastEventId"] == "1"
    assert reconnect["kind"] == "message"
    assert json.loads(reconnect["data"])["type"] == "connection_established"
    arrived = client.next("booking_created")
    assert json.loads(arrived["data"])["booking_id"] == missed["booking_id"]
    assert arrived["id"] == "2"
    # Exactly once: the next booking follows it directly.
    marker = first.create_booking(token)
    following = client.next("booking_created")
    assert json.loads(following["data"])["booking_id"] == marker["booking_id"]
    assert before["booking_id"] not in (missed["booking_id"], marker["booking_id"])
