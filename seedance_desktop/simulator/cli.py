"""`seedance-desktop simulator`: serve the bundled fal simulator until Ctrl+C."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from seedance_desktop.simulator.config import Faults, SimulatorConfig
from seedance_desktop.simulator.runner import SimulatorServer


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("a rate is a probability between 0 and 1")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    parser.add_argument(
        "--instant", action="store_true", help="no queue wait and no progress delays"
    )
    rate: dict[str, Any] = {"type": _rate, "default": 0.0, "metavar": "X"}
    parser.add_argument("--rate-429", **rate, help="share of requests answered 429")
    parser.add_argument("--rate-5xx", **rate, help="share of requests answered 5xx")
    parser.add_argument("--rate-drop", **rate, help="share of connections closed unanswered")
    parser.add_argument(
        "--slow", type=_seconds, default=0.0, metavar="S", help="extra delay before each answer"
    )
    parser.add_argument("--truncate-rate", **rate, help="share of downloads cut off mid-body")
    parser.add_argument(
        "--queue-delay", type=_seconds, default=2.0, metavar="S", help="time a job waits queued"
    )
    parser.add_argument(
        "--run-time", type=_seconds, default=6.0, metavar="S", help="time a job takes to run"
    )
    parser.add_argument(
        "--max-upload-mb", type=int, default=100, metavar="MB", help="largest upload accepted"
    )
    parser.add_argument(
        "--max-concurrent", type=int, default=2, metavar="N", help="requests running at once"
    )
    parser.add_argument(
        "--data-dir", type=Path, metavar="D", help="where uploads and videos go (default: temp)"
    )


def config_from_args(args: argparse.Namespace, data_dir: Path) -> SimulatorConfig:
    faults = Faults(
        rate_429=args.rate_429,
        rate_5xx=args.rate_5xx,
        rate_drop=args.rate_drop,
        slow_s=args.slow,
        truncate_download_rate=args.truncate_rate,
    )
    return SimulatorConfig(
        data_dir=data_dir,
        instant=args.instant,
        queue_delay_s=args.queue_delay,
        run_time_s=args.run_time,
        max_upload_bytes=args.max_upload_mb * 1024 * 1024,
        max_concurrent=max(1, args.max_concurrent),
        faults=faults,
    )


def run_from_args(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    """Serve until Ctrl+C (or until `stop` is set, for tests). Prints the URL first."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="seedance-sim-") as scratch:
        config = config_from_args(args, args.data_dir or Path(scratch))
        with SimulatorServer(config, host=args.host, port=args.port) as server:
            print(f"Seedance simulator listening on {server.url}", flush=True)
            print("Use it as the queue, REST and CDN base URL. Ctrl+C stops it.", flush=True)
            waiter = stop or threading.Event()
            try:
                while not waiter.wait(0.5):
                    pass
            except KeyboardInterrupt:
                print("Stopping the simulator.", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="seedance-simulator", description="Run the bundled fal-compatible simulator."
    )
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
