"""Sample a gunicorn worker with py-spy during one phase and summarise where its time went."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import processes

TOP_FUNCTIONS = 25


def py_spy() -> str | None:
    """Return the py-spy executable of this environment, or None when it is not installed."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Profiler:
    """Record one worker's stacks with py-spy (collapsed "raw" format) between start and stop."""

    def __init__(self, output: Path, rate: int = 100) -> None:
        self.output = output
        self.rate = rate
        self.process: subprocess.Popen | None = None

    def start(self, pid: int) -> None:
        """Start sampling `pid`."""
        executable = py_spy()
        if executable is None:
            raise RuntimeError("py-spy is not installed: pip install -r bench/requirements.txt")
        self.process = processes.spawn(
            [
                executable,
                "record",
                "--pid",
                str(pid),
                "--rate",
                str(self.rate),
                "--format",
                "raw",
                "--output",
                str(self.output),
            ],
            log_path=self.output.with_suffix(".log"),
        )
        # py-spy attaches within a moment; samples before that would be lost.
        time.sleep(1.0)

    def stop(self) -> dict[str, Any]:
        """Stop sampling, and return the file and the functions that took the most time."""
        if self.process is not None:
            processes.stop(self.process, signal.SIGINT, grace=30)
        return summarise_profile(self.output)


def summarise_profile(path: Path) -> dict[str, Any]:
    """Read py-spy's collapsed stacks and rank functions by own (self) and total samples."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    if not path.exists():
        return {"path": str(path), "samples": 0, "self": [], "total": []}
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        samples += count
        frames = stack.split(";")
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count

    def ranked(counter: Counter[str]) -> list[dict[str, Any]]:
        return [
            {"function": name, "samples": n, "percent": round(100 * n / samples, 1)}
            for name, n in counter.most_common(TOP_FUNCTIONS)
        ]

    return {"path": str(path), "samples": samples, "self": ranked(own), "total": ranked(total)}
