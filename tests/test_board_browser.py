"""Drive a real headless Chromium against real gunicorn servers, as staff and integrators would.

The browser is Debian's Chromium, driven by playwright-core from npm through
`tests/browser/driver.mjs`; pytest keeps the servers and the timeline in its own hands.
"""

from __future__ import annotations

import functools
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.dates import in_days
from tests.live import DEMO_PASSWORD, ROOT, LiveServer, free_port, move_booking_in_database

pytestmark = pytest.mark.live

BROWSER_DIR = Path(__file__).parent / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOT = ROOT / "docs" / "board.png"
IN_CI = os.environ.get("CI", "").lower() == "true"
STAFF_EMAIL = "staff@everfresh.test"
SESSION_ENDED = "Your session has ended. Please log in again."


def missing_requirement() -> str | None:
    """Say what the browser tests need that this machine lacks, if anything."""
    if not Path(CHROMIUM).exists():
        return f"Chromium is not at {CHROMIUM} (apt-get install chromium)"
    if shutil.which("node") is None:
        return "node is not installed"
    if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        return "tests/browser/node_modules is missing (cd tests/browser && npm ci)"
    return None


class BrowserError(AssertionError):
    """A browser command failed; the message carries the page's console."""


class Browser:
    """One headless Chromium behind `driver.mjs`, spoken to one JSON line at a time."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            ["node", "driver.mjs"],
            cwd=BROWSER_DIR,
            env={**os.environ, "CHROMIUM": CHROMIUM},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.answers: queue.Queue[dict[str, Any]] = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read_answers, daemon=True).start()
        self._answer(timeout=30)

    def _read_answers(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.answers.put(json.loads(line))
        self.answers.put({"ok": False, "error": "the driver exited"})

    def _answer(self, timeout: float) -> dict[str, Any]:
        try:
            answer = self.answers.get(timeout=timeout)
        except queue.Empty:
            raise BrowserError(f"the driver did not answer within {timeout}s") from None
        if not answer.get("ok", True):
            stderr = self.process.stderr.read() if self.process.poll() is not None else ""
            raise BrowserError(f"{answer['error']}\n{stderr}")
        return answer

    def __call__(self, command: str, **args: Any) -> Any:
        """Run one driver command and return its result, failing with the page's console."""
        self.next_id += 1
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"id": self.next_id, "command": command, **args}))
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        # Leave the driver time to report its own, more telling, timeout first.
        timeout = args.get("timeout", 5000) / 1000 + 10
        try:
            return self._answer(timeout)["result"]
        except BrowserError as error:
            if command == "console" or self.process.poll() is not None:
                raise
            console = "\n".join(self("console"))
            raise BrowserError(f"{command} {args}: {error}\nconsole:\n{console}") from None

    def close(self) -> None:
        """Quit the browser and its driver."""
        if self.process.poll() is None:
            try:
                self.process.stdin.write(json.dumps({"id": 0, "command": "quit"}) + "\n")
                self.process.stdin.close()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Start a headless Chromium; skip locally (fail in CI) when it cannot run here."""
    reason = missing_requirement()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: .ci/run must install it)")
        pytest.skip(reason)
    driver = Browser()
    yield driver
    driver.close()


class QuietHandler(SimpleHTTPRequestHandler):
    """Serve files without logging each request to stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        """Say nothing."""


@pytest.fixture
def static_origins() -> Iterator[tuple[str, str]]:
    """Serve tests/browser (the SPA stand-in and node_modules) on two more loopback origins."""
    servers = []
    for _ in range(2):
        handler = functools.partial(QuietHandler, directory=str(BROWSER_DIR))
        server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    yield tuple(f"http://127.0.0.1:{server.server_address[1]}" for server in servers)
    for server in servers:
        server.shutdown()
        server.server_close()


def restart_on_same_port(old: LiveServer) -> LiveServer:
    """Start a new gunicorn on the stopped server's port and database, as a deploy would."""
    server = LiveServer(old.env["DATABASE_URL"], {})
    server.port, server.base_url, server.env = old.port, old.base_url, dict(old.env)
    server.log_path = old.log_path
    server.start()
    return server


def log_in(browser: Browser, server: LiveServer, email: str = STAFF_EMAIL) -> None:
    """Open the board and log in through its form."""
    browser("goto", url=f"{server.base_url}/")
    browser("fill", selector="#login input[name=email]", value=email)
    browser("fill", selector="#login input[name=password]", value=DEMO_PASSWORD)
    browser("click", selector="#login button")


SHOWN_BOOKINGS = "[...document.querySelectorAll('#bookings > li')].map(li => li.dataset.bookingId)"


def booking_selector(booking: dict[str, Any]) -> str:
    """Select the board's highlighted row of a booking."""
    return f'#bookings > li.fresh[data-booking-id="{booking["booking_id"]}"]'


def test_board_shows_a_booking_created_over_the_api_within_a_second(
    live_server, browser: Browser
) -> None:
    server = live_server()
    staff = server.login(STAFF_EMAIL)
    cleaner = server.request("GET", "/staff", token=staff).body["items"][0]["id"]
    # The browser's days: the board lists today's bookings and later ones.
    today = date.today()
    day = {offset: (today + timedelta(days=offset)).isoformat() for offset in (-1, 0, 1)}
    # Yesterday, and this morning, may be past: book later, then move them back in time.
    earlier = [
        ("yesterday", "10:00", None),
        ("today", "09:00", None),
        ("today", "13:30", cleaner),
    ]
    moved = {}
    for name, start, staff_id in earlier:
        booking = server.create_booking(staff, scheduled_date=in_days(2), staff_id=staff_id)
        when = day[-1] if name == "yesterday" else day[0]
        move_booking_in_database(server.database_url, booking["booking_id"], when, start)
        moved.setdefault(name, []).append(booking)
    yesterday = moved["yesterday"][0]
    listed = [
        *moved["today"],
        server.create_booking(staff, scheduled_date=day[1], scheduled_time_start="08:15"),
    ]
    browser("newPage", viewport={"width": 1100, "height": 380})

    log_in(browser, server)
    browser("waitFor", selector="#connection[data-state=live]")
    browser("waitFor", selector=f'[data-booking-id="{listed[-1]["booking_id"]}"]')
    shown = browser("evaluate", expression=SHOWN_BOOKINGS)
    assert shown == [booking["booking_id"] for booking in listed]
    assert yesterday["booking_id"] not in shown

    booking = server.create_booking(staff, scheduled_date=day[1], scheduled_time_start="11:00")
    browser("waitFor", selector=booking_selector(booking), timeout=1000)

    assert browser("evaluate", expression=SHOWN_BOOKINGS)[0] == booking["booking_id"]
    assert browser("text", selector="#connection").strip() == "Live"
    cookies = {cookie["name"]: cookie for cookie in browser("cookies")}
    assert cookies["access_token_cookie"]["httpOnly"] is True
    assert cookies["access_token_cookie"]["sameSite"] == "Strict"
    assert cookies["refresh_token_cookie"]["path"] == "/auth/session"
    SCREENSHOT.parent.mkdir(exist_ok=True)
    browser("screenshot", path=str(SCREENSHOT))


def test_board_reconnects_across_a_server_restart(live_server, browser: Browser) -> None:
    server = live_server()
    log_in(browser, server)
    browser("waitFor", selector="#connection[data-state=live]")

    server.stop()
    browser("waitFor", selector="#connection[data-state=reconnecting]")
    restarted = restart_on_same_port(server)
    try:
        # The server's jittered `retry:` is at most 5 s.
        browser("waitFor", selector="#connection[data-state=live]", timeout=10000)
        staff = restarted.login(STAFF_EMAIL)
        tomorrow = (date.today() + timedelta(days=1)).isoformat()
        booking = restarted.create_booking(staff, scheduled_date=tomorrow)
        browser("waitFor", selector=booking_selector(booking), timeout=1000)
    finally:
        restarted.stop()


def test_board_returns_to_the_login_form_when_its_session_is_gone(
    live_server, browser: Browser
) -> None:
    # One-second heartbeats make the board re-check its quiet stream after two.
    server = live_server(SSE_HEARTBEAT_SECONDS="1")
    log_in(browser, server, "customer@everfresh.test")
    browser("waitFor", selector="#login-error")
    assert browser("text", selector="#login-error") == "The board is for staff and admins."

    browser("fill", selector="#login input[name=email]", value=STAFF_EMAIL)
    browser("fill", selector="#login input[name=password]", value="not-the-password")
    browser("click", selector="#login button")
    # The earlier refusal is still shown: wait for this answer to replace it (polled from
    # here, since the board's CSP rightly forbids the eval a page-side wait would need).
    deadline = time.monotonic() + 5
    while browser("text", selector="#login-error") == "The board is for staff and admins.":
        assert time.monotonic() < deadline, "the second login answer never replaced the first"
        time.sleep(0.05)
    assert browser("text", selector="#login-error") == "Invalid email or password."

    log_in(browser, server)
    browser("waitFor", selector="#connection[data-state=live]")
    browser("clearCookies")
    # The next reconnect is refused with 401, and the refresh cookie is gone too.
    browser("waitFor", selector="#login", timeout=8000)
    assert browser("text", selector="#login-error") == SESSION_ENDED

    log_in(browser, server)
    browser("waitFor", selector="#connection[data-state=live]")
    browser("click", selector="#logout")
    browser("waitFor", selector="#login")
    assert {cookie["name"] for cookie in browser("cookies")} == set()


def test_documented_polyfill_snippet_streams_from_an_allowed_origin_only(
    live_server, browser: Browser, static_origins: tuple[str, str]
) -> None:
    allowed, refused = static_origins
    server = live_server(CORS_ORIGINS=allowed)
    token = server.login(STAFF_EMAIL)
    page = f"cross_origin.html#api={server.base_url}&token={token}"

    browser("goto", url=f"{allowed}/{page}")
    browser(
        "waitForFunction",
        expression="received.logs.some(([, data]) => data?.type === 'connection_established')",
    )
    booking = server.create_booking(token)
    browser(
        "waitForFunction",
        expression=f"received.bookings.some(b => b.booking_id === '{booking['booking_id']}')",
        timeout=2000,
    )
    shown = browser("evaluate", expression="received.bookings[0]")
    assert shown["booking_number"] == booking["booking_number"]
    assert browser("evaluate", expression="received.errors") == []

    browser("goto", url=f"{refused}/{page}")
    browser("waitForFunction", expression="received.errors.length > 0")
    assert browser("evaluate", expression="received.logs") == []
