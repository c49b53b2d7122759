"""Drive a real headless Chromium against real gunicorn servers, as staff and integrators would.

The browser is Debian's Chromium, driven by playwright-core from npm through
`tests/browser/driver.mjs`; pytest keeps the servers and the timeline in its own hands.
"""

from __future__ import annotations

import functools
import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.live import DEMO_PASSWORD, LiveServer, free_port, prepare_database

pytestmark = pytest.mark.live

BROWSER_DIR = Path(__file__).parent / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"
STAFF_EMAIL = "staff@everfresh.test"
ADMIN_EMAIL = "admin@everfresh.test"
DEMO_ZONE = "Europe/London"
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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Start one headless Chromium for the module; skip locally (fail in CI) if it cannot run."""
    reason = missing_requirement()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: .ci/run must install it)")
        pytest.skip(reason)
    driver = Browser()
    yield driver
    driver.close()


@pytest.fixture(autouse=True)
def no_script_errors(browser: Browser) -> Iterator[None]:
    """Fail a test whose pages threw an uncaught error, even if what it checked looked right."""
    yield
    thrown = [line for line in browser("console") if "pageerror:" in line]
    assert thrown == []


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


# Logins from every test share one loopback address and a few demo accounts.
RELAXED_LOGIN_LIMITS = {
    "LOGIN_RATE_LIMIT_PER_IP": "1000/minute",
    "LOGIN_RATE_LIMIT_PER_ACCOUNT_AND_IP": "40/minute",
    "LOGIN_RATE_LIMIT_PER_ACCOUNT": "40/minute",
}


@pytest.fixture(scope="module")
def board(tmp_path_factory) -> Iterator[LiveServer]:
    """Serve one gunicorn for the module's board tests; each test works on its own days."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('board') / 'board.sqlite3'}"
    prepare_database(database_url)
    # Quick heartbeats let the server notice at once the streams of closed browser profiles,
    # so the open-stream gauge speaks of the current test only.
    server = LiveServer(database_url, {**RELAXED_LOGIN_LIMITS, "SSE_HEARTBEAT_SECONDS": "1"})
    server.start()
    yield server
    server.stop()


@dataclass
class Demo:
    """Tokens and ids of the demo company the board tests act for over the API."""

    admin: str
    staff_member: str
    customer: str
    service: str


@pytest.fixture(scope="module")
def demo(board: LiveServer) -> Demo:
    """Log in over the API as the demo admin and read the demo rows' ids."""
    admin = board.login(ADMIN_EMAIL)
    staff = board.request("GET", "/staff", token=admin).body["items"]
    return Demo(
        admin=admin,
        staff_member=next(row["id"] for row in staff if row["user_id"]),
        customer=board.request("GET", "/customers", token=admin).body["items"][0]["id"],
        service=board.request("GET", "/services", token=admin).body["items"][0]["id"],
    )


def spoken_day(day: str) -> str:
    """Say a day weeks ahead as the board does: "on Tuesday 8 December", a year if not this one."""
    date = datetime.fromisoformat(day)
    words = f"on {date:%A} {date.day} {date:%B}"
    return words if date.year == london_now().year else f"{words} {date.year}"


def london_now() -> datetime:
    """Return the wall clock of the demo company, which works in Europe/London."""
    return datetime.now(ZoneInfo(DEMO_ZONE))


def own_day(offset: int) -> str:
    """Return a day, weeks ahead, that belongs to one test of the shared server."""
    return (london_now().date() + timedelta(days=30 + offset)).isoformat()


def log_in(browser: Browser, server: LiveServer, email: str = STAFF_EMAIL, path: str = "/") -> None:
    """Open the board and log in through its form."""
    browser("goto", url=f"{server.base_url}{path}")
    browser("fill", selector="#login input[name=email]", value=email)
    browser("fill", selector="#login input[name=password]", value=DEMO_PASSWORD)
    browser("click", selector="#login button")


def open_board(
    browser: Browser, server: LiveServer, email: str = STAFF_EMAIL, path: str = "/", **context
) -> None:
    """Log in from a fresh browser profile and wait until the board is live and listed."""
    browser("newContext", **context)
    log_in(browser, server, email, path)
    browser("waitFor", selector="#connection[data-state=live]")
    browser("waitFor", selector="#list-loading", state="hidden")


def row(booking: dict[str, Any], within: str = "#list") -> str:
    """Select a booking's row in the list (or in another part of the board)."""
    return f'{within} li[data-booking-id="{booking["booking_id"]}"]'


def ids_in(browser: Browser, selector: str) -> list[str]:
    """Return the booking ids of the rows under `selector`, in page order."""
    return browser(
        "evaluate",
        expression=f"[...document.querySelectorAll({json.dumps(selector)})]"
        ".map(li => li.dataset.bookingId)",
    )


def wait_until(browser: Browser, expression: str, timeout: int = 5000) -> Any:
    """Poll a page expression until it is truthy."""
    return browser("waitUntil", expression=expression, timeout=timeout)


def patch(server: LiveServer, token: str, booking: dict[str, Any], **changes: Any) -> Any:
    """Change a booking over the API, as another user of the company would."""
    answer = server.request("PATCH", f"/bookings/{booking['booking_id']}", changes, token=token)
    assert answer.status == 200, answer.body
    return answer.body


def test_bookings_created_while_the_page_loads_are_all_shown_once(
    board: LiveServer, demo: Demo, browser: Browser
) -> None:
    day = own_day(1)
    created: list[dict[str, Any]] = []

    def create_bookings() -> None:
        for number in range(12):
            start = f"{8 + number // 4:02d}:{number % 4 * 15:02d}"
            created.append(
                board.create_booking(demo.admin, scheduled_date=day, scheduled_time_start=start)
            )

    writer = threading.Thread(target=create_bookings)
    browser("newContext")
    writer.start()
    log_in(browser, board, path=f"/?day={day}")
    writer.join()

    wanted = sorted(booking["booking_id"] for booking in created)
    wait_until(browser, f"document.querySelectorAll('#days li').length >= {len(wanted)}")
    shown = ids_in(browser, "#days li")
    assert sorted(shown) == wanted
    # In schedule order, whichever of list and stream brought each one.
    assert shown == [booking["booking_id"] for booking in created]


def test_confirmations_cancellations_and_reschedules_show_live(
    board: LiveServer, demo: Demo, browser: Browser
) -> None:
    day = own_day(2)
    early = board.create_booking(demo.admin, scheduled_date=day, scheduled_time_start="09:00")
    late = board.create_booking(demo.admin, scheduled_date=day, scheduled_time_start="15:00")
    done = board.create_booking(demo.admin, scheduled_date=day, scheduled_time_start="17:00")
    open_board(browser, board, path=f"/?day={day}")
    assert ids_in(browser, "#days li") == [b["booking_id"] for b in (early, late, done)]
    # The year is spelled out only when it is not this year.
    heading = browser("text", selector=f'.day[data-date="{day}"] h3')
    assert (day[:4] in heading) == (day[:4] != london_now().date().isoformat()[:4]), heading

    patch(board, demo.admin, early, status="confirmed")
    browser("waitFor", selector=f"{row(early)}[data-status=confirmed]")
    assert browser("text", selector=f"{row(early)} .status") == "Confirmed"

    patch(board, demo.admin, late, scheduled_time_start="08:00", staff_id=demo.staff_member)
    wait_until(
        browser, f"document.querySelector('#days li')?.dataset.bookingId === '{late['booking_id']}'"
    )
    assert browser("text", selector=f"{row(late)} .staff") == "EverFresh Demo Staff"
    assert browser("text", selector=f"{row(late)} .when") == "08:00-10:00"

    patch(board, demo.admin, early, status="cancelled")
    browser("waitFor", selector=row(early, "#cancelled-list"), state="attached")
    for status in ("confirmed", "in_progress", "completed"):
        patch(board, demo.admin, done, status=status)
    browser("waitFor", selector=row(done, "#done-list"), state="attached")
    assert ids_in(browser, "#days li") == [late["booking_id"]]
    # The finished ones wait in collapsed sections.
    assert browser("evaluate", expression="document.querySelector('#cancelled').open") is False
    assert browser("text", selector="#cancelled-count") == "1"


def test_details_show_everything_and_keyboard_alone_confirms(
    board: LiveServer, demo: Demo, browser: Browser
) -> None:
    day = own_day(3)
    booking = board.create_booking(
        demo.admin, scheduled_date=day, scheduled_time_start="10:30", notes="Key under the mat"
    )
    open_board(browser, board, path=f"/?day={day}")
    target = f"{row(booking)} .open"

    for _ in range(40):
        if browser(
            "evaluate",
            expression=f"document.activeElement === document.querySelector({json.dumps(target)})",
        ):
            break
        browser("press", key="Tab")
    browser("press", key="Enter")
    browser("waitFor", selector="#details[open]")
    wait_until(
        browser, "document.querySelector('#details-fields').innerText.includes('Key under the mat')"
    )
    fields = browser(
        "evaluate",
        expression="""Object.fromEntries([...document.querySelectorAll(
        '#details-fields dt')].map(dt => [dt.textContent, dt.nextElementSibling.textContent]))""",
    )
    assert fields["Booking number"] == booking["booking_number"]
    assert fields["Customer"] == "Ada Lovelace"
    assert fields["Phone"] == "+1 555 0100"
    assert fields["Email"] == "ada@example.com"
    assert fields["Service"] == "Standard clean · 120 min · £90.00"
    assert fields["Assigned to"] == "Unassigned"
    assert fields["Status"] == "Pending"
    assert fields["Created"] and fields["Updated"]

    for _ in range(10):
        if browser("evaluate", expression="document.activeElement.textContent") == "Confirm":
            break
        browser("press", key="Tab")
    browser("press", key="Enter")
    browser("waitFor", selector=f"{row(booking)}[data-status=confirmed]")
    wait_until(browser, "document.querySelector('#details-fields').innerText.includes('Confirmed')")
    browser("press", key="Escape")
    browser("waitFor", selector="#details", state="hidden")


def test_a_refused_action_is_shown_in_words(
    board: LiveServer, demo: Demo, browser: Browser
) -> None:
    day = own_day(4)
    board.create_booking(
        demo.admin,
        scheduled_date=day,
        scheduled_time_start="10:00",
        staff_id=demo.staff_member,
    )
    clash = board.create_booking(demo.admin, scheduled_date=day, scheduled_time_start="11:00")
    open_board(browser, board, path=f"/?day={day}")

    browser("click", selector=f"{row(clash)} .open")
    browser("click", selector="#actions button:text-is('Assign to me')")
    browser("waitFor", selector="#action-error")
    # Said to the staff member themselves, with the other job's times and the day in words.
    assert browser("text", selector="#action-error") == (
        f"You already have Standard clean 10:00-12:00 {spoken_day(day)}."
    )
    assert browser("text", selector=f"{row(clash)} .staff") == "Unassigned"

    open_board(browser, board, ADMIN_EMAIL, path=f"/?day={day}")
    browser("click", selector=f"{row(clash)} .open")
    browser("fill", selector="#reschedule-date", value="2020-01-06")
    browser("click", selector="#actions button:text-is('Reschedule')")
    browser("waitFor", selector="#action-error")
    assert browser("text", selector="#action-error") == (
        f"That day has passed in {DEMO_ZONE}; pick today or a later day."
    )
    assert browser("text", selector=f"{row(clash)} .when") == "11:00-13:00"

    # Cancelling asks once more before it goes.
    browser("click", selector="#actions button:text-is('Cancel booking…')")
    assert browser("evaluate", expression="document.activeElement.textContent") == "Yes, cancel it"
    browser("press", key="Enter")
    browser("waitFor", selector=row(clash, "#cancelled-list"), state="attached")
    assert browser("text", selector="#actions") == "This booking is cancelled."


def block(booking: dict[str, Any]) -> str:
    """Select a booking's block on the timeline."""
    return f'#timeline .tl-block[data-booking-id="{booking["booking_id"]}"]'


def timeline_row(staff_id: str) -> str:
    """Select a staff member's row on the timeline ("" for Unassigned)."""
    return f'#timeline .tl-row[data-staff-id="{staff_id}"]'


def hour_width(browser: Browser, staff_id: str = "") -> float:
    """Measure one hour of the timeline's scale, in pixels."""
    track = browser("box", selector=f"{timeline_row(staff_id)} .tl-track")
    hours = browser(
        "evaluate",
        expression="document.querySelector('#timeline .tl-grid').style.getPropertyValue('--hours')",
    )
    return track["width"] / float(hours)


def test_admins_drag_blocks_to_reschedule_and_to_reassign(
    board: LiveServer, demo: Demo, browser: Browser
) -> None:
    day = own_day(5)
    held = board.create_booking(
        demo.admin, scheduled_date=day, scheduled_time_start="09:00", staff_id=demo.staff_member
    )
    clash = board.create_booking(demo.admin, scheduled_date=day, scheduled_time_start="10:00")
    free = board.create_booking(demo.admin, scheduled_date=day, scheduled_time_start="14:00")
    open_board(browser, board, ADMIN_EMAIL, path=f"/?view=staff&day={day}")
    staff_row = timeline_row(demo.staff_member)
    browser("waitFor", selector=f"{timeline_row('')} {block(free)[10:]}")
    wait_until(browser, f"document.querySelector('{block(free)}').classList.contains('movable')")
    assert ids_in(browser, f"{staff_row} .tl-block") == [held["booking_id"]]

    # Along its row: an hour and a bit later snaps to the quarter hour, 15:15.
    hour = hour_width(browser)
    browser("dragBy", selector=block(free), dx=hour * 1.27)
    wait_until(browser, f"document.querySelector('{block(free)}').dataset.start === '15:15'")
    answer = board.request("GET", f"/bookings/{free['booking_id']}", token=demo.admin).body
    assert answer["scheduled_time_start"] == "15:15"
    assert answer["staff_id"] is None

    # Onto another row: assigned, at the same time.
    shift = browser("box", selector=staff_row)["y"] - browser("box", selector=block(free))["y"]
    browser("dragBy", selector=block(free), dy=shift + 20)
    browser("waitFor", selector=f"{staff_row} {block(free)[10:]}")
    answer = board.request("GET", f"/bookings/{free['booking_id']}", token=demo.admin).body
    assert (answer["staff_id"], answer["scheduled_time_start"]) == (demo.staff_member, "15:15")

    # A refused move snaps back and says why beside the block.
    before = browser("box", selector=block(clash))
    shift = browser("box", selector=staff_row)["y"] - before["y"]
    browser("dragBy", selector=block(clash), dy=shift + 20)
    refusal = f'#timeline .tl-refusal[data-for="{clash["booking_id"]}"]'
    browser("waitFor", selector=refusal)
    assert browser("text", selector=f"{refusal} span") == (
        f"{clash['booking_number']} stays where it was: EverFresh Demo Staff already has "
        f"Standard clean 09:00-11:00 {spoken_day(day)}."
    )
    assert browser("box", selector=block(clash)) == before
    assert ids_in(browser, f"{timeline_row('')} .tl-block") == [clash["booking_id"]]
    note = browser("box", selector=refusal)
    # Beside the block: just under it, starting where it starts.
    assert abs(note["x"] - before["x"]) < 2 and 0 <= note["y"] - before["y"] <= before["height"]


def test_the_keyboard_moves_a_block_too(board: LiveServer, demo: Demo, browser: Browser) -> None:
    day = own_day(6)
    booking = board.create_booking(demo.admin, scheduled_date=day, scheduled_time_start="10:00")
    open_board(browser, board, ADMIN_EMAIL, path=f"/?view=staff&day={day}")
    browser("waitFor", selector=block(booking))
    wait_until(browser, f"document.querySelector('{block(booking)}').classList.contains('movable')")
    browser("focus", selector=block(booking))
    for key in ("ArrowRight", "ArrowRight", "ArrowLeft", "ArrowRight", "ArrowDown"):
        browser("press", key=key)
    assert browser("text", selector="#announcer").startswith("Move to 10:30, ")
    browser("press", key="Enter")
    wait_until(browser, f"document.querySelector('{block(booking)}').dataset.start === '10:30'")
    answer = board.request("GET", f"/bookings/{booking['booking_id']}", token=demo.admin).body
    assert answer["scheduled_time_start"] == "10:30"
    assert answer["staff_id"] is not None
    assert (
        browser("evaluate", expression="document.activeElement.dataset.bookingId")
        == (booking["booking_id"])
    )
    # Escape leaves a move unmade; Enter with no move opens the booking.
    browser("press", key="ArrowRight")
    browser("press", key="Escape")
    browser("press", key="Enter")
    browser("waitFor", selector="#details[open]")
    assert (
        board.request("GET", f"/bookings/{booking['booking_id']}", token=demo.admin).body[
            "scheduled_time_start"
        ]
        == "10:30"
    )


def test_timeline_blocks_sit_on_one_scale_and_eight_staff_fit_the_screen(
    live_server, browser: Browser
) -> None:
    server = live_server(**RELAXED_LOGIN_LIMITS)
    admin = server.login(ADMIN_EMAIL)
    for number in range(len(server.request("GET", "/staff", token=admin).body["items"]), 8):
        answer = server.request("POST", "/staff", {"name": f"Cleaner {number}"}, token=admin)
        assert answer.status == 201, answer.body
    listed = server.request("GET", "/staff", token=admin).body["items"]
    staff = [row["id"] for row in sorted(listed, key=lambda row: row["name"])]
    services = {
        row["name"]: row for row in server.request("GET", "/services", token=admin).body["items"]
    }
    day = own_day(0)
    bookings = [
        server.create_booking(
            admin,
            scheduled_date=day,
            scheduled_time_start=start,
            staff_id=staff_id,
            service_id=services[service]["id"],
        )
        for start, staff_id, service in (
            ("06:30", staff[0], "Standard clean"),
            ("11:30", staff[3], "Deep clean"),
            ("18:45", staff[7], "Deep clean"),
            ("10:00", None, "Standard clean"),
        )
    ]
    open_board(
        browser,
        server,
        ADMIN_EMAIL,
        path=f"/?view=staff&day={day}",
        viewport={"width": 1280, "height": 800},
    )
    browser("waitFor", selector=block(bookings[2]))
    assert browser("evaluate", expression="document.documentElement.scrollHeight") <= 800
    rows = browser(
        "evaluate",
        expression="[...document.querySelectorAll('#timeline .tl-row')].map(row => "
        "[row.dataset.staffId, row.getBoundingClientRect().bottom])",
    )
    assert [staff_id for staff_id, _ in rows] == ["", *staff]
    assert all(bottom <= 800 for _, bottom in rows), rows

    # The window widened from 07:00-20:00 to 06:00-23:00 for the early and the late job.
    hours = browser(
        "evaluate",
        expression="[...document.querySelectorAll('.tl-hour')].map(mark => mark.textContent)",
    )
    assert (hours[0], hours[-1], len(hours)) == ("06:00", "23:00", 18)
    track = browser("box", selector=f"{timeline_row('')} .tl-track")
    per_minute = track["width"] / (17 * 60)
    for booking, start, minutes in zip(
        bookings,
        (6 * 60 + 30, 11 * 60 + 30, 18 * 60 + 45, 10 * 60),
        (120, 240, 240, 120),
        strict=True,
    ):
        box = browser("box", selector=block(booking))
        assert abs(box["x"] - (track["x"] + (start - 6 * 60) * per_minute)) < 1.5, booking
        assert abs(box["width"] - minutes * per_minute) < 1.5, booking
    assert browser("text", selector=block(bookings[1])).startswith("11:30-15:30")


def test_a_booking_turns_late_without_a_reload(
    board: LiveServer, demo: Demo, browser: Browser
) -> None:
    start = (london_now() + timedelta(minutes=2)).replace(second=0, microsecond=0)
    booking = board.create_booking(
        demo.admin,
        scheduled_date=start.date().isoformat(),
        scheduled_time_start=start.strftime("%H:%M"),
    )
    open_board(browser, board, path=f"/?day={start.date().isoformat()}", clock=True)
    browser("waitFor", selector=row(booking))
    assert browser("evaluate", expression=f"!document.querySelector('{row(booking)} .late')")

    browser("fastForward", ms=4 * 60 * 1000)
    browser("waitFor", selector=f"{row(booking)} .late")
    assert browser("text", selector=f"{row(booking)} .late") == "Late"
    patch(board, demo.admin, booking, status="confirmed")
    patch(board, demo.admin, booking, status="in_progress")
    browser("waitFor", selector=f"{row(booking)} .late", state="detached")


def test_days_follow_the_company_zone_not_the_browsers(
    board: LiveServer, demo: Demo, browser: Browser
) -> None:
    start = london_now() + timedelta(minutes=5)
    london_today = london_now().date().isoformat()
    # Near London's midnight the booking would fall tomorrow; the header still tells.
    booking = None
    if start.date().isoformat() == london_today:
        booking = board.create_booking(
            demo.admin, scheduled_date=london_today, scheduled_time_start=start.strftime("%H:%M")
        )
    open_board(browser, board, timezoneId="Pacific/Auckland")

    # Today's heading is there whether or not anything is booked today.
    heading = f'.day[data-date="{london_today}"] h3'
    assert browser("text", selector=heading).startswith("Today · ")
    if booking is not None:
        browser("waitFor", selector=row(booking, f'.day[data-date="{london_today}"]'))
    assert browser("attribute", selector="#today", name="data-date") == london_today
    assert browser("text", selector="#zone") == DEMO_ZONE
    assert browser("evaluate", expression="new Date().getTimezoneOffset()") <= -12 * 60


def test_filters_live_in_the_url(board: LiveServer, demo: Demo, browser: Browser) -> None:
    day = own_day(8)
    mine = board.create_booking(
        demo.admin, scheduled_date=day, scheduled_time_start="09:00", staff_id=demo.staff_member
    )
    unassigned = board.create_booking(demo.admin, scheduled_date=day, scheduled_time_start="10:00")
    confirmed = board.create_booking(demo.admin, scheduled_date=day, scheduled_time_start="11:00")
    patch(board, demo.admin, confirmed, status="confirmed")
    open_board(browser, board, path=f"/?day={day}")
    browser("waitFor", selector=row(confirmed))

    browser("selectOption", selector="#show", value="mine")
    assert ids_in(browser, "#days li") == [mine["booking_id"]]
    browser("reload")
    browser("waitFor", selector="#connection[data-state=live]")
    browser("waitFor", selector=row(mine))
    assert browser("evaluate", expression="location.search") == f"?day={day}&show=mine"
    assert browser("evaluate", expression="document.querySelector('#show').value") == "mine"
    assert ids_in(browser, "#days li") == [mine["booking_id"]]

    browser("selectOption", selector="#show", value="unassigned")
    browser("waitFor", selector=row(unassigned))
    assert ids_in(browser, "#days li") == [unassigned["booking_id"], confirmed["booking_id"]]
    browser("selectOption", selector="#status", value="confirmed")
    assert ids_in(browser, "#days li") == [confirmed["booking_id"]]
    assert "status=confirmed" in browser("evaluate", expression="location.search")


def test_names_resolve_beyond_the_first_page_and_after_load(
    board: LiveServer, demo: Demo, browser: Browser
) -> None:
    day = own_day(9)
    for number in range(150):
        answer = board.request(
            "POST", "/customers", {"name": f"Customer {number + 1:03d}"}, token=demo.admin
        )
        assert answer.status == 201, answer.body
    last = answer.body
    far = board.create_booking(
        demo.admin, customer_id=last["id"], scheduled_date=day, scheduled_time_start="09:00"
    )
    open_board(browser, board, path=f"/?day={day}")
    browser("waitFor", selector=f"{row(far)} .customer:text-is('Customer 150')")

    newcomer = board.request("POST", "/customers", {"name": "Grace Hopper"}, token=demo.admin)
    cleaner = board.request("POST", "/staff", {"name": "Katherine Johnson"}, token=demo.admin)
    fresh = board.create_booking(
        demo.admin,
        customer_id=newcomer.body["id"],
        staff_id=cleaner.body["id"],
        scheduled_date=day,
        scheduled_time_start="12:00",
    )
    browser("waitFor", selector=f"{row(fresh)} .customer:text-is('Grace Hopper')")
    browser("waitFor", selector=f"{row(fresh)} .staff:text-is('Katherine Johnson')")
    texts = browser("evaluate", expression="document.querySelector('#days').innerText")
    assert "cust_" not in texts and "staff_" not in texts


def test_new_bookings_are_announced_marked_and_then_settle(
    board: LiveServer, demo: Demo, browser: Browser
) -> None:
    day = own_day(10)
    listed = board.create_booking(demo.admin, scheduled_date=day, scheduled_time_start="12:00")
    # Without the browser's permission, alerts are never said to be on.
    open_board(browser, board, path=f"/?day={day}")
    browser("click", selector="#alerts")
    browser("waitFor", selector=".toast")
    assert browser("text", selector="#alerts") != "Alerts on"
    assert browser("attribute", selector="#alerts", name="aria-pressed") == "false"
    open_board(browser, board, path=f"/?day={day}", permissions=["notifications"])
    browser("click", selector="#alerts")
    browser("waitFor", selector="#alerts[aria-pressed=true]")
    browser(
        "evaluate",
        expression="""window.shownNotifications = [];
        window.Notification = class extends Notification {
          constructor(title, options) { super(title, options); shownNotifications.push(title); }
        }""",
    )

    opened = board.create_booking(demo.admin, scheduled_date=day, scheduled_time_start="08:00")
    browser("waitFor", selector=f"{row(opened)}.fresh .badge")
    watched = board.create_booking(demo.admin, scheduled_date=day, scheduled_time_start="16:00")
    browser("waitFor", selector=f"{row(watched)}.fresh .badge")
    # Each lands at its place in the schedule, not on top.
    assert ids_in(browser, "#days li") == [b["booking_id"] for b in (opened, listed, watched)]
    assert browser("evaluate", expression=f"!document.querySelector('{row(listed)}.fresh')")
    wait_until(
        browser,
        f"document.querySelector('#announcer').textContent.includes('{watched['booking_number']}')",
    )
    announced = browser("text", selector="#announcer")
    assert announced.startswith(
        f"New booking {watched['booking_number']}: Ada Lovelace, Standard clean, "
    ), announced
    assert announced.endswith(" at 16:00-18:00."), announced
    assert browser("evaluate", expression="shownNotifications") == [
        f"New booking {opened['booking_number']}",
        f"New booking {watched['booking_number']}",
    ]

    browser("click", selector=f"{row(opened)} .open")
    browser("waitFor", selector=f"{row(opened)}:not(.fresh)", state="attached")
    browser("press", key="Escape")
    # Ten seconds on screen retire the other's badge.
    browser("waitFor", selector=f"{row(watched)}:not(.fresh)", timeout=20000)


def test_four_tabs_share_one_stream_and_hand_it_over(
    board: LiveServer, demo: Demo, browser: Browser
) -> None:
    day = own_day(11)
    open_board(browser, board, path=f"/?day={day}")
    for _ in range(3):
        browser("newTab")
        browser("goto", url=f"{board.base_url}/?day={day}")
        browser("waitFor", selector="#connection[data-state=live]")
    poll_metric(board, "everfresh_open_streams", 1)

    # The first tab took the lock first; closing it hands the stream to another.
    browser("closeTab", index=0)
    booking = board.create_booking(demo.admin, scheduled_date=day, scheduled_time_start="10:00")
    for index in (1, 2, 3):
        browser("useTab", index=index)
        browser("waitFor", selector=row(booking))
        assert ids_in(browser, "#days li") == [booking["booking_id"]]
    poll_metric(board, "everfresh_open_streams", 1)

    # Logging out in one tab logs out every tab, and the shared stream ends.
    browser("click", selector="#logout")
    for index in (1, 2):
        browser("useTab", index=index)
        browser("waitFor", selector="#login")
        assert browser("text", selector="#login-error") == "You logged out in another tab."
    poll_metric(board, "everfresh_open_streams", 0)


def poll_metric(server: LiveServer, name: str, wanted: float, timeout: float = 10) -> None:
    """Wait until a metric reaches `wanted`."""
    deadline = time.monotonic() + timeout
    while (value := server.metric(name)) != wanted:
        assert time.monotonic() < deadline, f"{name} stayed {value}, not {wanted}"
        time.sleep(0.1)


def test_arrivals_off_screen_raise_a_pill_and_count_in_the_title(
    board: LiveServer, demo: Demo, browser: Browser
) -> None:
    day = own_day(13)
    for number in range(14):
        board.create_booking(
            demo.admin,
            scheduled_date=day,
            scheduled_time_start=f"{7 + number // 2:02d}:{number % 2 * 30:02d}",
        )
    open_board(browser, board, path=f"/?day={day}", viewport={"width": 1100, "height": 500})
    assert browser("evaluate", expression="document.title") == "EverFresh"

    late = board.create_booking(demo.admin, scheduled_date=day, scheduled_time_start="19:00")
    browser("waitFor", selector=row(late), state="attached")
    browser("waitFor", selector="#new-pill .pill")
    assert browser("text", selector="#new-pill") == "1 new ↓"
    assert browser("evaluate", expression="document.title") == "(1) EverFresh"
    # One arrival is highlighted; it is not a burst.
    assert browser("evaluate", expression=f"document.querySelector('{row(late)}').className") == (
        "booking fresh"
    )

    browser("click", selector="#new-pill .pill")
    browser("waitFor", selector="#new-pill", state="hidden")
    wait_until(browser, "document.title === 'EverFresh'")
    box = browser("box", selector=row(late))
    assert 0 <= box["y"] and box["y"] + box["height"] <= 500

    browser("scroll", y=0)
    early = board.create_booking(demo.admin, scheduled_date=day, scheduled_time_start="06:00")
    browser("waitFor", selector=f"{row(early)}.fresh")
    # On screen while the tab is in front: seen at once, so nothing to count or point at.
    wait_until(browser, "document.title === 'EverFresh'")
    assert browser("evaluate", expression="document.querySelector('#new-pill').hidden") is True


def test_a_burst_is_one_summary_not_fifteen_highlights(
    board: LiveServer, demo: Demo, browser: Browser
) -> None:
    day = own_day(14)
    open_board(browser, board, path=f"/?day={day}")
    burst = [
        board.create_booking(
            demo.admin,
            scheduled_date=day,
            scheduled_time_start=f"{8 + number // 2:02d}:{number % 2 * 30:02d}",
        )
        for number in range(8)
    ]
    wait_until(browser, "document.querySelectorAll('#days li').length === 8")
    browser("waitFor", selector="#burst")
    assert browser("text", selector="#burst span") == f"8 new bookings: 8 {london_day_label(day)}."
    classes = browser(
        "evaluate", expression="[...document.querySelectorAll('#days li')].map(li => li.className)"
    )
    # The first few arrived before it was a burst; the rest are marked New, quietly.
    assert classes.count("booking fresh-quiet") >= 4, classes
    assert all(name in ("booking fresh", "booking fresh-quiet") for name in classes), classes
    wait_until(browser, "document.querySelector('#announcer').textContent.includes('new bookings')")
    assert browser("text", selector=f"{row(burst[-1])} .badge") == "New"


def london_day_label(day: str) -> str:
    """Name a day, weeks ahead, as the board's lists do: "Tue 8 Dec" (a year if not this one)."""
    date = datetime.fromisoformat(day)
    label = f"{date:%a} {date.day} {date:%b}"
    return label if date.year == london_now().year else f"{label} {date.year}"


def test_the_booking_form_finds_the_customer_and_shows_a_clash_before_sending(
    board: LiveServer, demo: Demo, browser: Browser
) -> None:
    day = own_day(15)
    held = board.create_booking(
        demo.admin, scheduled_date=day, scheduled_time_start="09:00", staff_id=demo.staff_member
    )
    open_board(browser, board, ADMIN_EMAIL, path=f"/?day={day}")
    browser("click", selector="#new-booking")
    browser("waitFor", selector="#booking-form[open]")
    browser("fill", selector="#bf-customer", value="lovel")
    browser("waitFor", selector="#bf-matches .match")
    assert browser("text", selector="#bf-matches .match").startswith("Ada Lovelace")
    browser("click", selector="#bf-matches .match")
    assert browser("text", selector="#bf-chosen") == "Customer: Ada Lovelace"
    assert browser("evaluate", expression="document.querySelector('#bf-day').value") == day
    browser("selectOption", selector="#bf-service", value=demo.service)
    browser("fill", selector="#bf-time", value="10:30")
    browser("selectOption", selector="#bf-staff", value=demo.staff_member)
    browser("waitFor", selector="#bf-clash")
    assert browser("text", selector="#bf-clash") == (
        f"EverFresh Demo Staff already has Standard clean 09:00-11:00 {spoken_day(day)}. "
        "Pick another time or staff member."
    )
    assert browser(
        "evaluate", expression="document.querySelector('#booking-form [type=submit]').disabled"
    )

    browser("fill", selector="#bf-time", value="11:00")
    browser("waitFor", selector="#bf-clash", state="hidden")
    browser("fill", selector="#bf-notes", value="Key in the key safe, code 1234")
    browser("click", selector="#booking-form [type=submit]")
    browser("waitFor", selector="#booking-form", state="hidden")
    wait_until(browser, "document.querySelectorAll('#days li').length === 2")
    made = [
        booking
        for booking in board.request(
            "GET", f"/bookings?date_from={day}&date_to={day}", token=demo.admin
        ).body["items"]
        if booking["booking_id"] != held["booking_id"]
    ]
    assert [(b["scheduled_time_start"], b["staff_id"], b["notes"]) for b in made] == [
        ("11:00", demo.staff_member, "Key in the key safe, code 1234")
    ]
    assert browser("text", selector=f"{row(made[0])} .when") == "11:00-13:00"


def every_row(server: LiveServer, token: str, path: str) -> list[dict[str, Any]]:
    """Read every page of a list endpoint."""
    rows: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = server.request("GET", f"{path}?limit=100{cursor}", token=token).body
        rows.extend(page["items"])
        if not page["next_cursor"]:
            return rows
        cursor = f"&cursor={page['next_cursor']}"


def catalog_item(name: str) -> str:
    """Select a row of the admin screens' list by its name."""
    return f"#admin .catalog-list li:has(strong:text-is('{name}'))"


def test_admins_add_edit_and_deactivate_customers_services_and_staff(
    board: LiveServer, demo: Demo, browser: Browser
) -> None:
    open_board(browser, board, ADMIN_EMAIL)
    browser("click", selector="#user-menu summary")
    browser("click", selector="#manage")
    browser("waitFor", selector="#admin[open] .catalog-list li")

    browser("click", selector="#admin button:text-is('Add a customer')")
    for name, value in (
        ("name", "Hedy Lamarr"),
        ("address_line1", "12 Elm Row"),
        ("city", "Edinburgh"),
        ("postcode", "EH7 4AA"),
        ("access_notes", "Key safe by the door, code 4821. Dog in the garden."),
    ):
        browser("fill", selector=f"#admin .editor [name={name}]", value=value)
    browser("click", selector="#admin .editor [type=submit]")
    browser("waitFor", selector=catalog_item("Hedy Lamarr"))
    customers = every_row(board, demo.admin, "/customers")
    hedy = next(row for row in customers if row["name"] == "Hedy Lamarr")
    assert (hedy["address_line1"], hedy["city"], hedy["postcode"], hedy["email"]) == (
        "12 Elm Row",
        "Edinburgh",
        "EH7 4AA",
        None,
    )
    assert hedy["access_notes"] == "Key safe by the door, code 4821. Dog in the garden."

    browser("click", selector=f"{catalog_item('Hedy Lamarr')} button:text-is('Edit')")
    assert (
        browser("evaluate", expression="document.querySelector('#admin .editor [name=city]').value")
        == "Edinburgh"
    )
    browser("fill", selector="#admin .editor [name=phone]", value="+44 131 496 0000")
    browser("click", selector="#admin .editor [type=submit]")
    browser("waitFor", selector=f"{catalog_item('Hedy Lamarr')} span:text('+44 131 496 0000')")
    answer = board.request("GET", f"/customers/{hedy['id']}", token=demo.admin).body
    assert (answer["phone"], answer["postcode"]) == ("+44 131 496 0000", "EH7 4AA")

    browser("click", selector=f"{catalog_item('Hedy Lamarr')} button:text-is('Deactivate')")
    browser("waitFor", selector=f"{catalog_item('Hedy Lamarr')}.inactive")
    answer = board.request("GET", f"/customers/{hedy['id']}", token=demo.admin).body
    assert answer["active"] is False

    browser("click", selector="#admin button:text-is('Services')")
    browser("click", selector="#admin button:text-is('Add a service')")
    browser("fill", selector="#admin .editor [name=name]", value="Oven clean")
    browser("fill", selector="#admin .editor [name=duration_minutes]", value="90")
    browser("fill", selector="#admin .editor [name=price]", value="45.50")
    browser("click", selector="#admin .editor [type=submit]")
    browser("waitFor", selector=catalog_item("Oven clean"))
    assert browser("text", selector=f"{catalog_item('Oven clean')} .muted") == "90 min · £45.50"
    services = board.request("GET", "/services", token=demo.admin).body["items"]
    oven = next(row for row in services if row["name"] == "Oven clean")
    assert (oven["duration_minutes"], oven["price_cents"]) == (90, 4550)

    browser("click", selector="#admin button:text-is('Staff members')")
    browser("click", selector="#admin button:text-is('Add a staff member')")
    browser("fill", selector="#admin .editor [name=name]", value="Mary Jackson")
    browser("click", selector="#admin .editor [type=submit]")
    browser("waitFor", selector=catalog_item("Mary Jackson"))
    browser("click", selector=f"{catalog_item('Mary Jackson')} button:text-is('Deactivate')")
    browser("waitFor", selector=f"{catalog_item('Mary Jackson')}.inactive")
    staff = board.request("GET", "/staff", token=demo.admin).body["items"]
    assert "Mary Jackson" not in [row["name"] for row in staff]


def test_a_reset_password_is_replaced_before_anything_else(live_server, browser: Browser) -> None:
    server = live_server(**RELAXED_LOGIN_LIMITS)
    admin = server.login(ADMIN_EMAIL)
    users = server.request("GET", "/users", token=admin).body["items"]
    staff_user = next(user for user in users if user["email"] == STAFF_EMAIL)
    reset = server.request("POST", f"/users/{staff_user['id']}/reset-password", token=admin)
    assert reset.status == 200, reset.body
    browser("newContext")
    browser("goto", url=f"{server.base_url}/")
    browser("fill", selector="#login input[name=email]", value=STAFF_EMAIL)
    browser("fill", selector="#login input[name=password]", value=reset.body["temporary_password"])
    browser("click", selector="#login button")
    browser("waitFor", selector="#password[open]")
    assert browser("text", selector="#password-title") == "Choose a new password"
    # The temporary password was just typed: it is not asked for again.
    assert browser("evaluate", expression="document.querySelector('#password .field').hidden")
    chosen = "violet-harbour-tangent-91"
    browser("fill", selector="#password [name=new_password]", value=chosen)
    browser("fill", selector="#password [name=repeat_password]", value=chosen)
    browser("click", selector="#password [type=submit]")
    browser("waitFor", selector="#connection[data-state=live]")
    assert browser("evaluate", expression="document.querySelector('#password').open") is False
    server.login(STAFF_EMAIL, chosen)

    browser("click", selector="#user-menu summary")
    browser("click", selector="#change-password")
    browser("waitFor", selector="#password[open]")
    assert browser("text", selector="#password-title") == "Change password"
    browser("fill", selector="#password [name=current_password]", value="not-the-password")
    again = "copper-lantern-meadow-47"
    browser("fill", selector="#password [name=new_password]", value=again)
    browser("fill", selector="#password [name=repeat_password]", value=again)
    browser("click", selector="#password [type=submit]")
    browser("waitFor", selector="#password .error")
    assert browser("text", selector="#password .error") == "The current password is wrong."
    browser("fill", selector="#password [name=current_password]", value=chosen)
    browser("click", selector="#password [type=submit]")
    browser("waitFor", selector="#password", state="hidden")
    server.login(STAFF_EMAIL, again)
    assert browser(
        "evaluate", expression="document.querySelector('#connection').dataset.state"
    ) in (
        "live",
        "reconnecting",
    )


def test_the_board_fits_a_phone(board: LiveServer, demo: Demo, browser: Browser) -> None:
    day = london_now().date() + timedelta(days=1)
    for start, staff_id in (("08:30", demo.staff_member), ("11:00", None), ("14:15", None)):
        board.create_booking(
            demo.admin,
            scheduled_date=day.isoformat(),
            scheduled_time_start=start,
            staff_id=staff_id,
            notes="Use the side door",
        )
    open_board(browser, board, ADMIN_EMAIL, viewport={"width": 1280, "height": 800})
    fresh = board.create_booking(
        demo.admin, scheduled_date=day.isoformat(), scheduled_time_start="09:45"
    )
    browser("waitFor", selector=f"{row(fresh)}.fresh")
    browser("click", selector="#view-staff")
    browser("fill", selector="#day", value=day.isoformat())
    browser("waitFor", selector=block(fresh))

    open_board(browser, board, viewport={"width": 360, "height": 740})
    browser("waitFor", selector=row(fresh))
    fits = "document.documentElement.scrollWidth <= window.innerWidth"
    assert browser("evaluate", expression=fits)
    # The filters fold away: the toolbar stays short.
    assert browser("box", selector="#toolbar")["height"] < 140
    browser("click", selector=f"{row(fresh)} .open")
    browser("waitFor", selector="#details[open]")
    assert browser("evaluate", expression=fits)
    browser("press", key="Escape")
    # By staff on a phone: one staff member at a time, picked.
    browser("click", selector="#view-staff")
    browser("fill", selector="#day", value=day.isoformat())
    browser("waitFor", selector="#timeline-staff")
    browser("selectOption", selector="#timeline-staff", value="")
    browser("waitFor", selector=block(fresh))
    shown = browser(
        "evaluate",
        expression="[...document.querySelectorAll('#timeline .tl-row')]"
        ".filter(row => row.offsetParent).map(row => row.dataset.staffId)",
    )
    assert shown == [""]
    assert browser("evaluate", expression=fits)


def test_login_errors_say_what_happened(board: LiveServer, browser: Browser) -> None:
    browser("newContext")
    browser("goto", url=f"{board.base_url}/")
    browser("fill", selector="#login input[name=email]", value=STAFF_EMAIL)
    browser("fill", selector="#login input[name=password]", value="not-the-password")
    browser("click", selector="#login button")
    browser("waitFor", selector="#login-error")
    assert browser("text", selector="#login-error") == "Invalid email or password."

    guessed = "guessed@everfresh.test"
    for _ in range(40):
        board.request("POST", "/auth/login", {"email": guessed, "password": "nope"})
    browser("fill", selector="#login input[name=email]", value=guessed)
    browser("click", selector="#login button")
    wait_until(browser, "document.querySelector('#login-error').textContent.startsWith('Too many')")
    message = browser("text", selector="#login-error")
    wait = r"Too many login attempts\. Try again in \d+ (seconds|minutes?)\."
    assert re.fullmatch(wait, message), message

    browser("setOffline", offline=True)
    browser("click", selector="#login button")
    wait_until(
        browser,
        "document.querySelector('#login-error').textContent"
        ".startsWith('The server is unavailable')",
    )
    browser("setOffline", offline=False)


def test_nothing_is_missed_across_a_restart_or_a_network_loss(
    live_server, browser: Browser
) -> None:
    server = live_server(**RELAXED_LOGIN_LIMITS)
    token = server.login(ADMIN_EMAIL)
    day = own_day(12)
    open_board(browser, server, path=f"/?day={day}")

    server.stop()
    browser("waitFor", selector="#connection[data-state=reconnecting]")
    # Another server on the same database takes a booking while the board's is down.
    other = LiveServer(server.env["DATABASE_URL"], RELAXED_LOGIN_LIMITS)
    other.start()
    try:
        during = other.create_booking(token, scheduled_date=day, scheduled_time_start="09:00")
    finally:
        other.stop()
    restarted = restart_on_same_port(server)
    try:
        # The server's jittered `retry:` is at most 5 s.
        browser("waitFor", selector=row(during), timeout=10000)
        browser("waitFor", selector="#connection[data-state=live]")

        browser("setOffline", offline=True)
        offline = restarted.create_booking(token, scheduled_date=day, scheduled_time_start="10:00")
        browser("setOffline", offline=False)
        browser("waitFor", selector=row(offline), timeout=10000)
        assert ids_in(browser, "#days li") == [during["booking_id"], offline["booking_id"]]
    finally:
        restarted.stop()


def test_board_returns_to_the_login_form_when_its_session_is_gone(
    live_server, browser: Browser
) -> None:
    # One-second heartbeats make the board re-check its quiet stream after two.
    server = live_server(SSE_HEARTBEAT_SECONDS="1")
    browser("newContext")
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
    browser("newContext")

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
