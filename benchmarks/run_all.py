"""Run every benchmark, each in its own process, print one table and write results/latest.json.

    .venv/bin/python benchmarks/run_all.py            # all of them, a few minutes on 2 cores
    .venv/bin/python benchmarks/run_all.py --quick    # tiny sizes: only checks they still run
    .venv/bin/python benchmarks/run_all.py --only bench_startup bench_memory

Exits non-zero only when a benchmark crashed (no figures), never because a bar was missed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import BENCH, NO_BAR, RESULTS, Entry, load, save, table

BENCHMARKS = (
    "bench_startup",
    "bench_responsiveness",
    "bench_queue_overhead",
    "bench_transfers",
    "bench_library_scale",
    "bench_player_seek",
    "bench_memory",
    "bench_queue_scale",
    "bench_fit",
    "bench_sequence_export",
)


def run_one(name: str, quick: bool, out: Path) -> list[Entry] | None:
    command = [sys.executable, str(BENCH / f"{name}.py"), "--out", str(out)]
    if quick:
        command.append("--quick")
    print(f"\n=== {name}", flush=True)
    finished = subprocess.run(command, check=False)
    if finished.returncode != 0 or not out.exists():
        print(f"=== {name} CRASHED (exit {finished.returncode})", flush=True)
        return None
    return load(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes; writes no results")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these")
    args = parser.parse_args()
    started = time.perf_counter()
    entries: list[Entry] = []
    crashed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="seedance-bench-all-") as tmp:
        for name in args.only or BENCHMARKS:
            found = run_one(name, args.quick, Path(tmp) / f"{name}.json")
            if found is None:
                crashed.append(name)
            else:
                entries += found
    minutes = (time.perf_counter() - started) / 60
    print("\n" + table(entries, f"All benchmarks ({minutes:.1f} min)"))
    barred = [e for e in entries if e.bar != NO_BAR]
    missed = [e.name for e in barred if not e.met]
    print(f"\nbars met: {len(barred) - len(missed)} of {len(barred)}; "
          f"missed: {'; '.join(missed) or 'none'}")  # fmt: skip
    if not args.quick:
        save(entries, RESULTS, merge=bool(args.only))
        print(f"written: {RESULTS.relative_to(BENCH.parent)}")
    if crashed:
        print(f"crashed: {', '.join(crashed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
