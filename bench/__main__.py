"""Run the benchmark (`python -m bench run [--plot]`) or plot results (`python -m bench plot`)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from bench import report
from bench.plot import DEFAULT_OUTPUT, plot
from bench.runner import run
from bench.settings import from_environment


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run or plot."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="run the benchmark (knobs: BENCH_* variables)")
    run_parser.add_argument("--plot", action="store_true", help=f"also draw {DEFAULT_OUTPUT}")
    plot_parser = commands.add_parser("plot", help="plot latency p99 against streams")
    plot_parser.add_argument("results", nargs="?", type=Path, help="default: the newest results")
    plot_parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    arguments = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if arguments.command == "plot":
        source = arguments.results or report.latest_results()
        print(f"Plotted {source} to {plot(source, arguments.output)}")
        return 0
    settings = from_environment(plot=arguments.plot)
    return run(settings)


if __name__ == "__main__":
    sys.exit(main())
