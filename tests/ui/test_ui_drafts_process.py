"""Never lose work: a prompt typed into the real app is on disk two seconds later, survives a
SIGKILL, and is back in its tab at the next start. Two real processes of the real app."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

SCRIPT = Path(__file__).with_name("draft_app.py")
ROOT = Path(__file__).resolve().parents[2]
PROMPT = "A heron lifts off a misty lake at dawn"


def _environment(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(SEEDANCE_HOME=str(home), QT_QPA_PLATFORM="offscreen", SEEDANCE_SIMULATOR_INSTANT="1")
    env.pop("FAL_KEY", None)
    # this checkout's code, not whatever copy the virtualenv has installed
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def test_a_typed_prompt_survives_a_kill_and_comes_back(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = _environment(home)
    typing = subprocess.Popen(
        [sys.executable, str(SCRIPT), "type", PROMPT],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert typing.stdout is not None
        ready, _, _ = select.select([typing.stdout], [], [], 90)
        assert ready, "the app never typed the prompt"
        line = typing.stdout.readline()  # "typed" (or nothing, if the app died)
        assert line.strip() == "typed", typing.stderr.read() if typing.stderr else ""
        time.sleep(2.0)  # the person waits two seconds, then the process is killed
    finally:
        typing.send_signal(signal.SIGKILL)
        _, errors = typing.communicate(timeout=30)
    assert typing.returncode == -signal.SIGKILL, errors

    drafts = list((home / "data" / "drafts").glob("*.json"))
    assert any(PROMPT in d.read_text(encoding="utf-8") for d in drafts), drafts

    shown = subprocess.run(
        [sys.executable, str(SCRIPT), "show"],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout.strip().splitlines()[-1])
    assert report["prompts"][report["current"]] == PROMPT
