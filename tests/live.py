"""Run real gunicorn servers and talk to them over sockets, as a browser would."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.dates import in_days

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
JWT_TEST_KEY = "live-server-test-key-0123456789abcdef-0123456789"
DEMO_PASSWORD = "everfresh-demo"


def run_flask(*arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `flask --app wsgi <arguments>` in a process of its own, as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def reset_to_demo() -> None:
    """Create the current app's schema if need be, empty it, and load the bare demo data."""
    from everfresh.demo import seed_demo_logins
    from everfresh.extensions import db

    db.create_all()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()
    seed_demo_logins()


def prepare_database(database_url: str) -> None:
    """Create the schema behind `database_url`, empty it, and load the demo data."""
    from everfresh import create_app
    from everfresh.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url}, environment="testing")
    with app.app_context():
        reset_to_demo()
        db.engine.dispose()


def move_booking_in_database(
    database_url: str, booking_id: str, scheduled_date: str, scheduled_time_start: str
) -> None:
    """Reschedule a booking in the database itself, as if it had been booked long ago.

    The API refuses a start in the past, so a test that needs a booking of yesterday or of
    this morning books it for later and moves it here.
    """
    from datetime import date, time

    from everfresh import create_app
    from everfresh.bookings.models import Booking
    from everfresh.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        booking = db.session.get_one(Booking, booking_id)
        booking.scheduled_date = date.fromisoformat(scheduled_date)
        booking.scheduled_time_start = time.fromisoformat(scheduled_time_start)
        db.session.commit()
        db.engine.dispose()


@dataclass
class Response:
    """A plain HTTP response: status, headers (lower-cased names) and the JSON body if any."""

    status: int
    headers: dict[str, str]
    body: Any


class LiveServer:
    """One gunicorn master with gevent workers, serving EverFresh on a free loopback port."""

    def __init__(self, database_url: str, settings: dict[str, str]) -> None:
        self.database_url = database_url
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "EVERFRESH_ENV": "development",
            "BIND": f"127.0.0.1:{self.port}",
            "DATABASE_URL": database_url,
            "JWT_SECRET_KEY": JWT_TEST_KEY,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "WEB_CONCURRENCY": "1",
            "REDIS_URL": "",
            "GRACEFUL_TIMEOUT": "30",
            **settings,
        }
        self.process: subprocess.Popen | None = None
        self.log_path = Path(f"/tmp/everfresh-live-{self.port}.log")

    def start(self, timeout: float = 20) -> None:
        """Start gunicorn and wait until it answers HTTP."""
        self.log_file = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [GUNICORN, "-c", "gunicorn.conf.py"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}: {self.log()}")
            try:
                if self.request("GET", "/auth/me").status == 401:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer within {timeout}s: {self.log()}")

    def log(self) -> str:
        """Return what gunicorn has printed so far."""
        return self.log_path.read_text(errors="replace")

    def signal(self, signum: int) -> None:
        """Send `signum` to the gunicorn master."""
        assert self.process is not None
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> float:
        """Wait for gunicorn to exit; return how long it took."""
        assert self.process is not None
        started = time.monotonic()
        self.process.wait(timeout=timeout)
        return time.monotonic() - started

    def stop(self) -> None:
        """Stop gunicorn if it still runs, forcefully if it will not go."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if hasattr(self, "log_file"):
            self.log_file.close()
        if os.environ.get("KEEP_LIVE_LOGS") is None:
            self.log_path.unlink(missing_ok=True)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> Response:
        """Send one HTTP request and return its response, decoding a JSON body."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            all_headers = dict(headers or {})
            payload = None
            if body is not None:
                payload = json.dumps(body)
                all_headers["Content-Type"] = "application/json"
            if token is not None:
                all_headers["Authorization"] = f"Bearer {token}"
            connection.request(method, path, body=payload, headers=all_headers)
            answer = connection.getresponse()
            raw = answer.read()
            content_type = answer.getheader("Content-Type", "")
            decoded = json.loads(raw) if raw and "json" in content_type else raw
            return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, decoded)
        finally:
            connection.close()

    def metric(self, name: str) -> float:
        """Read one unlabelled metric from the server's /metrics."""
        text = self.request("GET", "/metrics").body.decode()
        match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
        assert match, f"{name} missing from /metrics"
        return float(match.group(1))

    def login(self, email: str, password: str = DEMO_PASSWORD) -> str:
        """Log in over HTTP and return the access token."""
        answer = self.request("POST", "/auth/login", {"email": email, "password": password})
        assert answer.status == 200, answer.body
        return answer.body["access_token"]

    def create_booking(self, token: str, **fields: Any) -> dict[str, Any]:
        """Create a booking for the token's company's first customer and service."""
        if "customer_id" not in fields:
            fields["customer_id"] = self.request("GET", "/customers", token=token).body["items"][0][
                "id"
            ]
        if "service_id" not in fields:
            fields["service_id"] = self.request("GET", "/services", token=token).body["items"][0][
                "id"
            ]
        fields.setdefault("scheduled_date", in_days(1))
        fields.setdefault("scheduled_time_start", "10:00")
        answer = self.request("POST", "/bookings", fields, token=token)
        assert answer.status == 201, answer.body
        return answer.body

    def stream(
        self, token: str | None = None, path: str = "/sse/events", **kwargs: Any
    ) -> SSEStream:
        """Open `GET /sse/events` over a raw socket."""
        headers = {"Accept": "text/event-stream", **kwargs.pop("headers", {})}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return SSEStream("127.0.0.1", self.port, path, headers, **kwargs)


@dataclass
class Frame:
    """One parsed SSE frame: its fields, or the comment it carried."""

    raw: bytes
    event: str | None = None
    data: str | None = None
    id: str | None = None
    retry: int | None = None
    comments: list[str] = field(default_factory=list)

    @property
    def json(self) -> Any:
        """Return the data field parsed as JSON."""
        return json.loads(self.data)


def parse_frame(raw: bytes) -> Frame:
    """Parse one frame's bytes (without the blank line that ends it) the way EventSource does."""
    frame = Frame(raw=raw)
    data_lines = []
    for line in raw.decode().split("\n"):
        if line.startswith(":"):
            frame.comments.append(line[1:].strip())
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data_lines.append(value)
        elif name == "event":
            frame.event = value
        elif name == "id":
            frame.id = value
        elif name == "retry":
            frame.retry = int(value)
    if data_lines:
        frame.data = "\n".join(data_lines)
    return frame


class SSEStream:
    """A client of `GET /sse/events` reading the chunked body straight off the socket."""

    def __init__(
        self,
        host: str,
        port: int,
        path: str,
        headers: dict[str, str],
        timeout: float = 10,
        receive_buffer: int | None = None,
    ) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            # Before connecting, so the small window is what the server is told.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self._raw = b""
        self._body = b""
        self.closed = False
        head = self._read_until(b"\r\n\r\n")
        status_line, *header_lines = head.decode().split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.chunked = self.headers.get("transfer-encoding") == "chunked"

    def _recv(self) -> bool:
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            self.closed = True
            return False
        self._raw += data
        return True

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._raw:
            if not self._recv():
                raise ConnectionError("connection closed before the response head")
        head, _, self._raw = self._raw.partition(marker)
        return head

    def _decode_chunks(self) -> None:
        if not self.chunked:
            self._body += self._raw
            self._raw = b""
            return
        while b"\r\n" in self._raw:
            size_line, _, rest = self._raw.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if len(rest) < size + 2:
                return
            if size == 0:
                self.closed = True
                self._raw = b""
                return
            self._body += rest[:size]
            self._raw = rest[size + 2 :]

    def read_json(self) -> Any:
        """Read a whole non-streaming body (an error answer) and decode it as JSON."""
        length = int(self.headers.get("content-length", "-1"))
        while (length < 0 or len(self._raw) < length) and self._recv():
            pass
        return json.loads(self._raw[:length] if length >= 0 else self._raw)

    def next_frame(self, timeout: float = 10) -> Frame | None:
        """Return the next frame, or None if the server ended the stream first."""
        self.sock.settimeout(timeout)
        while True:
            self._decode_chunks()
            if b"\n\n" in self._body:
                raw, _, self._body = self._body.partition(b"\n\n")
                return parse_frame(raw)
            if self.closed or not self._recv():
                return None

    def next_event(self, timeout: float = 10) -> Frame | None:
        """Return the next frame that is not a heartbeat comment."""
        while True:
            frame = self.next_frame(timeout)
            if frame is None or frame.data is not None or frame.event or frame.retry:
                return frame

    def frames_until_closed(self, timeout: float = 10) -> list[Frame]:
        """Read every remaining frame until the server closes the stream."""
        frames = []
        while (frame := self.next_frame(timeout)) is not None:
            frames.append(frame)
        return frames

    def close(self) -> None:
        """Close the connection from the client side."""
        self.sock.close()

    def __enter__(self) -> SSEStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class PrivateRedis:
    """A redis-server of this test's own, so stopping it disturbs nobody else."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the server and wait until it answers."""
        import redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        """Stop the server at once, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class PrivatePostgres:
    """A PostgreSQL server of this test's own, in a temporary directory, to stop and start at will.

    initdb refuses to run as root, so as root the server runs as the `postgres` user.
    """

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.data_dir = Path(tempfile.mkdtemp(prefix="everfresh-pg-"))
        self.log_path = self.data_dir.with_name(self.data_dir.name + ".log")
        if os.geteuid() == 0:
            shutil.chown(self.data_dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust")

    def _run(self, program: str, *args: str, check: bool = True) -> int:
        command = [str(self.bin_dir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, check=check, stdout=subprocess.DEVNULL)
        return done.returncode

    def start(self) -> None:
        """Start the server on its port and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1"
        # pg_ctl writes its log where the server's user may write: beside the data directory.
        if os.geteuid() == 0 and not self.log_path.exists():
            self.log_path.touch()
            shutil.chown(self.log_path, "postgres", "postgres")
        self._run(
            "pg_ctl", "-D", str(self.data_dir), "-o", options, "-l", str(self.log_path),
            "-w", "-t", "30", "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop the server at once, as a crash would: no checkpoint, connections cut."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        """Stop the server if it runs and delete its files."""
        if self._run("pg_ctl", "-D", str(self.data_dir), "status", check=False) == 0:
            self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.log_path.unlink(missing_ok=True)
