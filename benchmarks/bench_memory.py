"""6. Memory: resident memory of the app idle with 10,000 finished jobs in its history (and their
library entries, videos and thumbnails). Bar: under 250 MB.

The app is started exactly as `seedance-desktop` starts it (launch_window.py idle → app.py) on a
home filled by populate.py, pointed at a fal-compatible server in another process (as with a fal
key). Once the engine is attached and the panels are built it is left alone for a few seconds,
then its resident size is read from /proc (median of samples). For context, the same with no key
(the bundled simulator then runs inside the app) and with an empty history.
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

from common import BENCH, Entry, entry, fal_env, main, rss_mb, simulator_process

LAUNCHER = BENCH / "launch_window.py"


def idle_rss(home: Path, fal_url: str | None, settle_s: float, samples: int) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEEDANCE_FAL", "FAL_KEY"))}
    env["SEEDANCE_HOME"] = str(home)
    if fal_url:
        env.update(fal_env(fal_url))
    with subprocess.Popen(
        [sys.executable, str(LAUNCHER), "idle"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    ) as process:
        assert process.stdout is not None and process.stdin is not None
        try:
            deadline = time.monotonic() + 60
            for line in process.stdout:
                if line.strip() == "ATTACHED" or time.monotonic() > deadline:
                    break
            else:
                raise RuntimeError("the app ended before it was attached")
            time.sleep(settle_s)
            readings = []
            for _ in range(samples):
                readings.append(rss_mb(process.pid))
                time.sleep(0.25)
        finally:
            process.stdin.close()  # the launcher exits when its stdin closes
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
    return statistics.median(readings)


def run(quick: bool = False) -> list[Entry]:
    from populate import fill_history

    from seedance_desktop.paths import AppPaths

    jobs, settle, samples = (50, 0.5, 2) if quick else (10_000, 3.0, 8)
    with tempfile.TemporaryDirectory(prefix="seedance-bench-memory-") as tmp:
        root = Path(tmp)
        full, empty = root / "full", root / "empty"
        fill_history(AppPaths(full / "data", full / "cache", full / "config", full / "logs"), jobs)
        with simulator_process(root / "sim") as url:
            with_history = idle_rss(full, url, settle, samples)
            without = idle_rss(empty, url, settle, samples)
        shutil.rmtree(empty, ignore_errors=True)
        embedded = idle_rss(full, None, settle, samples)
    return [
        entry(f"memory: idle, {jobs:,} jobs in history", with_history, "MB", None, "< 250 MB",
              with_history < 250),
        entry("memory: idle, empty history", without, "MB"),
        entry(f"memory: idle, {jobs:,} jobs, no key (simulator inside)", embedded, "MB"),
    ]  # fmt: skip


if __name__ == "__main__":
    main(run, "6. Memory (idle app)")
