"""Start and always stop the benchmark's child processes, and read their memory from /proc."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """Return a loopback port that was free a moment ago (never 8000)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port != 8000:
            return port


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: if the harness is killed outright (even by
    # SIGKILL), the kernel kills this child too, so no server outlives a benchmark.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn(
    command: Sequence[str],
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    log_path: Path | None = None,
    pipes: bool = False,
) -> subprocess.Popen:
    """Start `command` in its own process group, tied to this process's life."""
    log_file = log_path.open("ab") if log_path is not None else subprocess.DEVNULL
    try:
        return subprocess.Popen(
            list(command),
            env=env,
            cwd=cwd,
            stdin=subprocess.PIPE if pipes else subprocess.DEVNULL,
            stdout=subprocess.PIPE if pipes else log_file,
            stderr=log_file,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    finally:
        if log_path is not None:
            log_file.close()


def stop(process: subprocess.Popen | None, signum: int = signal.SIGTERM, grace: float = 15) -> None:
    """Send `signum`, wait up to `grace` seconds, then kill the whole process group."""
    if process is None:
        return
    if process.poll() is None:
        try:
            process.send_signal(signum)
            process.wait(timeout=grace)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            pass
    # Whatever is left of the group (workers of a master that died, say) goes too.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def children_of(pid: int) -> list[int]:
    """Return the ids of the processes whose parent is `pid`."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(entry))
    return sorted(children)


def rss_kb(pid: int) -> int:
    """Return the resident set size of `pid` in KiB (VmRSS), or 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kb(pid: int) -> int:
    """Return the RSS of `pid` plus its direct children (a gunicorn master and its workers)."""
    return rss_kb(pid) + sum(rss_kb(child) for child in children_of(pid))


def cpu_seconds(pids: list[int]) -> float:
    """Return the CPU time (user + system) the processes `pids` have used so far, in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        # Fields 14 and 15 of stat(5), counted after the ")" that ends the command name.
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def wait_until(condition: Callable[[], object], timeout: float, interval: float = 0.05) -> bool:
    """Call `condition` until it returns true or `timeout` seconds pass; return the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
