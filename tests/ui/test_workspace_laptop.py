"""The real app, started on a fresh data folder on a 1366×768 screen (Xvfb): the window fits, it
is dark, every compose mode shows the Queue button and the estimate with no horizontal scrollbar
and no cut text, and a prompt typed straight after start is on disk two seconds later."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("laptop_app.py")
ROOT = Path(__file__).resolve().parents[2]
PROMPT = "Neon rain on a night market, slow dolly"

pytestmark = pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs xvfb-run")


def _read_line(process: subprocess.Popen[str], seconds: float) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], seconds)
    return process.stdout.readline() if ready else ""


def test_a_fresh_start_on_a_laptop_screen(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = dict(os.environ)
    env.update(SEEDANCE_HOME=str(home), SEEDANCE_SIMULATOR_INSTANT="1")
    for name in ("FAL_KEY", "QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(name, None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    command = ["xvfb-run", "-a", "-s", "-screen 0 1366x768x24", sys.executable, str(SCRIPT)]
    app = subprocess.Popen(
        [*command, PROMPT],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # xvfb-run, its Xvfb and the app: ended together below
    )
    try:
        line = _read_line(app, 120)
        assert line.strip() == "typed", line
        typed_at = time.monotonic()
        report = json.loads(_read_line(app, 60))
        time.sleep(max(0.0, 2.0 - (time.monotonic() - typed_at)))  # two seconds after typing
        drafts = list((home / "data" / "drafts").glob("*.json"))
        on_disk = any(PROMPT in d.read_text(encoding="utf-8") for d in drafts)
    finally:
        os.killpg(app.pid, signal.SIGKILL)
        app.communicate(timeout=30)

    assert report["screen"][2:] == [1366, 768]
    assert report["fits"], report
    assert report["window_lightness"] < 0.25 < 0.75 < report["text_lightness"]  # dark
    assert report["prompt_had_focus"]
    assert on_disk, drafts
    for mode, layout in report["modes"].items():
        assert layout["queue_button"] and layout["estimate"], (mode, layout)
        assert layout["status_bar"], (mode, layout)
        assert layout["tab_bar_fits"], (mode, layout)
        assert layout["horizontal_scrollbars"] == [], (mode, layout)
        assert layout["controls_outside"] == [], (mode, layout)
        assert layout["cut_text"] == [], (mode, layout)
