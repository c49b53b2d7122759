"""Hold thousands of Server-Sent Events streams open from one lean asyncio process.

One loader process is a *shard*: it opens its share of the streams over raw sockets
(one `asyncio.Protocol` per stream, uvloop when installed, no HTTP library), and answers
JSON commands, one per line, on stdin/stdout. The harness (`bench.fleet`) drives one or
more shards; a shard never posts bookings itself, it only timestamps what arrives.

Every timestamp is `time.monotonic()`, which on Linux is CLOCK_MONOTONIC and therefore
comparable between the harness and every shard on the same machine.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from array import array
from typing import Any

CHUNKED = b"transfer-encoding: chunked"
BOOKING_KEY = b'"booking_id"'
BOOKING_ID_LENGTH = 26
GREETING_KEY = b'"connection_established"'


def raise_open_file_limit() -> int:
    """Raise this process's open-file soft limit to its hard limit; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = 1_048_576 if hard == resource.RLIM_INFINITY else hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def booking_id_in(frame: bytes) -> bytes | None:
    """Return the booking id carried by a frame's JSON data, or None for any other frame."""
    key = frame.find(BOOKING_KEY)
    if key < 0:
        return None
    start = frame.find(b'"', frame.find(b":", key + len(BOOKING_KEY)) + 1) + 1
    return frame[start : start + BOOKING_ID_LENGTH]


class Shard:
    """The streams of one loader process and everything they have received."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.streams: list[StreamProtocol] = []
        self.request = b""
        self.track_heartbeats = False
        self.ready = 0
        self.live = 0
        self.closed_early = 0
        self.refused: dict[str, int] = {}
        # booking id -> arrival time per stream index (0.0: not arrived yet).
        self.arrivals: dict[bytes, array] = {}
        self.received: dict[bytes, int] = {}
        self.duplicates = 0
        self.frame_bytes: dict[bytes, int] = {}

    def note_refusal(self, reason: str) -> None:
        """Count a stream that could not be opened, by reason."""
        self.refused[reason] = self.refused.get(reason, 0) + 1

    def on_booking(self, index: int, booking_id: bytes, frame_length: int, now: float) -> None:
        """Record that stream `index` received the frame of `booking_id` at `now`."""
        times = self.arrivals.get(booking_id)
        if times is None:
            times = self.arrivals[booking_id] = array("d", bytes(8 * len(self.streams)))
            self.received[booking_id] = 0
            self.frame_bytes[booking_id] = frame_length
        if times[index]:
            self.duplicates += 1
            return
        times[index] = now
        self.received[booking_id] += 1

    async def open(self, command: dict[str, Any]) -> dict[str, Any]:
        """Open `count` streams, `concurrency` at a time, waiting for first frames if asked."""
        count = int(command["count"])
        lines = [f"GET {command['path']} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in command.get("headers", {}).items()]
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self.track_heartbeats = bool(command.get("track_heartbeats"))
        wait_first = bool(command.get("wait_first", True))
        timeout = float(command.get("timeout", 60))
        gate = asyncio.Semaphore(int(command.get("concurrency", 100)))
        loop = asyncio.get_running_loop()
        first = len(self.streams)
        self.streams.extend(StreamProtocol(self, first + i) for i in range(count))
        # Arrays sized before the streams existed must grow with them.
        for times in self.arrivals.values():
            times.frombytes(bytes(8 * (len(self.streams) - len(times))))
        started = time.monotonic()
        deadline = started + timeout

        async def open_one(stream: StreamProtocol) -> None:
            async with gate:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.note_refusal("open timeout")
                    return
                try:
                    await asyncio.wait_for(
                        loop.create_connection(lambda: stream, self.host, self.port), remaining
                    )
                except (OSError, TimeoutError) as error:
                    self.note_refusal(type(error).__name__)
                    return
                if wait_first:
                    await stream.wait_ready(deadline - time.monotonic())

        await asyncio.gather(*(open_one(s) for s in self.streams[first:]))
        return {**self.status(), "seconds": round(time.monotonic() - started, 3)}

    async def await_first(self, timeout: float) -> dict[str, Any]:
        """Wait until every connected stream has its first frame, or `timeout` passes."""
        started = time.monotonic()
        deadline = started + timeout
        while self.ready < self.live and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return {**self.status(), "seconds": round(time.monotonic() - started, 3)}

    def status(self) -> dict[str, Any]:
        """Return how many streams are connected, ready, refused and closed early."""
        return {
            "streams": len(self.streams),
            "live": self.live,
            "ready": self.ready,
            "closed_early": self.closed_early,
            "refused": self.refused,
        }

    async def wait_for(self, booking_id: bytes, timeout: float) -> dict[str, Any]:
        """Wait until every ready, still-open stream has `booking_id`, or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.received.get(booking_id, 0) >= self.ready - self.closed_early:
                break
            await asyncio.sleep(0.005)
        return {"received": self.received.get(booking_id, 0), "ready": self.ready}

    def report(self, sent_at: dict[str, float], with_latencies: bool = True) -> dict[str, Any]:
        """Return latencies (ms) for the bookings in `sent_at`, and what each stream missed."""
        latencies: list[float] = []
        lost = 0
        delivered = 0
        ready = [stream.ready_at > 0 for stream in self.streams]
        frame_bytes = []
        # Per booking: the first and the last arrival (ms after the POST), to spot slow events.
        spans: dict[str, list[float]] = {}
        for booking, sent in sent_at.items():
            booking_id = booking.encode()
            times = self.arrivals.get(booking_id)
            if times is None:
                lost += sum(ready)
                continue
            frame_bytes.append(self.frame_bytes[booking_id])
            arrived_at = [arrived for arrived in times if arrived]
            spans[booking] = [
                round((min(arrived_at) - sent) * 1000, 3),
                round((max(arrived_at) - sent) * 1000, 3),
            ]
            for index, arrived in enumerate(times):
                if arrived:
                    delivered += 1
                    if with_latencies:
                        latencies.append(round((arrived - sent) * 1000, 3))
                elif ready[index]:
                    lost += 1
        return {
            **self.status(),
            "latencies_ms": latencies,
            "spans_ms": spans if with_latencies else {},
            "delivered": delivered,
            "lost": lost,
            "duplicates": self.duplicates,
            "frame_bytes": sorted(frame_bytes)[len(frame_bytes) // 2] if frame_bytes else None,
        }

    def served(self, booking_ids: list[str]) -> dict[str, Any]:
        """Count the streams holding their greeting and every one of `booking_ids`.

        Also returns when the last of them was complete, and how many streams are neither
        served nor ended (still waiting for something).
        """
        columns = [self.arrivals.get(booking.encode()) for booking in booking_ids]
        served = pending = 0
        last = 0.0
        for index, stream in enumerate(self.streams):
            moment = stream.greeted_at
            complete = bool(moment)
            for times in columns:
                if not complete:
                    break
                if times is None or not times[index]:
                    complete = False
                else:
                    moment = max(moment, times[index])
            if complete:
                served += 1
                last = max(last, moment)
            elif stream.transport is not None and not stream.transport.is_closing():
                pending += 1
        return {**self.status(), "served": served, "pending": pending, "last_served_at": last}

    def heartbeat_gaps(self, start: float, end: float) -> dict[str, Any]:
        """Return every gap (ms) between consecutive heartbeats that ended within [start, end]."""
        gaps = []
        for stream in self.streams:
            beats = stream.heartbeats
            for previous, current in zip(beats, beats[1:], strict=False):
                if start <= current <= end:
                    gaps.append(round((current - previous) * 1000, 3))
        return {"gaps_ms": gaps, "live": self.live}

    def close(self) -> dict[str, Any]:
        """Close every stream from the client side."""
        for stream in self.streams:
            if stream.transport is not None:
                stream.closing = True
                stream.transport.abort()
        return {"closed": len(self.streams)}


class StreamProtocol(asyncio.Protocol):
    """One stream: sends the request, then decodes the chunked body into SSE frames."""

    __slots__ = (
        "shard",
        "index",
        "transport",
        "buffer",
        "body",
        "head_done",
        "chunked",
        "ready_at",
        "ready_waiter",
        "closing",
        "heartbeats",
        "greeted_at",
    )

    def __init__(self, shard: Shard, index: int) -> None:
        self.shard = shard
        self.index = index
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.body = b""
        self.head_done = False
        self.chunked = False
        self.ready_at = 0.0
        self.ready_waiter: asyncio.Future | None = None
        self.closing = False
        self.heartbeats: list[float] = []
        self.greeted_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Send the stream request as soon as the socket connects."""
        self.transport = transport  # type: ignore[assignment]
        self.shard.live += 1
        transport.write(self.shard.request)  # type: ignore[attr-defined]

    async def wait_ready(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for the first frame."""
        if self.ready_at or self.transport is None or self.transport.is_closing():
            return
        self.ready_waiter = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(self.ready_waiter, max(timeout, 0.001))
        except TimeoutError:
            self.shard.note_refusal("no first frame")

    def data_received(self, data: bytes) -> None:
        """Decode what arrived and handle each complete frame, timestamped on arrival."""
        now = time.monotonic()
        if not self.head_done:
            self.buffer += data
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            data = self.buffer[end + 4 :]
            self.buffer = b""
            self.head_done = True
            status = head[9:12]
            if status != b"200":
                self.shard.note_refusal(f"HTTP {status.decode(errors='replace')}")
                self.closing = True
                self.transport.abort()
                return
            self.chunked = CHUNKED in head.lower()
        if self.chunked:
            data = self._dechunk(data)
        body = self.body + data if self.body else data
        start = 0
        while True:
            end = body.find(b"\n\n", start)
            if end < 0:
                break
            self._frame(body[start:end], now)
            start = end + 2
        self.body = body[start:]

    def _dechunk(self, data: bytes) -> bytes:
        buffer = self.buffer + data if self.buffer else data
        out = []
        position = 0
        while True:
            line_end = buffer.find(b"\r\n", position)
            if line_end < 0:
                break
            size = int(buffer[position:line_end].split(b";", 1)[0], 16)
            chunk_start = line_end + 2
            if len(buffer) < chunk_start + size + 2:
                break
            if size == 0:
                position = len(buffer)
                break
            out.append(buffer[chunk_start : chunk_start + size])
            position = chunk_start + size + 2
        self.buffer = buffer[position:]
        return b"".join(out)

    def _frame(self, frame: bytes, now: float) -> None:
        if frame[:1] == b":":
            if self.shard.track_heartbeats:
                self.heartbeats.append(now)
            return
        booking_id = booking_id_in(frame)
        if booking_id is not None:
            self.shard.on_booking(self.index, booking_id, len(frame) + 2, now)
        elif not self.greeted_at and GREETING_KEY in frame:
            self.greeted_at = now
        if not self.ready_at:
            self.ready_at = now
            self.shard.ready += 1
            if self.ready_waiter is not None and not self.ready_waiter.done():
                self.ready_waiter.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        """Count a stream the server ended while the benchmark still needed it."""
        self.shard.live -= 1
        if self.ready_at and not self.closing:
            self.shard.closed_early += 1
        if self.ready_waiter is not None and not self.ready_waiter.done():
            self.ready_waiter.set_result(None)


async def serve(shard: Shard) -> None:
    """Answer the harness's commands until it says `close` or stdin ends."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=64 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        name = command["cmd"]
        if name == "open":
            answer = await shard.open(command)
        elif name == "await_first":
            answer = await shard.await_first(float(command["timeout"]))
        elif name == "status":
            answer = shard.status()
        elif name == "wait":
            answer = await shard.wait_for(command["booking_id"].encode(), command["timeout"])
        elif name == "report":
            answer = shard.report(command["sent_at"], command.get("latencies", True))
        elif name == "served":
            answer = shard.served(command["booking_ids"])
        elif name == "heartbeats":
            answer = shard.heartbeat_gaps(command["start"], command["end"])
        elif name == "close":
            answer = shard.close()
            await asyncio.sleep(0.1)
        else:
            answer = {"error": f"unknown command {name!r}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
        if name == "close":
            return


def main() -> None:
    """Run one loader shard against `host port` given on the command line."""
    host, port = sys.argv[1], int(sys.argv[2])
    raise_open_file_limit()
    try:
        import uvloop
    except ImportError:
        uvloop = None
    shard = Shard(host, port)
    if uvloop is not None:
        uvloop.run(serve(shard))
    else:
        asyncio.run(serve(shard))


if __name__ == "__main__":
    main()
