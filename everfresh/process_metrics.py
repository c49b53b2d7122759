"""Export the process metrics of every live gunicorn worker, summed, beside the app's own.

In multiprocess mode prometheus-client exports no `process_*` metrics: each worker's would
describe only the worker that happened to answer the scrape. This collector reads `/proc`
for every worker that holds live metric files in PROMETHEUS_MULTIPROC_DIR (gunicorn's
`child_exit` deletes a dead worker's), and sums what adds up across processes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

# Each worker writes a `gauge_live<mode>_<pid>.db` file for its live gauges the moment it
# imports them; `multiprocess.mark_process_dead` removes exactly these files.
LIVE_GAUGE_FILE = re.compile(r"^gauge_live[a-z]+_(\d+)\.db$")

# How each per-process metric is combined across workers: a total, or the oldest start.
SUMMED = {
    "process_resident_memory_bytes": "Resident memory of every live worker, summed.",
    "process_virtual_memory_bytes": "Virtual memory of every live worker, summed.",
    "process_open_fds": "Open file descriptors of every live worker, summed.",
    "process_max_fds": "The open-file limits of every live worker, summed.",
}
CPU_SECONDS = "process_cpu_seconds"
START_TIME = "process_start_time_seconds"


def live_worker_pids(directory: str | os.PathLike[str], proc: str = "/proc") -> list[int]:
    """Return the pids whose live metric files are in `directory` and whose process still runs."""
    pids = set()
    for entry in Path(directory).iterdir():
        match = LIVE_GAUGE_FILE.match(entry.name)
        if match:
            pids.add(int(match.group(1)))
    # A worker killed a moment ago may not have been reaped (and its files removed) yet.
    return sorted(pid for pid in pids if Path(proc, str(pid)).is_dir())


class WorkerProcessCollector(Collector):
    """Collect `process_*` metrics for every live worker recorded in a multiprocess directory."""

    def __init__(self, directory: str | os.PathLike[str], proc: str = "/proc") -> None:
        self._directory = directory
        self._proc = proc

    def collect(self) -> Iterable[Metric]:
        """Yield the workers' memory, descriptors and CPU summed, and the oldest start time."""
        totals: dict[str, float] = {}
        starts: list[float] = []
        pids = live_worker_pids(self._directory, self._proc)
        for pid in pids:
            collector = ProcessCollector(pid=lambda pid=pid: pid, proc=self._proc, registry=None)
            for family in collector.collect():
                for sample in family.samples:
                    if sample.name == START_TIME:
                        starts.append(sample.value)
                    else:
                        totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
        yield GaugeMetricFamily("everfresh_workers", "Live gunicorn workers.", value=len(pids))
        for name, description in SUMMED.items():
            if name in totals:
                yield GaugeMetricFamily(name, description, value=totals[name])
        if f"{CPU_SECONDS}_total" in totals:
            yield CounterMetricFamily(
                CPU_SECONDS,
                "User and system CPU time of every live worker, summed (drops when one exits).",
                value=totals[f"{CPU_SECONDS}_total"],
            )
        if starts:
            yield GaugeMetricFamily(
                START_TIME,
                "When the oldest live worker started, in Unix seconds.",
                value=min(starts),
            )
