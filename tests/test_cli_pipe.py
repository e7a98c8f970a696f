"""A command whose output goes to a reader that stops early (`... | head`) ends quietly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from library_rows import library_row

from seedance_desktop.engine.database import Database
from seedance_desktop.engine.library import Library
from seedance_desktop.paths import AppPaths


def _fill_library(home: Path, count: int) -> None:
    paths = AppPaths(home / "data", home / "cache", home / "config", home / "logs").ensure()
    db = Database.open(paths.database)
    library = Library(db)
    with db.transaction() as tx:
        for job_id in range(1, count + 1):
            prompt = f"Shot {job_id}: a lantern drifts over a dark lake, slow dolly in " * 3
            library.add(tx, library_row(job_id, prompt, cost=0.5, width=864, height=496,
                                        duration_s=4.0, size_bytes=1000))  # fmt: skip
    db.close()


def test_library_list_into_a_reader_that_closes_early_ends_quietly(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _fill_library(home, 3000)  # far more JSON than a pipe buffer holds
    env = {**os.environ, "SEEDANCE_HOME": str(home)}
    process = subprocess.Popen(
        [sys.executable, "-m", "seedance_desktop", "library", "list", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.read(4096)  # like `head -c 4096`: take a little, then close
    process.stdout.close()
    errors = process.stderr.read().decode("utf-8", "replace")
    code = process.wait(timeout=60)
    assert first.startswith(b"[")
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors
    assert errors == ""
    assert code == 0
