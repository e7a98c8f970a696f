"""Running the real command line in a child process, pointed at a fal-compatible server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from engine_fixtures import TEST_KEY


def run_cli(
    home: Path, url: str, *args: str, timeout: float = 180, crash_at: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`seedance-desktop ARGS` with its own SEEDANCE_HOME, a key, and every fal base at `url`;
    `crash_at` names an engine crash point where the process kills itself."""
    env = {
        **os.environ,
        "SEEDANCE_HOME": str(home),
        "SEEDANCE_FAL_QUEUE_URL": url,
        "SEEDANCE_FAL_REST_URL": url,
        "SEEDANCE_FAL_CDN_URL": url,
        "FAL_KEY": TEST_KEY,
    }
    env.pop("SEEDANCE_CRASH_AT", None)
    if crash_at:
        env["SEEDANCE_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-m", "seedance_desktop", *args],
        capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
