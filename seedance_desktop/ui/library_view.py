"""The library: a grid of past results with search, filters, details and actions (reuse
settings, continue from the last frame, export, star, delete). Pages of results are loaded as
the grid scrolls, so a large library opens as fast as a small one."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.engine.interface import (
    EngineInterface,
    LibraryEntry,
    LibraryFilter,
    TemplateError,
)
from seedance_desktop.ui.bridge import EngineBridge
from seedance_desktop.ui.library_model import JobIdRole, LibraryModel
from seedance_desktop.ui.sequence_strip import ResultDragSource
from seedance_desktop.ui.tasks import TaskRunner

_DAYS = {"Any date": None, "Today": 1, "This week": 7, "This month": 31}


class LibraryView(QWidget):
    selected = Signal(object)  # LibraryEntry
    reuseRequested = Signal(object)  # Shot
    continueRequested = Signal(object)  # Shot

    def __init__(self, bridge: EngineBridge, tasks: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.bridge = bridge
        self.tasks = tasks
        self.engine: EngineInterface | None = None
        self.model = LibraryModel(tasks, self)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search prompts (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search the library")
        self.mode = QComboBox()
        self.mode.addItem("All modes", None)
        for mode in Mode:
            self.mode.addItem(mode.label, mode)
        self.starred = QCheckBox("Starred")
        self.date = QComboBox()
        self.date.addItems(list(_DAYS))
        filters = QHBoxLayout()
        for widget in (self.search, self.mode, self.starred, self.date):
            filters.addWidget(widget)
        self.grid = QListView()
        self.grid.setModel(self.model)
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setIconSize(QSize(160, 96))
        self.grid.setGridSize(QSize(180, 140))
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setUniformItemSizes(True)
        self.grid.setWordWrap(True)
        self.grid.setAccessibleName("Library")
        ResultDragSource(self.grid, JobIdRole)  # results drag onto the sequence strip
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.buttons: dict[str, QPushButton] = {}
        actions = QHBoxLayout()
        for key, text in (
            ("reuse", "Reuse settings"),
            ("continue", "Continue from last frame"),
            ("export", "Export…"),
            ("star", "Star"),
            ("delete", "Delete"),
            ("seed", "Copy seed"),
        ):
            button = QPushButton(text)
            button.setEnabled(False)
            self.buttons[key] = button
            actions.addWidget(button)
        actions.addStretch(1)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.details, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.grid)
        split.addWidget(side)
        split.setSizes([520, 240])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(split, 1)
        layout.addLayout(actions)
        self.status = QLabel("")
        layout.addWidget(self.status)

        self._search_timer = QTimer(self, singleShot=True, interval=200)
        self._search_timer.timeout.connect(self.reload)
        self.search.textChanged.connect(self._search_timer.start)
        self.mode.currentIndexChanged.connect(self.reload)
        self.starred.toggled.connect(self.reload)
        self.date.currentIndexChanged.connect(self.reload)
        self.grid.selectionModel().currentChanged.connect(lambda *_: self._show_current())
        self.grid.activated.connect(lambda *_: self._emit_selected())
        self.model.loaded.connect(self._show_count)
        self.buttons["reuse"].clicked.connect(self._reuse)
        self.buttons["continue"].clicked.connect(self._continue)
        self.buttons["export"].clicked.connect(self._export)
        self.buttons["star"].clicked.connect(self._star)
        self.buttons["delete"].clicked.connect(self._delete)
        self.buttons["seed"].clicked.connect(self._copy_seed)

    def attach(self, engine: EngineInterface) -> None:
        self.engine = engine
        self.bridge.libraryChanged.connect(lambda _id: self.reload())
        self.reload()

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    # Loading -----------------------------------------------------------------------------------

    def current_filter(self) -> LibraryFilter:
        days = _DAYS[self.date.currentText()]
        return LibraryFilter(
            search=self.search.text().strip() or None,
            mode=self.mode.currentData(),
            starred=True if self.starred.isChecked() else None,
            since=time.time() - days * 86400 if days else None,
        )

    def reload(self) -> None:
        if self.engine is None:
            return
        current = self._current_id()
        self.model.set_source(self.engine.library_page, self.current_filter())
        row = None if current is None else self.model.row_of(current)
        if row is not None:
            self.grid.setCurrentIndex(self.model.index(row))
        self._show_current()

    def _show_count(self) -> None:
        count = self.model.rowCount()
        more = "" if self.model.exhausted else "+"
        self.status.setText(f"{count} result{'s' if count != 1 else ''}{more}")

    # Selection and details ---------------------------------------------------------------------

    def _current_id(self) -> int | None:
        entry = self.current_entry()
        return None if entry is None else entry.job_id

    def current_entry(self) -> LibraryEntry | None:
        index = self.grid.currentIndex()
        return self.model.entry(index.row()) if index.isValid() else None

    def _show_current(self) -> None:
        entry = self.current_entry()
        for button in self.buttons.values():
            button.setEnabled(entry is not None)
        if entry is None:
            self.details.setText("")
            return
        self.buttons["star"].setText("Unstar" if entry.starred else "Star")
        params = ", ".join(f"{k}: {v}" for k, v in entry.input.items() if k != "prompt"
                           and not k.endswith(("url", "urls")))  # fmt: skip
        refs = self.engine.references(entry.job_id) if self.engine else []
        cost = f"${entry.cost_usd:.2f} (estimate)" if entry.cost_usd is not None else "unknown"
        size = f"{entry.width}×{entry.height}, {entry.duration_s or 0:.1f} s"
        lines = [
            f"<b>{entry.mode.label}</b> · {entry.endpoint}",
            f"<p>{entry.prompt}</p>",
            f"Settings: {params or 'defaults'}",
            f"Seed: {entry.seed}",
            f"Video: {size}",
            f"Cost: {cost}",
            f"Request id: {entry.request_id}",
            "References: " + (", ".join(r["original"] for r in refs) or "none"),
        ]
        self.details.setText("<br>".join(lines))
        self._emit_selected()

    def _emit_selected(self) -> None:
        entry = self.current_entry()
        if entry is not None:
            self.selected.emit(entry)

    # Actions -----------------------------------------------------------------------------------

    def _reuse(self) -> None:
        entry = self.current_entry()
        if entry is not None and self.engine is not None:
            self.reuseRequested.emit(self.engine.reuse(entry.job_id))

    def _continue(self) -> None:
        entry = self.current_entry()
        if entry is not None:
            self.tasks.run(self._continue_from(entry), "Taking the last frame")

    async def _continue_from(self, entry: LibraryEntry) -> None:
        if self.engine is not None:
            self.continueRequested.emit(await self.engine.continue_from(entry.job_id))

    def _export(self) -> None:
        entry = self.current_entry()
        if entry is None:
            return
        dialog = QFileDialog(self, "Export to folder", str(Path.home()))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly)
        dialog.fileSelected.connect(lambda folder: self.export_to(Path(folder), [entry.job_id]))
        dialog.open()
        self._dialog = dialog

    def export_to(self, folder: Path, job_ids: list[int], template: str | None = None) -> None:
        self.tasks.run(self._copy(job_ids, folder, template), "Exporting")

    async def _copy(self, job_ids: list[int], folder: Path, template: str | None) -> None:
        if self.engine is None:
            return
        try:
            written = await self.engine.export(job_ids, folder, template)
        except TemplateError as exc:
            self.status.setText(str(exc))
            return
        except OSError as exc:
            self.status.setText(f"Export stopped: {exc.strerror or exc}. Nothing was overwritten.")
            return
        self.status.setText(f"Exported {len(written)} file(s) to {folder}.")
        self.exported = written

    def _star(self) -> None:
        entry = self.current_entry()
        if entry is not None and self.engine is not None:
            self.engine.star([entry.job_id], not entry.starred)  # the library reloads on the event

    def _delete(self) -> None:
        entry = self.current_entry()
        if entry is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Delete this video?",
            "The video file and its details are removed from the library. This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.accepted.connect(lambda: self._really_delete(entry.job_id))
        box.open()
        self.confirm = box

    def _really_delete(self, job_id: int) -> None:
        if self.engine is not None:
            self.tasks.run(self.engine.delete([job_id]), "Deleting")

    def _copy_seed(self) -> None:
        entry = self.current_entry()
        if entry is not None and entry.seed is not None:
            QGuiApplication.clipboard().setText(str(entry.seed))
