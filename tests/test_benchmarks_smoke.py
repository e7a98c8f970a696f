"""The benchmark scripts cannot rot silently: each imports, exposes `run(quick)`, and the
cheapest ones run end to end in their tiny --quick mode, writing entries of the agreed shape."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
MODULES = (
    "bench_startup",
    "bench_responsiveness",
    "bench_queue_overhead",
    "bench_transfers",
    "bench_library_scale",
    "bench_memory",
    "bench_sequence_export",
    "run_all",
)
SHAPE = {"name", "value", "unit", "baseline", "ratio", "bar", "met"}


def test_benchmarks_import_and_the_cheapest_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    for name in MODULES:
        module = importlib.import_module(name)
        assert callable(getattr(module, "run", None) or getattr(module, "main", None)), name
    assert set(importlib.import_module("run_all").BENCHMARKS) == set(MODULES) - {"run_all"}

    out = tmp_path / "entries.json"
    finished = subprocess.run(
        [sys.executable, str(BENCH / "run_all.py"), "--quick", "--only", "bench_startup",
         "bench_transfers"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stdout[-2000:] + finished.stderr[-2000:]
    assert "transfers: 20 MB download" in finished.stdout

    finished = subprocess.run(
        [sys.executable, str(BENCH / "bench_startup.py"), "--quick", "--out", str(out)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-2000:]
    entries = json.loads(out.read_text())
    assert entries and all(set(e) == SHAPE for e in entries)
    painted = next(e for e in entries if e["name"] == "start-up: app window painted")
    assert 0 < painted["value"] < 30 and painted["baseline"] > 0
    assert painted["ratio"] == pytest.approx(painted["value"] / painted["baseline"], rel=0.01)
    assert isinstance(painted["met"], bool)
