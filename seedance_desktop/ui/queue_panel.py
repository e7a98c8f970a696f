"""The queue panel: every job with its state and live progress, the actions on it, the offline
and blocked banners, pause/resume, and notifications when work finishes.

Rows come from `QueueModel`; which actions apply comes from the engine's actions table."""

from __future__ import annotations

import time

from PySide6.QtCore import QModelIndex, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QSystemTrayIcon,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.engine.actions import ACTIONS, JobAction, confirmation
from seedance_desktop.engine.interface import (
    ActionRefused,
    EngineInterface,
    Job,
)
from seedance_desktop.engine.states import JobState
from seedance_desktop.ui.bridge import EngineBridge
from seedance_desktop.ui.progress_delegate import ProgressDelegate
from seedance_desktop.ui.queue_model import JOB_ID_ROLE, Column, QueueModel
from seedance_desktop.ui.result_drag import ResultDragSource
from seedance_desktop.ui.tasks import TaskRunner
from seedance_desktop.ui.thumbnails import ThumbnailLoader

THUMB = QSize(64, 36)
_SHORTCUTS = {
    JobAction.CANCEL: "Ctrl+.",
    JobAction.RETRY: "Ctrl+R",
    JobAction.REMOVE: "Delete",
}


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
        self.engine: EngineInterface | None = None
        self.notifier = Notifier(self)
        self._busy_before = False
        loader = ThumbnailLoader(tasks, THUMB, capacity=400, parent=self)
        self.model = QueueModel(parent=self, thumbnails=loader)
        style = self.style()
        self.model.mode_icons = {
            Mode.TEXT_TO_VIDEO: style.standardIcon(QStyle.StandardPixmap.SP_FileDialogDetailedView),
            Mode.IMAGE_TO_VIDEO: style.standardIcon(QStyle.StandardPixmap.SP_DirIcon),
            Mode.REFERENCE_TO_VIDEO: style.standardIcon(
                QStyle.StandardPixmap.SP_FileDialogContentsView
            ),
        }

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
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Jobs")
        ResultDragSource(self.table, JOB_ID_ROLE)  # finished jobs drag onto the sequence strip
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(THUMB.height() + 12)
        self.table.setIconSize(THUMB)  # the result's picture says which take it is
        # Two-line Shot and State cells carry the take, seed, cost, time and place in line, so
        # a narrow panel needs no other column and nothing is cut off.
        cells = ProgressDelegate(self.table)
        self.table.setItemDelegateForColumn(Column.SHOT, cells)
        self.table.setItemDelegateForColumn(Column.STATE, cells)
        for column in (Column.TAKE, Column.POSITION, Column.ELAPSED, Column.COST):
            self.table.setColumnHidden(column, True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(Column.SHOT, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(Column.STATE, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(Column.STATE, 140)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._menu)
        self.table.activated.connect(lambda index: self._open(self._job_at(index)))
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update_actions())
        self.model.dataChanged.connect(self._current_changed)

        self.job_actions: dict[JobAction | str, QAction] = {}
        self.buttons: dict[JobAction | str, QPushButton] = {}
        buttons = QHBoxLayout()
        for action in JobAction:
            spec = ACTIONS[action]
            self._add_action(action, spec.label, spec.does, _SHORTCUTS.get(action), buttons)
        self._add_action("open", "Open", "play the result", None, None)
        self._add_action("logs", "Logs", "the job's history and fal's logs", "Ctrl+L", buttons)
        buttons.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(QLabel("<b>Queue</b>"))
        top.addStretch(1)
        top.addWidget(self.pause_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.offline_banner)
        layout.addWidget(self.blocked_banner)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._clock = QTimer(self, interval=1000)
        self._clock.timeout.connect(self.model.tick)
        self._update_actions()

    def _add_action(
        self,
        key: JobAction | str,
        text: str,
        tip: str,
        shortcut: str | None,
        buttons: QHBoxLayout | None,
    ) -> None:
        action = QAction(text, self)
        action.setToolTip(tip[0].upper() + tip[1:])
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda _=False, k=key: self._trigger(k))
        self.addAction(action)
        self.job_actions[key] = action
        if buttons is not None:
            button = QPushButton(text)
            button.setToolTip(action.toolTip())
            button.clicked.connect(action.trigger)
            buttons.addWidget(button)
            self.buttons[key] = button

    # Wiring ------------------------------------------------------------------------------------

    def attach(self, engine: EngineInterface) -> None:
        self.engine = engine
        self.model.bind(engine.wait_reason, engine.thumbnail_path)
        self.model.reset(engine.jobs())
        self.bridge.jobAdded.connect(self._added)
        self.bridge.jobChanged.connect(self._changed)
        self.bridge.jobRemoved.connect(self.model.remove)
        self.bridge.jobProgress.connect(self.model.progress)
        self.bridge.connectivityChanged.connect(self._connectivity)
        self.bridge.queueChanged.connect(self._queue_changed)
        self._queue_changed(engine.paused)
        self._clock.start()
        self._update_actions()

    # Rows --------------------------------------------------------------------------------------

    def _added(self, job: Job) -> None:
        self.model.upsert(job)
        self._check_queue_done()

    def _changed(self, job: Job) -> None:
        row = self.model.row_of(job.id)
        previous = self.model.job_at(row) if row is not None else None
        if previous is not None and job.state is not previous.state:
            if job.state is JobState.DONE:
                self.notifier.notify("Video ready", job.prompt[:80])
            elif job.state is JobState.FAILED:
                self.notifier.notify("Job failed", job.error or job.prompt[:80])
        self.model.upsert(job)
        self._check_queue_done()

    def _current_changed(self, top_left: QModelIndex, *_: object) -> None:
        if top_left.row() == self.table.currentIndex().row():
            self._update_actions()

    def _check_queue_done(self) -> None:
        busy = any(
            not j.state.is_final and j.state is not JobState.UNKNOWN_SUBMISSION
            for j in self.model.jobs()
        )
        if self._busy_before and not busy:
            self.notifier.notify("Queue done", "Every queued job has finished.")
        self._busy_before = busy

    # Banners and totals ------------------------------------------------------------------------

    def _connectivity(self, online: bool, reason: str) -> None:
        self.offline_banner.setVisible(not online)
        if not online and reason:
            self.offline_banner.setToolTip(reason)
        self.model.refresh_waits()

    def _queue_changed(self, paused: bool) -> None:
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(paused)
        self.pause_button.setText("Resume queue" if paused else "Pause queue")
        self.pause_button.blockSignals(False)
        block = self.engine.queue_block if self.engine is not None else None
        self.blocked_banner.setText(f"The queue is held: {block}" if block else "")
        self.blocked_banner.setVisible(bool(block))
        self.model.refresh_waits()

    def _toggle_pause(self, paused: bool) -> None:
        if self.engine is not None:
            self.engine.set_paused(paused)

    # Actions -----------------------------------------------------------------------------------

    def _job_at(self, index: QModelIndex) -> Job | None:
        return self.model.job_at(index.row()) if index.isValid() else None

    def current_job(self) -> Job | None:
        return self._job_at(self.table.currentIndex())

    def select(self, job_id: int) -> None:
        row = self.model.row_of(job_id)
        if row is not None:
            self.table.setCurrentIndex(self.model.index(row, Column.SHOT))

    def _update_actions(self) -> None:
        job = self.current_job()
        for key, action in self.job_actions.items():
            if isinstance(key, JobAction):
                enabled = job is not None and ACTIONS[key].applies(job)
            elif key == "open":
                enabled = job is not None and job.state is JobState.DONE
            else:
                enabled = job is not None
            action.setEnabled(enabled)
            button = self.buttons.get(key)
            if button is not None:
                button.setEnabled(enabled)
                # The less common actions appear only where they apply.
                common = key in (JobAction.CANCEL, JobAction.RETRY, JobAction.REMOVE, "logs")
                button.setVisible(common or enabled)

    def _trigger(self, key: JobAction | str) -> None:
        job = self.current_job()
        if job is None or self.engine is None:
            return
        if key == "open":
            self._open(job)
        elif key == "logs":
            self._logs(job)
        elif isinstance(key, JobAction):
            self._perform(key, job)

    def _perform(self, action: JobAction, job: Job) -> None:
        question = confirmation(action, job)
        if question is None:
            self._run(action, job.id)
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            f"{ACTIONS[action].label}?",
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.accepted.connect(lambda: self._run(action, job.id))
        box.open()
        self._message = box

    def _run(self, action: JobAction, job_id: int) -> None:
        engine = self.engine
        if engine is None:
            return

        async def guarded() -> None:
            try:
                await engine.perform(action, job_id)
            except ActionRefused as exc:
                self._tell(str(exc))

        self.tasks.run(guarded(), ACTIONS[action].label)

    def _tell(self, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Queue", text, parent=self)
        box.open()
        self._message = box

    def _open(self, job: Job | None) -> None:
        if job is not None and job.state is JobState.DONE:
            self.openResult.emit(job.id)

    def _logs(self, job: Job) -> None:
        if self.engine is None:
            return
        dialog = QDialog(self)
        dialog.setWindowTitle(f"Job {job.id}: history and logs")
        text = QPlainTextEdit()
        text.setReadOnly(True)
        lines = [
            f"{time.strftime('%H:%M:%S', time.localtime(h.at))}  attempt {h.attempt}  "
            f"{h.state.label}{': ' + h.detail if h.detail else ''}"
            for h in self.engine.history(job.id)
        ]
        if job.request_id:
            lines.append(f"fal request id: {job.request_id}")
        lines.append("")
        lines += [f"[{line.level}] {line.message}" for line in self.engine.logs(job.id)]
        text.setPlainText("\n".join(lines))
        QVBoxLayout(dialog).addWidget(text)
        dialog.resize(640, 420)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.logs_dialog = dialog

    def _menu(self, position: QPoint) -> None:
        index = self.table.indexAt(position)
        if index.isValid():
            self.table.setCurrentIndex(index)
        menu = QMenu(self)
        for action in self.job_actions.values():
            if action.isEnabled():
                menu.addAction(action)
        if not menu.isEmpty():
            menu.popup(self.table.viewport().mapToGlobal(position))
        self.context_menu = menu
