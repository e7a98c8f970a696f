"""1. Start-up: process start to the main window painted and accepting input, against a bare
PySide6 QMainWindow process measured the same way. Bar: at most 2× the bare window (medians).

Both run as fresh processes (launch_window.py), alternating, after one warm-up each so both see
a warm file cache. Also reported: the time until the panels are built and painted.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import BENCH, Entry, entry, main

LAUNCHER = BENCH / "launch_window.py"


def launch(kind: str) -> dict[str, float]:
    """Seconds from process start to each marker the child prints."""
    home = Path(tempfile.mkdtemp(prefix="seedance-bench-start-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEEDANCE_FAL", "FAL_KEY"))}
    env["SEEDANCE_HOME"] = str(home)
    marks: dict[str, float] = {}
    try:
        start = time.perf_counter()
        with subprocess.Popen(
            [sys.executable, str(LAUNCHER), kind],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        ) as process:
            assert process.stdout is not None
            for line in process.stdout:
                marks[line.strip()] = time.perf_counter() - start
            process.wait(30)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if "PAINTED" not in marks:
        raise RuntimeError(f"the {kind} window never painted")
    return marks


def run(quick: bool = False) -> list[Entry]:
    runs = 1 if quick else 7
    if not quick:
        launch("bare"), launch("app")  # warm the file cache for both
    bare: list[float] = []
    app: list[float] = []
    panels: list[float] = []
    for _ in range(runs):  # alternate, so a noisy moment hits both
        bare.append(launch("bare")["PAINTED"])
        marks = launch("app")
        app.append(marks["PAINTED"])
        panels.append(marks["PANELS"])
    b, a, p = (statistics.median(x) for x in (bare, app, panels))
    return [
        entry("start-up: bare QMainWindow painted", b, "s"),
        entry("start-up: app window painted", a, "s", b, "≤ 2× bare QMainWindow", a <= 2 * b),
        entry("start-up: app panels built and painted", p, "s", b),
    ]


if __name__ == "__main__":
    main(run, "1. Start-up (median of 7 launches each)")
