"""Quitting while a fit runs: the fit stops (its thread would otherwise hold the process until
the encode ends) and leaves nothing behind. In a child process, as quitting really happens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from media_factory import make_video

SCRIPT = Path(__file__).with_name("quit_while_fitting.py")


def test_quitting_while_fitting_stops_the_fit_and_keeps_nothing(tmp_path: Path) -> None:
    clip = make_video(tmp_path / "long.mp4", 1920, 1080, seconds=40, fps=8, keyframe_every=16)
    root = tmp_path / "app"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(root), str(clip)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "quit" in done.stdout
    fitted = root / "data" / "fitted"
    assert not fitted.exists() or not any(fitted.iterdir())  # stopped, and nothing half-written
