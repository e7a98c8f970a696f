"""The queue panel: every job with its state and live progress, the actions on it, the offline
and blocked banners, pause/resume, spend, and notifications when work finishes."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QSystemTrayIcon,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.engine.events import JobProgress
from seedance_desktop.engine.jobs import Job
from seedance_desktop.engine.states import JobState
from seedance_desktop.ui.bridge import EngineBridge
from seedance_desktop.ui.tasks import TaskRunner

_ACTIVE_AT_FAL = (JobState.IN_QUEUE, JobState.IN_PROGRESS, JobState.CANCEL_REQUESTED)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def progress_text(job: Job, progress: JobProgress | None, now: float) -> str:
    """What the state column says: the state plus whatever live detail is known."""
    label = job.state.label
    if job.state is JobState.FAILED and job.error:
        return f"Failed: {job.error}"
    if progress is None:
        return label
    if progress.phase in ("upload", "download") and progress.total:
        return f"{label} · {100 * progress.done // progress.total}%"
    if progress.phase == "queue" and progress.queue_position is not None:
        ahead = progress.queue_position
        return f"{label} · {ordinal(ahead + 1)} in line" if ahead else f"{label} · next"
    if job.state is JobState.IN_PROGRESS and job.submitted_at:
        seconds = int(now - job.submitted_at)
        return f"{label} · {seconds // 60}:{seconds % 60:02d}"
    if progress.phase == "wait" and progress.message:
        return f"{label} · {progress.message}"
    return label


class Notifier:
    """Desktop notifications when jobs finish or fail and when the queue is done; records what
    it showed (tests, and a calm record when no system tray exists)."""

    def __init__(self, parent: QWidget) -> None:
        self.enabled = True
        self.shown: list[tuple[str, str]] = []
        self._tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            icon = parent.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay)
            self._tray = QSystemTrayIcon(icon, parent)
            self._tray.show()

    def notify(self, title: str, text: str) -> None:
        if not self.enabled:
            return
        self.shown.append((title, text))
        if self._tray is not None:
            self._tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 5000)


class QueuePanel(QWidget):
    openResult = Signal(int)

    def __init__(self, bridge: EngineBridge, tasks: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.bridge = bridge
        self.tasks = tasks
        self.engine: Any = None
        self.jobs: dict[int, Job] = {}
        self.progress: dict[int, JobProgress] = {}
        self.items: dict[int, QTreeWidgetItem] = {}
        self.notifier = Notifier(self)
        self._busy_before = False

        self.offline_banner = QLabel(
            "Offline — queued jobs will go out by themselves when the network returns."
        )
        self.blocked_banner = QLabel("")
        for banner in (self.offline_banner, self.blocked_banner):
            banner.setWordWrap(True)
            banner.setStyleSheet("background:#fff4ce; padding:6px; border-radius:4px;")
            banner.setVisible(False)
        self.pause_button = QPushButton("Pause queue")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._toggle_pause)
        self.spend = QLabel("")
        self.spend.setObjectName("spend")
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Job", "State", "Cost"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAccessibleName("Jobs")
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu)
        self.tree.itemActivated.connect(lambda item, _c: self._open(self._id(item)))
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.tree.setColumnWidth(0, 190)
        self.tree.setColumnWidth(1, 160)

        self.actions: dict[str, QAction] = {}
        buttons = QHBoxLayout()
        for key, text, shortcut, slot in (
            ("cancel", "Cancel", "Ctrl+.", self._cancel),
            ("retry", "Retry", "Ctrl+R", self._retry),
            ("remove", "Remove", "Delete", self._remove),
            ("open", "Open", None, lambda: self._open(self._current())),
            ("logs", "Logs", "Ctrl+L", self._logs),
            ("resubmit", "Resubmit", None, lambda: self._resolve("resubmit")),
            ("drop", "Drop", None, lambda: self._resolve("drop")),
        ):
            action = QAction(text, self)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
                action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(slot)
            self.addAction(action)
            self.actions[key] = action
            if key in ("cancel", "retry", "remove", "logs"):
                button = QPushButton(text)
                button.clicked.connect(action.trigger)
                action.changed.connect(lambda b=button, a=action: b.setEnabled(a.isEnabled()))
                buttons.addWidget(button)
        top = QHBoxLayout()
        top.addWidget(QLabel("<b>Queue</b>"))
        top.addStretch(1)
        top.addWidget(self.pause_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.offline_banner)
        layout.addWidget(self.blocked_banner)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.spend)
        self._clock = QTimer(self, interval=1000)
        self._clock.timeout.connect(self._tick)
        self._update_buttons()

    # Wiring ------------------------------------------------------------------------------------

    def attach(self, engine: Any) -> None:
        self.engine = engine
        for job in engine.jobs.all():
            self._upsert(job)
        self.bridge.jobAdded.connect(self._upsert)
        self.bridge.jobChanged.connect(self._changed)
        self.bridge.jobRemoved.connect(self._removed)
        self.bridge.jobProgress.connect(self._progressed)
        self.bridge.connectivityChanged.connect(self._connectivity)
        self.bridge.queueChanged.connect(self._queue_changed)
        self.bridge.spendChanged.connect(self._spend)
        self.pause_button.setChecked(engine.settings.paused)
        self._spend(engine.spend())
        self._queue_changed(engine.settings.paused)
        self._clock.start()

    # Rows --------------------------------------------------------------------------------------

    def _icon(self, job: Job) -> QIcon:
        icons = {
            Mode.TEXT_TO_VIDEO: QStyle.StandardPixmap.SP_FileDialogDetailedView,
            Mode.IMAGE_TO_VIDEO: QStyle.StandardPixmap.SP_DirIcon,
            Mode.REFERENCE_TO_VIDEO: QStyle.StandardPixmap.SP_FileDialogContentsView,
        }
        if job.state is JobState.DONE and self.engine is not None:
            entry = self.engine.library.get(job.id)
            if entry is not None and entry.thumbnail is not None:
                return QIcon(str(entry.thumbnail))
        return self.style().standardIcon(icons[job.shot.mode])

    def _upsert(self, job: Job) -> None:
        self.jobs[job.id] = job
        item = self.items.get(job.id)
        if item is None:
            item = QTreeWidgetItem()
            item.setData(0, Qt.ItemDataRole.UserRole, job.id)
            self.items[job.id] = item
            self.tree.insertTopLevelItem(0, item)  # newest at the top
        prompt = " ".join(job.prompt.split()) or "(no prompt)"
        item.setText(0, prompt if len(prompt) < 60 else prompt[:58] + "…")
        item.setToolTip(0, job.prompt)
        item.setIcon(0, self._icon(job))
        item.setText(1, progress_text(job, self.progress.get(job.id), time.time()))
        item.setToolTip(
            1, job.error or (self.engine.wait_reason(job.id) if self.engine else "") or ""
        )
        cost = job.final_cost
        item.setText(2, f"${cost:.2f}" if cost is not None else f"≈{job.estimate}")
        self._update_buttons()

    def _changed(self, job: Job) -> None:
        previous = self.jobs.get(job.id)
        if job.state is not (previous.state if previous else None):
            self.progress.pop(job.id, None)
            if job.state is JobState.DONE:
                self.notifier.notify("Video ready", job.prompt[:80])
            elif job.state is JobState.FAILED:
                self.notifier.notify("Job failed", job.error or job.prompt[:80])
        self._upsert(job)
        self._check_queue_done()

    def _removed(self, job_id: int) -> None:
        self.jobs.pop(job_id, None)
        item = self.items.pop(job_id, None)
        if item is not None:
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))

    def _progressed(self, progress: JobProgress) -> None:
        self.progress[progress.job_id] = progress
        job = self.jobs.get(progress.job_id)
        item = self.items.get(progress.job_id)
        if job is not None and item is not None:
            item.setText(1, progress_text(job, progress, time.time()))

    def _tick(self) -> None:
        now = time.time()
        for job_id, job in self.jobs.items():
            if job.state is JobState.IN_PROGRESS:
                self.items[job_id].setText(1, progress_text(job, self.progress.get(job_id), now))

    def _check_queue_done(self) -> None:
        busy = any(
            not j.state.is_final and j.state is not JobState.UNKNOWN_SUBMISSION
            for j in self.jobs.values()
        )
        if self._busy_before and not busy:
            self.notifier.notify("Queue done", "Every queued job has finished.")
        self._busy_before = busy

    # Banners and totals ------------------------------------------------------------------------

    def _connectivity(self, online: bool, reason: str) -> None:
        self.offline_banner.setVisible(not online)
        if not online and reason:
            self.offline_banner.setToolTip(reason)

    def _queue_changed(self, paused: bool) -> None:
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(paused)
        self.pause_button.setText("Resume queue" if paused else "Pause queue")
        self.pause_button.blockSignals(False)
        block = self.engine.queue_block if self.engine is not None else None
        self.blocked_banner.setText(f"The queue is held: {block}" if block else "")
        self.blocked_banner.setVisible(bool(block))

    def _spend(self, totals: Any) -> None:
        text = f"Spent today ${totals.today_usd:.2f} · this month ${totals.month_usd:.2f}"
        if totals.budget_left_usd is not None:
            text += f" · budget left ${max(totals.budget_left_usd, 0):.2f}"
        self.spend.setText(text + " (estimates)")

    def _toggle_pause(self, paused: bool) -> None:
        if self.engine is None:
            return
        if paused:
            self.engine.pause()
        else:
            self.engine.resume()

    # Actions -----------------------------------------------------------------------------------

    @staticmethod
    def _id(item: QTreeWidgetItem | None) -> int | None:
        return None if item is None else int(item.data(0, Qt.ItemDataRole.UserRole))

    def _current(self) -> int | None:
        return self._id(self.tree.currentItem())

    def _current_job(self) -> Job | None:
        job_id = self._current()
        return self.jobs.get(job_id) if job_id is not None else None

    def _update_buttons(self) -> None:
        job = self._current_job()
        state = job.state if job else None
        enabled = {
            "cancel": state is not None and not state.is_final
            and state not in (JobState.FETCHING, JobState.DOWNLOADING),
            "retry": state in (JobState.FAILED, JobState.CANCELLED),
            "remove": state is not None
            and (state.is_final or state is JobState.UNKNOWN_SUBMISSION),
            "open": state is JobState.DONE,
            "logs": job is not None,
            "resubmit": state is JobState.UNKNOWN_SUBMISSION,
            "drop": state is JobState.UNKNOWN_SUBMISSION,
        }  # fmt: skip
        for key, action in self.actions.items():
            action.setEnabled(bool(enabled[key]))

    def _run(self, coroutine: Any, what: str) -> None:
        from seedance_desktop.engine.engine import ActionRefused

        async def guarded() -> None:
            try:
                await coroutine
            except ActionRefused as exc:
                self._tell(str(exc))

        self.tasks.run(guarded(), what)

    def _tell(self, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Queue", text, parent=self)
        box.open()
        self._message = box

    def _cancel(self) -> None:
        job = self._current_job()
        if job is None or self.engine is None:
            return
        if job.state in _ACTIVE_AT_FAL:
            box = QMessageBox(
                QMessageBox.Icon.Question,
                "Cancel this job?",
                "fal is already working on it: it may finish anyway and still be billed. "
                "Ask fal to cancel?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                self,
            )
            box.accepted.connect(lambda: self._run(self.engine.cancel(job.id), "Cancelling"))
            box.open()
            self._message = box
            return
        self._run(self.engine.cancel(job.id), "Cancelling")

    def _retry(self) -> None:
        job = self._current_job()
        if job is not None and self.engine is not None:
            self._run(self.engine.retry(job.id), "Retrying")

    def _remove(self) -> None:
        job = self._current_job()
        if job is not None and self.engine is not None:
            self._run(self.engine.remove(job.id), "Removing")

    def _resolve(self, decision: str) -> None:
        job = self._current_job()
        if job is None or self.engine is None:
            return
        if decision == "resubmit":
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                "Resubmit?",
                "fal may already have this request. Resubmitting can mean paying twice. Check "
                "your fal dashboard's request history first if you can.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                self,
            )
            box.accepted.connect(
                lambda: self._run(self.engine.resolve_unknown(job.id, "resubmit"), "Resubmitting")
            )
            box.open()
            self._message = box
            return
        self._run(self.engine.resolve_unknown(job.id, decision), "Dropping")

    def _open(self, job_id: int | None) -> None:
        if (
            job_id is not None
            and self.jobs.get(job_id)
            and self.jobs[job_id].state is JobState.DONE
        ):
            self.openResult.emit(job_id)

    def _logs(self) -> None:
        job_id = self._current()
        if job_id is None or self.engine is None:
            return
        dialog = QDialog(self)
        dialog.setWindowTitle(f"Job {job_id}: history and logs")
        text = QPlainTextEdit()
        text.setReadOnly(True)
        lines = [
            f"{time.strftime('%H:%M:%S', time.localtime(h.at))}  attempt {h.attempt}  "
            f"{h.state.label}{': ' + h.detail if h.detail else ''}"
            for h in self.engine.jobs.history(job_id)
        ]
        lines.append("")
        lines += [f"[{line.level}] {line.message}" for line in self.engine.jobs.logs(job_id)]
        text.setPlainText("\n".join(lines))
        QVBoxLayout(dialog).addWidget(text)
        dialog.resize(640, 420)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.logs_dialog = dialog

    def _menu(self, position: Any) -> None:
        menu = QMenu(self)
        for action in self.actions.values():
            if action.isEnabled():
                menu.addAction(action)
        menu.popup(self.tree.viewport().mapToGlobal(position))
