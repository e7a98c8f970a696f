"""Named points where a test can kill the engine's process, to prove that nothing is lost.

`SEEDANCE_CRASH_AT=after_submit` makes the process SIGKILL itself the first time it reaches that
point: no cleanup, no flush, exactly like a power cut or the OOM killer. Unset, a point costs one
dictionary lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "SEEDANCE_CRASH_AT"
POINTS = frozenset(
    {
        "during_upload",
        "before_submit",
        "after_submit",
        "in_queue",
        "mid_download",
        "before_library_write",
        "after_library_write",
    }
)


def crash_point(name: str) -> None:
    if name not in POINTS:  # a misspelt point would never fire, and its crash test prove nothing
        raise ValueError(f"unknown crash point {name!r}")
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
