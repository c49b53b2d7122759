"""Watch a real server's stream with `flask --app wsgi watch`, as an operator would."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

from everfresh.sse.watcher import base_url_for
from tests.dates import in_days
from tests.live import DEMO_PASSWORD, ROOT, LiveServer, free_port

pytestmark = pytest.mark.live

FLASK = str(Path(ROOT) / ".venv" / "bin" / "flask")
STAFF_EMAIL = "staff@everfresh.test"


class Watch:
    """One `flask --app wsgi watch` process, its stdout and stderr read line by line."""

    def __init__(
        self,
        server: LiveServer,
        *args: str,
        stdin: str | None = None,
        url: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        address = ["--url", url or server.base_url] if env is None else []
        self.process = subprocess.Popen(
            [FLASK, "--app", "wsgi", "watch", *address, *args],
            cwd=ROOT,
            env=server.env if env is None else env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        if stdin is not None:
            assert self.process.stdin is not None
            self.process.stdin.write(stdin)
            self.process.stdin.flush()
        self.out: queue.Queue[str] = queue.Queue()
        self.err: queue.Queue[str] = queue.Queue()
        self.stderr_lines: list[str] = []
        for pipe, lines in ((self.process.stdout, self.out), (self.process.stderr, self.err)):
            threading.Thread(target=self._read, args=(pipe, lines), daemon=True).start()

    @staticmethod
    def _read(pipe: IO[str] | None, lines: queue.Queue[str]) -> None:
        assert pipe is not None
        for line in pipe:
            lines.put(line.rstrip("\n"))

    def next_line(self, timeout: float = 15) -> str:
        """Return the next line printed on stdout."""
        try:
            return self.out.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"no event line within {timeout}s; stderr: {self.notes()}"
            ) from None

    def wait_for_note(self, text: str, timeout: float = 15) -> None:
        """Wait until a stderr line contains `text`."""
        try:
            while True:
                line = self.err.get(timeout=timeout)
                self.stderr_lines.append(line)
                if text in line:
                    return
        except queue.Empty:
            raise AssertionError(f"{text!r} not seen on stderr: {self.notes()}") from None

    def notes(self) -> list[str]:
        """Return every stderr line so far."""
        while not self.err.empty():
            self.stderr_lines.append(self.err.get_nowait())
        return self.stderr_lines

    def stop(self) -> int:
        """Interrupt the command as Ctrl-C would and return its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture
def watch() -> Iterator[Callable[..., Watch]]:
    """Start watch commands; always stop them."""
    started: list[Watch] = []

    def start(server: LiveServer, *args: str, **options: object) -> Watch:
        started.append(Watch(server, *args, **options))
        return started[-1]

    yield start
    for watcher in started:
        watcher.stop()


def tomorrow() -> str:
    """Return tomorrow's date in every time zone, a day no booking rule refuses."""
    return in_days(1)


def test_watch_prints_each_event_and_resumes_after_a_restart(live_server, watch) -> None:
    server = live_server()
    token = server.login(STAFF_EMAIL)
    watcher = watch(server, "--token", token, "--json")
    watcher.wait_for_note("Connected to")

    first = server.create_booking(token, scheduled_date=tomorrow())
    line = json.loads(watcher.next_line())
    assert line["event"] == "booking_created"
    assert line["data"]["booking_id"] == first["booking_id"]
    assert int(line["id"]) > 0

    # A deploy: the server goes, a booking is made elsewhere meanwhile, the server comes back.
    server.signal(signal.SIGTERM)
    server.wait(timeout=15)
    watcher.wait_for_note("shutting down")
    other = live_server(server.env["DATABASE_URL"])
    during = other.create_booking(other.login(STAFF_EMAIL), scheduled_date=tomorrow())
    other.stop()
    restarted = LiveServer(server.env["DATABASE_URL"], {})
    restarted.port, restarted.base_url, restarted.env = server.port, server.base_url, server.env
    restarted.log_path = server.log_path
    restarted.start()
    try:
        watcher.wait_for_note("Connected to", timeout=30)
        resumed = json.loads(watcher.next_line())
        assert resumed["data"]["booking_id"] == during["booking_id"]
        after = restarted.create_booking(token, scheduled_date=tomorrow())
        assert json.loads(watcher.next_line())["data"]["booking_id"] == after["booking_id"]
    finally:
        restarted.stop()

    assert watcher.stop() == 0
    assert not any("Traceback" in line for line in watcher.notes())


def test_watch_prints_one_readable_line_per_booking(live_server, watch) -> None:
    server = live_server()
    token = server.login(STAFF_EMAIL)
    watcher = watch(server, "--token", token)
    watcher.wait_for_note("Connected to")

    booking = server.create_booking(token, scheduled_date=tomorrow(), scheduled_time_start="09:30")

    line = watcher.next_line()
    assert re.fullmatch(
        f"booking_created {booking['booking_number']} {tomorrow()} 09:30 pending "
        'customer="Ada Lovelace" service="Standard clean" staff=- id=[0-9]+',
        line,
    ), line


def test_watch_logs_in_with_a_prompted_password(live_server, watch) -> None:
    server = live_server()
    watcher = watch(server, "--email", STAFF_EMAIL, stdin=f"{DEMO_PASSWORD}\n")
    watcher.wait_for_note("Connected to")

    booking = server.create_booking(server.login(STAFF_EMAIL), scheduled_date=tomorrow())

    assert watcher.next_line().split()[1] == booking["booking_number"]


def test_watch_says_in_one_line_why_it_cannot_go_on(live_server, watch) -> None:
    server = live_server()
    refusals = {
        "pass a fresh --token": watch(server, "--token", "not-a-token"),
        "answered 403: Only staff": watch(
            server, "--token", server.login("customer@everfresh.test")
        ),
        "Pass either --token or --email.": watch(server),
        "Pass either --token or --email. ": watch(server, "--token", "x", "--email", STAFF_EMAIL),
    }

    for message, watcher in refusals.items():
        # Four commands start at once: on a busy two-core host that takes a while.
        assert watcher.process.wait(timeout=60) != 0
        notes = watcher.notes()
        assert any(message.strip() in line for line in notes), notes
        assert not any("Traceback" in line for line in notes)


def test_watch_names_the_staff_member_a_booking_is_assigned_to(live_server, watch) -> None:
    server = live_server()
    token = server.login("admin@everfresh.test")
    watcher = watch(server, "--token", token)
    watcher.wait_for_note("Connected to")
    [staff] = server.request("GET", "/staff", token=token).body["items"][:1]

    booking = server.create_booking(token, scheduled_date=tomorrow(), staff_id=staff["id"])
    server.request(
        "PATCH", f"/bookings/{booking['booking_id']}", {"status": "confirmed"}, token=token
    )

    created, updated = watcher.next_line(), watcher.next_line()
    assert f"staff={json.dumps(staff['name'])} " in created
    assert updated.startswith(f"booking_updated {booking['booking_number']} ")
    assert " confirmed " in updated and " changes=status " in updated


def test_watch_finds_the_server_at_bind_or_everfresh_url(live_server, watch) -> None:
    server = live_server()
    token = server.login(STAFF_EMAIL)
    elsewhere = f"127.0.0.1:{free_port()}"

    by_bind = watch(server, "--token", token, env=server.env)
    by_url = watch(
        server,
        "--token",
        token,
        env={**server.env, "BIND": elsewhere, "EVERFRESH_URL": server.base_url},
    )

    by_bind.wait_for_note(f"Connected to {server.base_url}")
    by_url.wait_for_note(f"Connected to {server.base_url}")


@pytest.mark.parametrize(
    ("bind", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("0.0.0.0:18300", "http://127.0.0.1:18300"),
        ("[::]:18300", "http://[::1]:18300"),
        ("[::1]:18300", "http://[::1]:18300"),
        ("unix:/run/everfresh.sock", "http://127.0.0.1:8000"),
    ],
)
def test_the_default_address_follows_bind(bind, url) -> None:
    assert base_url_for(bind) == url


def test_watch_says_in_one_line_to_pass_url_when_nothing_answers(live_server, watch) -> None:
    server = live_server()
    token = server.login(STAFF_EMAIL)
    nowhere = f"127.0.0.1:{free_port()}"

    watcher = watch(server, "--token", token, env={**server.env, "BIND": nowhere})

    assert watcher.process.wait(timeout=60) == 1
    assert watcher.notes() == [
        f"Error: Cannot connect to http://{nowhere} ([Errno 111] Connection refused): pass the "
        "server's address with --url, or set EVERFRESH_URL."
    ]


def test_watch_keeps_the_http_client_log_out_of_its_output(live_server, watch) -> None:
    server = live_server()
    watcher = watch(server, "--email", STAFF_EMAIL, stdin=f"{DEMO_PASSWORD}\n")
    watcher.wait_for_note("Connected to")

    server.create_booking(server.login(STAFF_EMAIL), scheduled_date=tomorrow())
    watcher.next_line()

    assert watcher.stop() == 0
    notes = watcher.notes()
    assert not any("HTTP Request" in line or "httpx" in line for line in notes), notes
