"""Drive one or more loader shards (`bench.loader`) as if they were a single stream client."""

from __future__ import annotations

import json
import math
import select
import signal
import sys
from pathlib import Path
from typing import Any

from bench import processes

ROOT = Path(__file__).resolve().parent.parent


class ShardProcess:
    """One loader process, spoken to in JSON lines over its stdin and stdout."""

    def __init__(self, host: str, port: int, log_path: Path) -> None:
        self.process = processes.spawn(
            [sys.executable, "-m", "bench.loader", host, str(port)],
            cwd=ROOT,
            log_path=log_path,
            pipes=True,
        )
        self.log_path = log_path

    def send(self, command: dict[str, Any]) -> None:
        """Send one command without waiting for its answer."""
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        self.process.stdin.flush()

    def receive(self, timeout: float) -> dict[str, Any]:
        """Read the answer to the last command, failing after `timeout` seconds."""
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else b""
        if not line:
            raise RuntimeError(
                f"loader shard gave no answer within {timeout:.0f}s "
                f"(exit code {self.process.poll()}): {self.log_path.read_text()[-2000:]}"
            )
        return json.loads(line)

    def stop(self) -> None:
        """Stop the shard process, closing its streams if it still answers."""
        if self.process.poll() is None:
            try:
                self.send({"cmd": "close"})
                self.receive(10)
            except (OSError, RuntimeError, ValueError):
                pass
        processes.stop(self.process, signal.SIGTERM, grace=5)


class Loader:
    """All the shards holding one workload's streams; N streams split evenly between them."""

    def __init__(self, port: int, streams: int, per_shard: int, log_dir: Path) -> None:
        self.streams = streams
        count = max(1, math.ceil(streams / per_shard))
        self.shares = [streams // count + (1 if i < streams % count else 0) for i in range(count)]
        self.shards: list[ShardProcess] = []
        try:
            for index in range(count):
                log_path = log_dir / f"loader-{port}-{index}.log"
                self.shards.append(ShardProcess("127.0.0.1", port, log_path))
        except BaseException:
            self.close()
            raise

    def pids(self) -> list[int]:
        """Return the shard processes' ids."""
        return [shard.process.pid for shard in self.shards]

    def _ask_all(self, commands: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
        for shard, command in zip(self.shards, commands, strict=True):
            shard.send(command)
        return [shard.receive(timeout) for shard in self.shards]

    def _ask_each(self, command: dict[str, Any], timeout: float) -> list[dict[str, Any]]:
        return self._ask_all([command] * len(self.shards), timeout)

    def open(
        self,
        path: str,
        headers: dict[str, str],
        wait_first: bool,
        concurrency: int,
        timeout: float,
        track_heartbeats: bool = False,
    ) -> dict[str, Any]:
        """Open every stream (each shard its share) and return the merged status."""
        commands = [
            {
                "cmd": "open",
                "count": share,
                "path": path,
                "headers": headers,
                "wait_first": wait_first,
                "concurrency": max(1, concurrency // len(self.shards)),
                "timeout": timeout,
                "track_heartbeats": track_heartbeats,
            }
            for share in self.shares
        ]
        return merge_status(self._ask_all(commands, timeout + 30))

    def await_first(self, timeout: float) -> dict[str, Any]:
        """Wait for the first frame on every connected stream."""
        return merge_status(
            self._ask_each({"cmd": "await_first", "timeout": timeout}, timeout + 30)
        )

    def status(self) -> dict[str, Any]:
        """Return the merged count of connected, ready and closed streams."""
        return merge_status(self._ask_each({"cmd": "status"}, 30))

    def wait_for(self, booking_id: str, timeout: float) -> int:
        """Wait until every stream has the booking's frame (or `timeout`); return how many do."""
        command = {"cmd": "wait", "booking_id": booking_id, "timeout": timeout}
        return sum(answer["received"] for answer in self._ask_each(command, timeout + 30))

    def report(self, sent_at: dict[str, float], latencies: bool = True) -> dict[str, Any]:
        """Return every stream's POST-to-frame latencies (ms) and what was lost, merged."""
        command = {"cmd": "report", "sent_at": sent_at, "latencies": latencies}
        answers = self._ask_each(command, 120)
        merged = merge_status(answers)
        merged["latencies_ms"] = [value for a in answers for value in a["latencies_ms"]]
        spans: dict[str, list[float]] = {}
        for answer in answers:
            for booking, (first, last) in answer["spans_ms"].items():
                known = spans.setdefault(booking, [first, last])
                spans[booking] = [min(known[0], first), max(known[1], last)]
        merged["spans_ms"] = spans
        for key in ("delivered", "lost", "duplicates"):
            merged[key] = sum(answer[key] for answer in answers)
        sizes = [answer["frame_bytes"] for answer in answers if answer["frame_bytes"]]
        merged["frame_bytes"] = sizes[0] if sizes else None
        return merged

    def served(self, booking_ids: list[str]) -> dict[str, Any]:
        """Return how many streams hold their greeting and every booking, and when the last did."""
        answers = self._ask_each({"cmd": "served", "booking_ids": booking_ids}, 60)
        merged = merge_status(answers)
        merged["served"] = sum(answer["served"] for answer in answers)
        merged["pending"] = sum(answer["pending"] for answer in answers)
        merged["last_served_at"] = max(answer["last_served_at"] for answer in answers)
        return merged

    def heartbeat_gaps(self, start: float, end: float) -> list[float]:
        """Return the gaps (ms) between consecutive heartbeats that ended within [start, end]."""
        answers = self._ask_each({"cmd": "heartbeats", "start": start, "end": end}, 60)
        return [gap for answer in answers for gap in answer["gaps_ms"]]

    def close(self) -> None:
        """Close every stream and stop every shard."""
        for shard in self.shards:
            shard.stop()
        self.shards = []


def merge_status(answers: list[dict[str, Any]]) -> dict[str, Any]:
    """Add up the stream counts reported by several shards."""
    merged: dict[str, Any] = {"refused": {}}
    for answer in answers:
        for key in ("streams", "live", "ready", "closed_early"):
            merged[key] = merged.get(key, 0) + answer.get(key, 0)
        for reason, count in answer.get("refused", {}).items():
            merged["refused"][reason] = merged["refused"].get(reason, 0) + count
        if "seconds" in answer:
            merged["seconds"] = max(merged.get("seconds", 0), answer["seconds"])
    return merged
