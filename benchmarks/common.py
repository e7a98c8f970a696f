"""Shared pieces of the benchmarks: entries in the shape of results/latest.json, medians, a
simulator in its own process, and the results table."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "latest.json"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


@dataclass
class Entry:
    name: str
    value: float
    unit: str
    baseline: float | None
    ratio: float | None
    bar: str
    met: bool


def entry(name: str, value: float, unit: str, baseline: float | None, bar: str, met: bool) -> Entry:
    ratio = round(value / baseline, 3) if baseline else None
    return Entry(name, round(value, 4), unit, None if baseline is None else round(baseline, 4),
                 ratio, bar, bool(met))  # fmt: skip


def median_of(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


def rss_mb(pid: int | None = None) -> float:
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


@contextmanager
def simulator_process(tmp: Path, *extra: str) -> Iterator[str]:
    """The bundled simulator in its own process (so its memory and CPU are not ours)."""
    command = [sys.executable, "-m", "seedance_desktop", "simulator", "--port", "0",
               "--data-dir", str(tmp / "sim"), *extra]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)  # fmt: skip
    try:
        url = None
        deadline = time.monotonic() + 30
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()  # type: ignore[union-attr]
            found = re.search(r"http://[\d.]+:\d+", line)
            url = found.group(0) if found else None
        if url is None:
            raise RuntimeError("the simulator did not start")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def fal_env(url: str) -> dict[str, str]:
    return {
        "SEEDANCE_FAL_QUEUE_URL": url,
        "SEEDANCE_FAL_REST_URL": url,
        "SEEDANCE_FAL_CDN_URL": url,
        "FAL_KEY": "bench-key:bench-secret",
    }


def report(entries: list[Entry], title: str) -> None:
    print(f"\n{title}")
    print(f"{'measure':<44}{'value':>12} {'unit':<6}{'baseline':>12}{'ratio':>8}  bar / met")
    for e in entries:
        base = "" if e.baseline is None else f"{e.baseline:.4g}"
        ratio = "" if e.ratio is None else f"{e.ratio:.2f}"
        mark = "yes" if e.met else "NO"
        print(f"{e.name:<44}{e.value:>12.4g} {e.unit:<6}{base:>12}{ratio:>8}  {e.bar} / {mark}")


def save(entries: list[Entry]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps([asdict(e) for e in entries], indent=2) + "\n")
