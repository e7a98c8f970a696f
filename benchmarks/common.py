"""Shared pieces of the benchmarks: result entries in the shape of results/latest.json, medians
and percentiles, memory readings, the simulator in its own process, the table and the JSON file.

Machines are noisy: every bar compares a median (or a percentile over many samples) with a
baseline measured in the same run, never one absolute time against a constant from elsewhere.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
RESULTS = BENCH / "results" / "latest.json"
for _extra in (str(ROOT), str(ROOT / "tests")):  # the package, and the tests' media factory
    if _extra not in sys.path:
        sys.path.insert(0, _extra)

FAKE_KEY = "bench-key:bench-secret"  # the simulator accepts any key that is not "invalid…"
NO_BAR = "none (reported)"


@dataclass
class Entry:
    """One figure; `bar` says what it must clear (NO_BAR: reported for context only)."""

    name: str
    value: float
    unit: str
    baseline: float | None
    ratio: float | None
    bar: str
    met: bool


def entry(
    name: str,
    value: float,
    unit: str,
    baseline: float | None = None,
    bar: str = NO_BAR,
    met: bool = True,
) -> Entry:
    ratio = round(value / baseline, 3) if baseline else None
    base = None if baseline is None else round(baseline, 4)
    return Entry(name, round(value, 4), unit, base, ratio, bar, bool(met))


def median_of(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


async def alternate_medians(
    shown: Callable[[object], Awaitable[tuple[float, object]]],
    baseline: object,
    measured: object,
    runs: int,
) -> tuple[float, float]:
    """Median seconds of `shown(baseline)` and of `shown(measured)`, taken in turn (a noisy
    machine slows both alike), each after one warm-up; `shown` returns (seconds, widget)."""
    for subject in (baseline, measured):  # warm: imports, fonts, icons
        (await shown(subject))[1].close()  # type: ignore[attr-defined]
    times: dict[int, list[float]] = {0: [], 1: []}
    for _ in range(runs):
        for index, subject in enumerate((baseline, measured)):
            seconds, widget = await shown(subject)
            times[index].append(seconds)
            widget.close()  # type: ignore[attr-defined]
    return statistics.median(times[0]), statistics.median(times[1])


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation; 0.0 for no samples."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    k = (len(ordered) - 1) * q / 100
    low, high = math.floor(k), math.ceil(k)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


# Memory -----------------------------------------------------------------------------------------


def _status_kb(field: str, pid: int | None) -> int:
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    found = re.search(rf"{field}:\s+(\d+)", status)
    if found is None:
        raise RuntimeError(f"/proc has no {field}")
    return int(found.group(1))


def rss_mb(pid: int | None = None) -> float:
    """Resident memory now, in MiB."""
    return _status_kb("VmRSS", pid) / 1024


def peak_rss_mb(pid: int | None = None) -> float:
    """The resident high-water mark since the last `reset_peak_rss`, in MiB."""
    return _status_kb("VmHWM", pid) / 1024


def reset_peak_rss(pid: int | None = None) -> None:
    """Start a new high-water mark at the current resident size (Linux: clear_refs 5)."""
    Path(f"/proc/{pid or os.getpid()}/clear_refs").write_text("5")


# The simulator in its own process ---------------------------------------------------------------


@contextmanager
def simulator_process(data_dir: Path, *options: str) -> Iterator[str]:
    """The bundled simulator served from another process (as fal is another machine): its CPU
    and memory are not the app's. Yields its base URL; stops when the block ends."""
    command = [sys.executable, str(BENCH / "sim_server.py"), "--data-dir", str(data_dir), *options]
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line.startswith("http://"):
            raise RuntimeError("the simulator did not start")
        yield line.strip()
    finally:
        if process.stdin:
            process.stdin.close()  # sim_server.py stops when its stdin closes
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def fal_env(url: str) -> dict[str, str]:
    """Environment that points the app's fal client at `url` (the lead's SEEDANCE_FAL_* names)."""
    return {
        "SEEDANCE_FAL_QUEUE_URL": url,
        "SEEDANCE_FAL_REST_URL": url,
        "SEEDANCE_FAL_CDN_URL": url,
        "FAL_KEY": FAKE_KEY,
    }


# Output -----------------------------------------------------------------------------------------


def table(entries: Sequence[Entry], title: str = "") -> str:
    lines = [title] if title else []
    lines.append(f"{'measure':<48}{'value':>11} {'unit':<6}{'baseline':>11}{'ratio':>8}  bar: met")
    for e in entries:
        base = "" if e.baseline is None else f"{e.baseline:.4g}"
        ratio = "" if e.ratio is None else f"{e.ratio:.2f}"
        mark = "-" if e.bar == NO_BAR else ("yes" if e.met else "NO")
        bar = "" if e.bar == NO_BAR else e.bar
        lines.append(
            f"{e.name:<48}{e.value:>11.4g} {e.unit:<6}{base:>11}{ratio:>8}  {bar}: {mark}".rstrip()
        )
    return "\n".join(lines)


def save(entries: Sequence[Entry], path: Path = RESULTS, *, merge: bool = True) -> None:
    """Write the entries; with `merge`, entries of other benchmarks already there are kept."""
    kept: list[dict[str, object]] = []
    if merge and path.exists():
        try:
            old = json.loads(path.read_text())
        except ValueError:
            old = []
        names = {e.name for e in entries}
        kept = [e for e in old if isinstance(e, dict) and e.get("name") not in names]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(kept + [asdict(e) for e in entries], indent=2) + "\n")


def load(path: Path) -> list[Entry]:
    return [Entry(**item) for item in json.loads(path.read_text())]


def main(run: Callable[[bool], list[Entry]], title: str) -> None:
    """The command line every benchmark script shares: `[--quick] [--out FILE]`."""
    parser = argparse.ArgumentParser(description=title)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks it still runs")
    parser.add_argument("--out", type=Path, help="write the entries here instead of latest.json")
    args = parser.parse_args()
    started = time.perf_counter()
    entries = run(args.quick)
    print(table(entries, f"{title} ({time.perf_counter() - started:.0f} s)"), flush=True)
    if args.out is not None:
        save(entries, args.out, merge=False)
    elif not args.quick:
        save(entries)
