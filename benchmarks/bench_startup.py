"""1. Start-up: process start to the main window painted and accepting input, against a bare
PySide6 QMainWindow measured the same way. Bar: at most 2× the bare window (medians)."""

from __future__ import annotations

import subprocess
import sys
import time

from common import ROOT, Entry, entry, median_of

LAUNCHER = ROOT / "benchmarks" / "launch_window.py"


def time_to_ready(kind: str) -> float:
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(LAUNCHER), kind], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    for line in process.stdout:  # type: ignore[union-attr]
        if line.startswith("READY"):
            elapsed = time.perf_counter() - start
            break
    else:
        raise RuntimeError(f"the {kind} window never became ready")
    process.wait(30)
    return elapsed


def run(runs: int = 5) -> list[Entry]:
    time_to_ready("bare")  # warm the file cache for both
    bare = median_of(runs, lambda: time_to_ready("bare"))
    app = median_of(runs, lambda: time_to_ready("app"))
    return [entry("start-up to first paint (median)", app, "s", bare, "≤ 2× bare QMainWindow",
                  app <= 2 * bare)]  # fmt: skip


if __name__ == "__main__":
    from common import report

    report(run(), "Start-up")
