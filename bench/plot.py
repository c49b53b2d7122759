"""Draw fan-out latency p99 against stream count, one line per server, as a PNG for the README."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "bench-latency.png"
STYLES = {"everfresh": "o-", "floor": "s--", "flask-sse": "^:"}


def plot(results_path: Path, output: Path = DEFAULT_OUTPUT) -> Path:
    """Plot p99 (and p50, fainter) against streams from one results file; return the PNG path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    results: dict[str, Any] = json.loads(results_path.read_text())
    series: dict[str, list[dict[str, Any]]] = {}
    for run in results.get("fanout", []):
        if "error" in run or run["latency_ms"]["p99"] is None:
            continue
        label = run["app"] if run["workers"] == 1 else f"{run['app']} ({run['workers']} workers)"
        series.setdefault(label, []).append(run)

    figure, axes = pyplot.subplots(figsize=(8, 5), dpi=120)
    for label, runs in sorted(series.items()):
        runs.sort(key=lambda r: r["streams"])
        streams = [r["streams"] for r in runs]
        style = STYLES.get(runs[0]["app"], "o-")
        line = axes.plot(
            streams, [r["latency_ms"]["p99"] for r in runs], style, label=f"{label} p99"
        )
        axes.plot(
            streams,
            [r["latency_ms"]["p50"] for r in runs],
            style,
            color=line[0].get_color(),
            alpha=0.35,
            label=f"{label} p50",
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("open streams")
    axes.set_ylabel("POST → frame latency (ms)")
    machine = results.get("machine", {})
    axes.set_title(
        f"Fan-out of one booking, {machine.get('cores', '?')} cores, loader on the same machine"
    )
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output)
    pyplot.close(figure)
    return output
