"""Engine events: a Qt-free way to observe everything the engine does.

Subscribers are plain callables run synchronously on the engine's loop, in subscription order; a
subscriber that raises is logged and does not stop the others. Progress is throttled per job, so
hundreds of jobs cost little.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seedance_desktop.engine.jobs import Job
    from seedance_desktop.engine.spend import SpendTotals

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobAdded:
    job: Job


@dataclass(frozen=True)
class JobChanged:
    job: Job


@dataclass(frozen=True)
class JobRemoved:
    job_id: int


class ProgressPhase(StrEnum):
    UPLOAD = "upload"  # bytes of the references sent
    QUEUE = "queue"  # the place in fal's queue
    RUN = "run"  # a log line while fal generates
    DOWNLOAD = "download"  # bytes of the video received
    WAIT = "wait"  # why a queued job is held (the message)


@dataclass(frozen=True)
class JobProgress:
    """Live, not persisted: upload/download bytes, queue position, log lines."""

    job_id: int
    phase: ProgressPhase
    done: int = 0
    total: int | None = None
    queue_position: int | None = None
    message: str | None = None


@dataclass(frozen=True)
class ConnectivityChanged:
    online: bool
    reason: str | None = None


@dataclass(frozen=True)
class QueueChanged:
    """The queue was paused, resumed or reordered."""

    paused: bool


@dataclass(frozen=True)
class SpendChanged:
    totals: SpendTotals


@dataclass(frozen=True)
class LibraryChanged:
    job_id: int | None = None


@dataclass(frozen=True)
class SequencesChanged:
    """A sequence was made, renamed, deleted, or its shots changed (None: several)."""

    sequence_id: int | None = None


Event = (
    JobAdded
    | JobChanged
    | JobRemoved
    | JobProgress
    | ConnectivityChanged
    | QueueChanged
    | SpendChanged
    | LibraryChanged
    | SequencesChanged
)
Subscriber = Callable[[Event], None]


class EventBus:
    def __init__(self, progress_interval_s: float = 0.1) -> None:
        self._subscribers: list[Subscriber] = []
        self._progress_interval = progress_interval_s
        self._last_progress: dict[tuple[int, str], float] = {}

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns a function that removes it."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def emit(self, event: Event) -> None:
        if isinstance(event, JobProgress) and not self._progress_due(event):
            return
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:
                log.exception("an event subscriber failed on %s", type(event).__name__)

    def _progress_due(self, event: JobProgress) -> bool:
        finished = event.total is not None and event.done >= event.total
        key = (event.job_id, event.phase)
        now = time.monotonic()
        routine = not finished and event.message is None and event.queue_position is None
        if routine and now - self._last_progress.get(key, 0.0) < self._progress_interval:
            return False
        self._last_progress[key] = now
        return True
