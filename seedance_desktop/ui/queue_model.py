"""The queue as a table model: one row per job, newest first, testable without a window.

Rows are built from the engine's events (a job added, changed, removed; live progress), never by
reading the database while painting: a history of 10,000 jobs costs one list and a dict.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import IntEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QIcon

from seedance_desktop.engine.events import JobProgress, ProgressPhase
from seedance_desktop.engine.interface import Job, Wait
from seedance_desktop.engine.states import JobState

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
    """What one row shows; rebuilt from events only."""

    job: Job
    progress: JobProgress | None = None
    wait: Wait | None = None
    thumbnail: Path | None = None

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
    """Jobs newest first. Feed it with `reset`, `upsert`, `remove`, `progress` and `tick`."""

    def __init__(
        self,
        wait_reason: Callable[[int], Wait | None] = lambda _job_id: None,
        thumbnail: Callable[[Job], Path | None] = lambda _job: None,  # pure: no I/O
        parent: QObject | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        self._wait_reason = wait_reason
        self._thumbnail = thumbnail
        self._clock = clock
        self._rows: list[QueueRow] = []  # newest first
        self._index: dict[int, int] = {}  # job id -> row
        self._icons: dict[Path, QIcon | None] = {}
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
        self._rows = [self._row_for(job, None) for job in sorted(jobs, key=_newest_first)]
        self._reindex()
        self.endResetModel()

    def upsert(self, job: Job) -> None:
        row = self._index.get(job.id)
        if row is None:
            self.beginInsertRows(_ROOT, 0, 0)
            self._rows.insert(0, self._row_for(job, None))
            self._reindex()
            self.endInsertRows()
            return
        old = self._rows[row]
        progress = old.progress if old.job.state is job.state else None
        thumbnail = old.thumbnail if old.job.state is job.state else None
        self._rows[row] = self._row_for(job, progress, thumbnail)
        self._row_changed(row)

    def remove(self, job_id: int) -> None:
        row = self._index.get(job_id)
        if row is None:
            return
        self.beginRemoveRows(_ROOT, row, row)
        del self._rows[row]
        self._reindex()
        self.endRemoveRows()

    def progress(self, progress: JobProgress) -> None:
        row = self._index.get(progress.job_id)
        if row is None:
            return
        old = self._rows[row]
        wait = self._wait_reason(old.job.id) if progress.phase is ProgressPhase.WAIT else old.wait
        self._rows[row] = replace(old, progress=progress, wait=wait)
        self._row_changed(row)

    def refresh_waits(self) -> None:
        """Queued jobs' wait reasons changed (a pause, the budget, the network)."""
        for row, item in enumerate(self._rows):
            if item.job.state is JobState.QUEUED:
                wait = self._wait_reason(item.job.id)
                if wait != item.wait:
                    self._rows[row] = replace(item, wait=wait)
                    self._row_changed(row)

    def tick(self) -> None:
        """A second went by: running jobs' elapsed time moves."""
        for row, item in enumerate(self._rows):
            if item.job.state in (JobState.IN_QUEUE, JobState.IN_PROGRESS):
                for column in (Column.STATE, Column.ELAPSED):  # the State cell shows it too
                    index = self.index(row, column)
                    self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole])

    # Reading -----------------------------------------------------------------------------------

    def row_of(self, job_id: int) -> int | None:
        return self._index.get(job_id)

    def row_at(self, row: int) -> QueueRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def job_at(self, row: int) -> Job | None:
        item = self.row_at(row)
        return item.job if item else None

    def jobs(self) -> list[Job]:
        return [item.job for item in self._rows]

    # Qt's model API ----------------------------------------------------------------------------

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

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
            return self._icon(item)
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

    def _row_for(
        self, job: Job, progress: JobProgress | None, thumbnail: Path | None = None
    ) -> QueueRow:
        wait = self._wait_reason(job.id) if job.state is JobState.QUEUED else None
        if job.state is JobState.DONE and thumbnail is None:
            thumbnail = self._thumbnail(job)
        return QueueRow(job, progress, wait, thumbnail)

    def _icon(self, item: QueueRow) -> QIcon | None:
        """The result's thumbnail once it exists (looked for once, when first painted), else
        the mode's icon."""
        path = item.thumbnail
        if path is not None:
            if path not in self._icons:
                self._icons[path] = QIcon(str(path)) if path.exists() else None
            icon = self._icons[path]
            if icon is not None:
                return icon
        return self.mode_icons.get(item.job.shot.mode)

    def _reindex(self) -> None:
        self._index = {item.job.id: row for row, item in enumerate(self._rows)}

    def _row_changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1))


def _newest_first(job: Job) -> tuple[float, int]:
    return (-job.created_at, -job.id)
