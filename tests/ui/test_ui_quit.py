"""Quitting with a video playing must end: a QMediaPlayer destroyed while Python holds the GIL
waits forever for its audio thread. In a child process, so a hang fails instead of stalling."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from media_factory import make_video

SCRIPT = Path(__file__).with_name("quit_while_playing.py")


def test_quitting_while_a_video_plays_ends(tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", 320, 240, seconds=3.0)
    try:
        done = subprocess.run(
            [sys.executable, str(SCRIPT), str(tmp_path / "app"), str(video)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired as hung:
        raise AssertionError(f"the window never finished closing:\n{hung.stderr}") from None
    assert done.returncode == 0, done.stderr
    assert "closed" in done.stdout
