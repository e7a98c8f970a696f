"""The queue as a table model: one row per job, newest first, testable without a window.

Rows are built from the engine's events (a job added, changed, removed; live progress), never by
reading the database while painting: a history of 10,000 jobs costs one list and a dict.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum
from operator import attrgetter
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QIcon

from seedance_desktop.engine.events import JobProgress, ProgressPhase
from seedance_desktop.engine.interface import Job, Wait
from seedance_desktop.engine.states import JobState
from seedance_desktop.ui.thumbnails import ThumbnailLoader

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
JOB_ID_ROLE = Qt.ItemDataRole.UserRole + 1
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 2  # 0–100 while bytes move, else None
# A cell's second line, for a narrow panel: the Shot's take, seed and cost; the State's running
# time and place in line.
DETAIL_ROLE = Qt.ItemDataRole.UserRole + 3


class Column(IntEnum):
    SHOT = 0
    TAKE = 1
    STATE = 2
    POSITION = 3
    ELAPSED = 4
    COST = 5


HEADERS = {
    Column.SHOT: "Shot",
    Column.TAKE: "Take",
    Column.STATE: "State",
    Column.POSITION: "Position",
    Column.ELAPSED: "Time",
    Column.COST: "Cost",
}


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def caption(prompt: str, width: int = 60) -> str:
    text = " ".join(prompt.split()) or "(no prompt)"
    return text if len(text) < width else text[: width - 2] + "…"


def clock_text(seconds: float) -> str:
    whole = max(0, int(seconds))
    return (
        f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
        if whole >= 3600
        else (f"{whole // 60}:{whole % 60:02d}")
    )


@dataclass(frozen=True)
class QueueRow:
    """What one row shows, made from the job and what is live about it."""

    job: Job
    progress: JobProgress | None = None
    wait: Wait | None = None

    @property
    def state_text(self) -> str:
        job, progress = self.job, self.progress
        label = job.state.label
        if job.state is JobState.FAILED and job.error:
            return f"Failed: {job.error}"
        if job.state is JobState.QUEUED and self.wait is not None:
            return f"{label} · {self.wait.message}"
        if progress is not None and progress.phase is ProgressPhase.WAIT and progress.message:
            return f"{label} · {progress.message}"
        percent = self.percent
        return f"{label} · {percent}%" if percent is not None else label

    @property
    def percent(self) -> int | None:
        progress = self.progress
        moving = (ProgressPhase.UPLOAD, ProgressPhase.DOWNLOAD)
        if progress is None or progress.phase not in moving or not progress.total:
            return None
        return min(100, 100 * progress.done // progress.total)

    @property
    def position_text(self) -> str:
        progress = self.progress
        if self.job.state is JobState.IN_QUEUE and progress is not None:
            ahead = progress.queue_position
            if ahead is not None:
                return f"{ordinal(ahead + 1)} in line" if ahead else "next"
        return ""

    def elapsed_text(self, now: float) -> str:
        job = self.job
        if job.state.is_final:
            end = job.finished_at or job.updated_at
            return clock_text(end - job.created_at)
        if job.submitted_at and job.state in (JobState.IN_QUEUE, JobState.IN_PROGRESS):
            return clock_text(now - job.submitted_at)
        return ""

    @property
    def cost_text(self) -> str:
        if self.job.final_cost is not None:
            return f"${self.job.final_cost:.2f}"
        return f"≈{self.job.estimate}"

    @property
    def tooltip(self) -> str:
        job = self.job
        lines = [job.prompt or "(no prompt)", f"{job.state.label} · attempt {job.attempt}"]
        if job.error:
            lines.append(job.error)
        elif self.wait is not None:
            lines.append(self.wait.message)
        if job.request_id:
            lines.append(f"fal request {job.request_id}")
        return "\n".join(lines)


class QueueModel(QAbstractTableModel):
    """Jobs newest first. Feed it with `reset`, `upsert`, `remove`, `progress` and `tick`.

    It keeps the jobs and, apart, the little that is live (progress, waits, thumbnails found);
    a row's words are made only when that row is painted."""

    def __init__(
        self,
        wait_reason: Callable[[int], Wait | None] = lambda _job_id: None,
        thumbnail: Callable[[Job], Path | None] = lambda _job: None,  # pure: no I/O
        parent: QObject | None = None,
        clock: Callable[[], float] = time.time,
        thumbnails: ThumbnailLoader | None = None,
    ) -> None:
        super().__init__(parent)
        self._wait_reason = wait_reason
        self._thumbnail = thumbnail
        self._clock = clock
        self._loader = thumbnails
        if thumbnails is not None:
            thumbnails.loaded.connect(self._thumbnail_loaded)
        self._jobs: list[Job] = []  # newest first
        self._rows_by_id: dict[int, int] | None = {}  # job id -> row; made when first needed
        self._progress: dict[int, JobProgress] = {}  # live, for jobs in the state it came in
        self._waits: dict[int, Wait] = {}  # queued jobs only
        self._thumbnails: dict[int, str | None] = {}  # job id -> its thumbnail, looked up once
        self.mode_icons: dict[object, QIcon] = {}

    # Feeding -----------------------------------------------------------------------------------

    def bind(
        self, wait_reason: Callable[[int], Wait | None], thumbnail: Callable[[Job], Path | None]
    ) -> None:
        """Where rows learn a queued job's wait and a finished job's thumbnail path."""
        self._wait_reason = wait_reason
        self._thumbnail = thumbnail

    def reset(self, jobs: Iterable[Job]) -> None:
        self.beginResetModel()
        self._jobs = sorted(jobs, key=_NEWEST_FIRST, reverse=True)
        self._progress.clear()
        self._thumbnails.clear()
        self._waits = {
            job.id: wait
            for job in self._jobs
            if job.state is JobState.QUEUED and (wait := self._wait_reason(job.id)) is not None
        }
        self._reindex()
        self.endResetModel()

    def upsert(self, job: Job) -> None:
        row = self._index().get(job.id)
        if row is None:
            self.beginInsertRows(_ROOT, 0, 0)
            self._jobs.insert(0, job)
            self._reindex()
            self._note_wait(job)
            self.endInsertRows()
            return
        if self._jobs[row].state is not job.state:
            self._progress.pop(job.id, None)
            self._thumbnails.pop(job.id, None)
        self._jobs[row] = job
        self._note_wait(job)
        self._row_changed(row)

    def remove(self, job_id: int) -> None:
        row = self._index().get(job_id)
        if row is None:
            return
        self.beginRemoveRows(_ROOT, row, row)
        del self._jobs[row]
        for live in (self._progress, self._waits, self._thumbnails):
            live.pop(job_id, None)
        self._reindex()
        self.endRemoveRows()

    def progress(self, progress: JobProgress) -> None:
        row = self._index().get(progress.job_id)
        if row is None:
            return
        self._progress[progress.job_id] = progress
        if progress.phase is ProgressPhase.WAIT:
            self._note_wait(self._jobs[row])
        self._row_changed(row)

    def refresh_waits(self) -> None:
        """Queued jobs' wait reasons changed (a pause, the budget, the network)."""
        for row, job in enumerate(self._jobs):
            if job.state is JobState.QUEUED:
                before = self._waits.get(job.id)
                if self._note_wait(job) != before:
                    self._row_changed(row)

    def tick(self) -> None:
        """A second went by: running jobs' elapsed time moves."""
        for row, job in enumerate(self._jobs):
            if job.state in (JobState.IN_QUEUE, JobState.IN_PROGRESS):
                for column in (Column.STATE, Column.ELAPSED):  # the State cell shows it too
                    index = self.index(row, column)
                    self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole])

    # Reading -----------------------------------------------------------------------------------

    def row_of(self, job_id: int) -> int | None:
        return self._index().get(job_id)

    def row_at(self, row: int) -> QueueRow | None:
        if not 0 <= row < len(self._jobs):
            return None
        job = self._jobs[row]
        return QueueRow(job, self._progress.get(job.id), self._waits.get(job.id))

    def job_at(self, row: int) -> Job | None:
        return self._jobs[row] if 0 <= row < len(self._jobs) else None

    def jobs(self) -> list[Job]:
        return list(self._jobs)

    # Qt's model API ----------------------------------------------------------------------------

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._jobs)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        item = self.row_at(index.row()) if index.isValid() else None
        if item is None:
            return None
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(item, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return item.tooltip
        if role == Qt.ItemDataRole.DecorationRole and column is Column.SHOT:
            return self._icon(item.job)
        if role == JOB_ID_ROLE:
            return item.job.id
        if role == PROGRESS_ROLE and column is Column.STATE:
            return item.percent
        if role == DETAIL_ROLE:
            return self._detail(item, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column is Column.COST:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _text(self, item: QueueRow, column: Column) -> str:
        if column is Column.SHOT:
            return caption(item.job.prompt)
        if column is Column.TAKE:
            return item.job.variation_label or ""
        if column is Column.STATE:
            return item.state_text
        if column is Column.POSITION:
            return item.position_text
        if column is Column.ELAPSED:
            return item.elapsed_text(self._clock())
        return item.cost_text

    def _detail(self, item: QueueRow, column: Column) -> str:
        if column is Column.SHOT:
            parts = [item.job.variation_label or "", item.cost_text]
        elif column is Column.STATE:
            parts = [item.elapsed_text(self._clock()), item.position_text]
        else:
            return ""
        return " · ".join(part for part in parts if part)

    # Internals ---------------------------------------------------------------------------------

    def _note_wait(self, job: Job) -> Wait | None:
        wait = self._wait_reason(job.id) if job.state is JobState.QUEUED else None
        if wait is None:
            self._waits.pop(job.id, None)
        else:
            self._waits[job.id] = wait
        return wait

    def _icon(self, job: Job) -> QIcon | None:
        """A finished job's thumbnail (its path found once, the picture read off the UI thread
        when first painted), else the mode's icon."""
        if job.state is JobState.DONE and self._loader is not None:
            if job.id not in self._thumbnails:
                path = self._thumbnail(job)
                self._thumbnails[job.id] = str(path) if path is not None else None
            path_text = self._thumbnails[job.id]
            icon = self._loader.icon(path_text) if path_text is not None else None
            if icon is not None:
                return icon
        return self.mode_icons.get(job.shot.mode)

    def _thumbnail_loaded(self, path: str) -> None:
        for job_id, wanted in self._thumbnails.items():
            row = self._index().get(job_id)
            if wanted == path and row is not None:
                index = self.index(row, Column.SHOT)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def _reindex(self) -> None:
        self._rows_by_id = None  # made again on first use: not on the way to the first paint

    def _index(self) -> dict[int, int]:
        if self._rows_by_id is None:
            self._rows_by_id = {job.id: row for row, job in enumerate(self._jobs)}
        return self._rows_by_id

    def _row_changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1))


_NEWEST_FIRST = attrgetter("created_at")  # with reverse=True
