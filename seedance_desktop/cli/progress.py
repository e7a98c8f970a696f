"""Live job progress on a terminal: one line per change, calm and readable."""

from __future__ import annotations

import sys
from typing import TextIO

from seedance_desktop.engine.events import (
    ConnectivityChanged,
    Event,
    JobChanged,
    JobProgress,
    ProgressPhase,
    QueueChanged,
)


def _percent(done: int, total: int | None) -> str:
    return f"{100 * done // total // 10 * 10}%" if total else f"{done // 10_000_000 * 10} MB"


class ProgressPrinter:
    """An engine event subscriber that prints what a person wants to see."""

    def __init__(self, out: TextIO | None = None, *, job_ids: set[int] | None = None) -> None:
        self.out = out or sys.stderr
        self.job_ids = job_ids
        self._last: dict[int, str] = {}

    def __call__(self, event: Event) -> None:
        line = self._line(event)
        if line is None:
            return
        found = getattr(event, "job_id", None) or getattr(getattr(event, "job", None), "id", 0)
        key = found if isinstance(found, int) else 0
        if self._last.get(key) == line:
            return
        self._last[key] = line
        self.out.write(line + "\n")
        self.out.flush()

    def _wanted(self, job_id: int) -> bool:
        return self.job_ids is None or job_id in self.job_ids

    def _line(self, event: Event) -> str | None:
        if isinstance(event, ConnectivityChanged):
            if event.online:
                return "Online again; queued work goes on."
            return f"Offline ({event.reason}); waiting for the network."
        if isinstance(event, QueueChanged):
            return "Queue paused." if event.paused else None
        if isinstance(event, JobChanged) and self._wanted(event.job.id):
            job = event.job
            extra = f": {job.error}" if job.error and job.state.value == "failed" else ""
            request = f" (request {job.request_id})" if job.request_id else ""
            return f"[job {job.id}] {job.state.label}{request}{extra}"
        if isinstance(event, JobProgress) and self._wanted(event.job_id):
            prefix = f"[job {event.job_id}]"
            if event.phase is ProgressPhase.QUEUE and event.queue_position is not None:
                return f"{prefix} Waiting at fal, position {event.queue_position}"
            if event.phase in (ProgressPhase.UPLOAD, ProgressPhase.DOWNLOAD) and event.total:
                return f"{prefix} {event.phase.capitalize()}ing {_percent(event.done, event.total)}"
            if event.message:
                return f"{prefix} {event.message}"
        return None
