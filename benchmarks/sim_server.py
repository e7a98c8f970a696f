"""The bundled simulator in a process of its own, for the benchmarks.

Prints its base URL on the first line, then serves until its standard input closes (so it never
outlives the benchmark that started it). Options the `simulator` command does not offer (a larger
upload cap) are set here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from seedance_desktop.simulator.config import SimulatorConfig
from seedance_desktop.simulator.runner import SimulatorServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--instant", action="store_true")
    parser.add_argument("--max-concurrent", type=int, default=2)
    parser.add_argument("--queue-delay", type=float, default=2.0)
    parser.add_argument("--run-time", type=float, default=6.0)
    parser.add_argument("--max-upload-mb", type=int, default=100)
    args = parser.parse_args()
    config = SimulatorConfig(
        data_dir=args.data_dir,
        instant=args.instant,
        queue_delay_s=args.queue_delay,
        run_time_s=args.run_time,
        max_concurrent=args.max_concurrent,
        max_upload_bytes=args.max_upload_mb * 1024 * 1024,
    )
    with SimulatorServer(config) as server:
        print(server.url, flush=True)
        sys.stdin.read()  # until the benchmark closes the pipe (or exits)


if __name__ == "__main__":
    main()
