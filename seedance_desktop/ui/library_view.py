"""The library: a grid of past results with search, filters, sort, details and actions on one
or many results (reuse settings, continue from the last frame, compare two, export, star,
delete with undo). Variations of one queued shot are one stack. Pages of results are loaded as
the grid scrolls, so a large library opens as fast as a small one."""

from __future__ import annotations

import html
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QMouseEvent, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.engine.interface import (
    EngineInterface,
    LibraryEntry,
    LibraryFilter,
    LibrarySort,
    TemplateError,
)
from seedance_desktop.ui.bridge import EngineBridge
from seedance_desktop.ui.library_delegate import CELL, LibraryDelegate
from seedance_desktop.ui.library_model import LibraryModel
from seedance_desktop.ui.tasks import TaskRunner

_DAYS = {"Any date": None, "Today": 1, "This week": 7, "This month": 31}
DETAILS_WIDTH = 300  # at first; the person can drag the splitter
MIN_DETAILS_WIDTH = 180


class LibraryView(QWidget):
    selected = Signal(object)  # LibraryEntry
    reuseRequested = Signal(object)  # Shot
    continueRequested = Signal(object)  # Shot
    compareRequested = Signal(object, object, list)  # two LibraryEntry, every id being judged

    def __init__(self, bridge: EngineBridge, tasks: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.bridge = bridge
        self.tasks = tasks
        self.engine: EngineInterface | None = None
        self.model = LibraryModel(tasks, self)
        self.undoable: list[int] = []  # the results of the latest delete
        self.exported: list[Path] = []
        self.open_batch: str | None = None  # the stack whose variations are shown
        self._build_filters()
        self._build_grid()
        self._build_details()
        self._build_actions()
        self.stack_bar = QWidget()
        stack_row = QHBoxLayout(self.stack_bar)
        stack_row.setContentsMargins(0, 0, 0, 0)
        self.stack_back = QPushButton("← All results")
        self.stack_title = QLabel("")
        stack_row.addWidget(self.stack_back)
        stack_row.addWidget(self.stack_title, 1)
        self.stack_bar.setVisible(False)
        self.status = QLabel("")
        self.undo_button = QPushButton("Undo delete")
        self.undo_button.setVisible(False)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.undo_button)
        # A splitter, not a fit to the text: the grid's columns change only when the window (or
        # the person) does, and in a narrow window the details give way before the grid does.
        self.middle = QSplitter(Qt.Orientation.Horizontal)
        self.middle.setObjectName("librarySplitter")
        self.middle.setChildrenCollapsible(False)
        self.middle.addWidget(self.grid)
        self.middle.addWidget(self.details_area)
        self.middle.setStretchFactor(0, 1)
        self.middle.setStretchFactor(1, 0)
        self.middle.setSizes([2 * CELL.width(), DETAILS_WIDTH])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.filters)
        layout.addWidget(self.stack_bar)
        layout.addWidget(self.middle, 1)
        layout.addLayout(self.actions_row)
        layout.addLayout(status_row)
        self._connect()

    # Building ----------------------------------------------------------------------------------

    def _build_filters(self) -> None:
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
        self.sort = QComboBox()
        self.sort.setAccessibleName("Sort")
        for order in LibrarySort:
            self.sort.addItem(f"Sort: {order.label}", order)
        self.stacks = QCheckBox("Stack variations")
        self.stacks.setChecked(True)
        self.stacks.setToolTip("Show the variations of one queued shot as one stack")
        # Two rows, so the search keeps its width in a narrow window (1366×768).
        self.filters = QVBoxLayout()
        first, second = QHBoxLayout(), QHBoxLayout()
        first.addWidget(self.search, 1)
        first.addWidget(self.sort)
        for widget in (self.mode, self.starred, self.date, self.stacks):
            second.addWidget(widget)
        second.addStretch(1)
        self.filters.addLayout(first)
        self.filters.addLayout(second)

    def _build_grid(self) -> None:
        self.grid = QListView()
        self.grid.setModel(self.model)
        self.delegate = LibraryDelegate(self.model, self.grid)
        self.grid.setItemDelegate(self.delegate)
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setGridSize(CELL)
        self.grid.setIconSize(QSize(176, 99))
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setUniformItemSizes(True)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.setSelectionRectVisible(True)  # rubber band
        self.grid.setDragEnabled(True)
        self.grid.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.grid.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.grid.setMouseTracking(True)
        self.grid.setAccessibleName("Library")
        scrollbar = self.grid.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.grid.setMinimumWidth(CELL.width() + scrollbar + 4)  # one whole column, always
        self.grid.viewport().installEventFilter(self)

    def _build_details(self) -> None:
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.details_area = QScrollArea()
        self.details_area.setWidget(self.details)
        self.details_area.setWidgetResizable(True)
        self.details_area.setFrameShape(QFrame.Shape.NoFrame)
        self.details_area.setMinimumWidth(MIN_DETAILS_WIDTH)
        self.details_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def _build_actions(self) -> None:
        self.buttons: dict[str, QPushButton] = {}
        self.actions_row = QHBoxLayout()
        for key, text, tip in (
            ("reuse", "Reuse", "Reuse settings: open this result's settings in compose"),
            ("continue", "Continue", "Continue from the last frame: a new shot starting there"),
            ("compare", "Compare", "Two results side by side, in sync (select two)"),
            ("export", "Export…", "Copy the selected results to a folder"),
            ("star", "Star", "Star or unstar the selected results (S)"),
            ("delete", "Delete", "Move the selected results to the trash (Delete; undoable)"),
            ("seed", "Copy seed", "Copy the seed"),
        ):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.setAccessibleName(tip.split(":")[0])
            button.setEnabled(False)
            self.buttons[key] = button
            self.actions_row.addWidget(button)
        self.actions_row.addStretch(1)

    def _connect(self) -> None:
        self._search_timer = QTimer(self, singleShot=True, interval=200)
        self._search_timer.timeout.connect(self.reload)
        self._reload_soon = QTimer(self, singleShot=True, interval=0)  # many events, one reload
        self._reload_soon.timeout.connect(self.reload)
        self.search.textChanged.connect(self._search_timer.start)
        for combo in (self.mode, self.date, self.sort):
            combo.currentIndexChanged.connect(self.reload)
        self.starred.toggled.connect(self.reload)
        self.stacks.toggled.connect(self.reload)
        selection = self.grid.selectionModel()
        selection.currentChanged.connect(lambda *_: self._show_current())
        selection.selectionChanged.connect(lambda *_: self._update_buttons())
        self.grid.activated.connect(lambda *_: self._activated())
        self.model.loaded.connect(self._show_count)
        self.model.stripReady.connect(lambda _id: self.grid.viewport().update())
        self.stack_back.clicked.connect(self.close_stack)
        self.undo_button.clicked.connect(self.undo_delete)
        self.buttons["reuse"].clicked.connect(self._reuse)
        self.buttons["continue"].clicked.connect(self._continue)
        self.buttons["compare"].clicked.connect(self._compare)
        self.buttons["export"].clicked.connect(self._export)
        self.buttons["star"].clicked.connect(self.star_selected)
        self.buttons["delete"].clicked.connect(self.delete_selected)
        self.buttons["seed"].clicked.connect(self._copy_seed)
        for sequence, slot in (
            (QKeySequence.StandardKey.Delete, self.delete_selected),
            (QKeySequence.StandardKey.Undo, self.undo_delete),
            ("S", self.star_selected),
        ):
            shortcut = QShortcut(QKeySequence(sequence), self.grid)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(slot)

    def attach(self, engine: EngineInterface) -> None:
        self.engine = engine
        self.model.strip_path = engine.filmstrip_path
        self.bridge.libraryChanged.connect(lambda _id: self._reload_soon.start())
        self.reload()
        # Deletes left from the last session can no longer be undone: to the trash now.
        self.tasks.run(engine.finish_deletes(), "Moving deleted results to the trash")

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
            sort=self.sort.currentData(),
            stacks=self.stacks.isChecked() and self.open_batch is None,
            batch=self.open_batch,
        )

    def reload(self) -> None:
        if self.engine is None:
            return
        current = self._current_id()
        chosen = {e.job_id for e in self.selected_entries()}
        self.model.set_source(self.engine.library_page, self.current_filter())
        selection = self.grid.selectionModel()
        for job_id in chosen:
            row = self.model.row_of(job_id)
            if row is not None:
                selection.select(self.model.index(row), selection.SelectionFlag.Select)
        row = None if current is None else self.model.row_of(current)
        if row is not None:
            selection.setCurrentIndex(self.model.index(row), selection.SelectionFlag.NoUpdate)
        self._show_current(emit=False)

    def _show_count(self) -> None:
        count = self.model.rowCount()
        more = "" if self.model.exhausted else "+"
        if not self.undo_button.isVisible():
            self.status.setText(f"{count} result{'s' if count != 1 else ''}{more}")

    # Stacks ------------------------------------------------------------------------------------

    def open_stack(self, entry: LibraryEntry) -> None:
        """Show the variations of the stack `entry` heads, each labelled by its seed."""
        if entry.batch is None:
            return
        self.open_batch = entry.batch
        prompt = " ".join(entry.prompt.split())[:60]
        self.stack_title.setText(f"{entry.variations} variations of “{prompt}”")
        self.stack_bar.setVisible(True)
        self.reload()

    def close_stack(self) -> None:
        self.open_batch = None
        self.stack_bar.setVisible(False)
        self.reload()

    def select_job(self, job_id: int) -> bool:
        """Select one result (from the queue, say), wherever it is: filters that hide it are
        cleared and its stack is opened. False when it is not in the library."""
        if self.engine is None:
            return False
        entry = self.engine.library_entry(job_id)
        if entry is None:
            return False
        row = self.model.row_of(job_id)
        if row is None:
            for widget in (self.search, self.starred, self.mode, self.date):
                widget.blockSignals(True)
            self.search.clear()
            self.starred.setChecked(False)
            self.mode.setCurrentIndex(0)
            self.date.setCurrentIndex(0)
            for widget in (self.search, self.starred, self.mode, self.date):
                widget.blockSignals(False)
            if entry.batch is not None and self.stacks.isChecked():
                self.open_stack(entry)
            else:
                self.open_batch = None
                self.stack_bar.setVisible(False)
                self.reload()
            row = self.model.row_of(job_id)
            while row is None and self.model.canFetchMore():
                self.model.fetchMore()
                row = self.model.row_of(job_id)
        if row is None:
            return False
        index = self.model.index(row)
        self.grid.selectionModel().setCurrentIndex(
            index, self.grid.selectionModel().SelectionFlag.ClearAndSelect
        )
        self.grid.scrollTo(index)
        return True

    # Selection and details ---------------------------------------------------------------------

    def _current_id(self) -> int | None:
        entry = self.current_entry()
        return None if entry is None else entry.job_id

    def current_entry(self) -> LibraryEntry | None:
        index = self.grid.currentIndex()
        return self.model.entry(index.row()) if index.isValid() else None

    def selected_entries(self) -> list[LibraryEntry]:
        """The selected tiles, in grid order (a stack counts as its first variation)."""
        rows = sorted(index.row() for index in self.grid.selectionModel().selectedIndexes())
        return [e for e in (self.model.entry(row) for row in rows) if e is not None]

    def selected_results(self) -> list[LibraryEntry]:
        """What an action on the selection acts on: a selected stack is all its variations."""
        results: list[LibraryEntry] = []
        for entry in self.selected_entries():
            if entry.stack_size > 1 and entry.batch is not None and self.engine is not None:
                results += self.engine.library_page(LibraryFilter(batch=entry.batch))
            else:
                results.append(entry)
        return results

    def _update_buttons(self) -> None:
        chosen = self.selected_entries()
        count = len(chosen)
        single = self.current_entry() if count <= 1 else None
        for key in ("reuse", "continue", "seed"):
            self.buttons[key].setEnabled(single is not None)
        for key in ("export", "star", "delete"):
            self.buttons[key].setEnabled(count > 0)
        self.buttons["compare"].setEnabled(count == 2 or _is_stack(chosen))
        many = f" {count}" if count > 1 else ""
        self.buttons["export"].setText(f"Export{many}…")
        unstar = bool(chosen) and all(e.starred for e in chosen)
        self.buttons["star"].setText(("Unstar" if unstar else "Star") + many)
        self.buttons["delete"].setText(f"Delete{many}")

    def _show_current(self, emit: bool = True) -> None:
        self._update_buttons()
        entry = self.current_entry()
        if entry is None:
            self.details.setText("")
            return
        self.details.setText(self._details_html(entry))
        if emit:
            self.selected.emit(entry)

    def _details_html(self, entry: LibraryEntry) -> str:
        params = ", ".join(f"{k}: {v}" for k, v in entry.input.items() if k != "prompt"
                           and not k.endswith(("url", "urls")))  # fmt: skip
        refs = self.engine.references(entry.job_id) if self.engine else []
        cost = f"${entry.cost_usd:.2f} (estimate)" if entry.cost_usd is not None else "unknown"
        size = f"{entry.width}×{entry.height}, {entry.duration_s or 0:.1f} s"
        which = entry.variation_label
        if entry.stack_size > 1:
            which = f"{entry.stack_size} variations (open the stack to see each)"
        lines = [
            f"<b>{entry.mode.label}</b>{' ★' if entry.starred else ''}",
            f"<p>{html.escape(entry.prompt)}</p>",
            *([f"Variation: {which}"] if which else []),
            f"Seed: {entry.seed}",
            f"Video: {size}",
            f"Cost: {cost}",
            f"Settings: {html.escape(params) or 'defaults'}",
            f"Endpoint: {entry.endpoint}",
            f"Request id: {entry.request_id}",
            "References: " + (html.escape(", ".join(r["original"] for r in refs)) or "none"),
        ]
        return "<br>".join(lines)

    def _activated(self) -> None:
        entry = self.current_entry()
        if entry is None:
            return
        if entry.stack_size > 1:
            self.open_stack(entry)
        else:
            self.selected.emit(entry)

    # Hover-scrub -------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt's name
        if watched is self.grid.viewport():
            if event.type() == QEvent.Type.MouseMove and isinstance(event, QMouseEvent):
                self.hover_at(event.position().toPoint().x(), event.position().toPoint().y())
            elif event.type() == QEvent.Type.Leave:
                self.hover_at(None, None)
        return False

    def hover_at(self, x: int | None, y: int | None) -> None:
        """Scrub the filmstrip of the result under the pointer (None: the pointer left)."""
        delegate = self.delegate
        before = delegate.hover_row
        if x is None or y is None:
            delegate.hover_row = None
        else:
            from PySide6.QtCore import QPoint

            index = self.grid.indexAt(QPoint(x, y))
            if index.isValid():
                thumb = delegate.thumb_rect(self.grid.visualRect(index))
                delegate.hover_row = index.row()
                fraction = (x - thumb.x()) / max(1, thumb.width())
                delegate.hover_fraction = min(1.0, max(0.0, fraction))
            else:
                delegate.hover_row = None
        for row in {before, delegate.hover_row} - {None}:
            assert row is not None
            self.grid.viewport().update(self.grid.visualRect(self.model.index(row)))

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

    def _compare(self) -> None:
        chosen = self.selected_results()
        if len(chosen) >= 2:
            self.compareRequested.emit(chosen[0], chosen[1], [e.job_id for e in chosen])

    def _export(self) -> None:
        chosen = self.selected_results()
        if not chosen:
            return
        dialog = QFileDialog(self, f"Export {len(chosen)} result(s) to folder", str(Path.home()))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly)
        ids = [e.job_id for e in chosen]
        dialog.fileSelected.connect(lambda folder: self.export_to(Path(folder), ids))
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

    def star_selected(self) -> None:
        """Star every selected result; when all already are, unstar them."""
        chosen = self.selected_results()
        if chosen and self.engine is not None:
            starred = not all(e.starred for e in chosen)
            self.engine.star([e.job_id for e in chosen], starred)  # reloads on the events

    def delete_selected(self) -> None:
        """Move the selected results to the trash, undoably (no question asked)."""
        self.delete_ids([e.job_id for e in self.selected_results()])

    def delete_ids(self, job_ids: list[int]) -> None:
        """Move these results to the trash, undoably (Compare's discards come here too)."""
        if job_ids and self.engine is not None:
            self.tasks.run(self._delete(job_ids), "Deleting")

    async def _delete(self, job_ids: list[int]) -> None:
        if self.engine is None:
            return
        self.undoable = await self.engine.delete(job_ids)
        count = len(self.undoable)
        self.status.setText(f"Deleted {count} result{'s' if count != 1 else ''}.")
        self.undo_button.setVisible(bool(self.undoable))

    def undo_delete(self) -> None:
        if self.undoable and self.engine is not None:
            self.engine.undo_delete(self.undoable)
            count = len(self.undoable)
            self.status.setText(f"Brought back {count} result{'s' if count != 1 else ''}.")
            self.undoable = []
            self.undo_button.setVisible(False)

    def _copy_seed(self) -> None:
        entry = self.current_entry()
        if entry is not None and entry.seed is not None:
            QGuiApplication.clipboard().setText(str(entry.seed))


def _is_stack(chosen: list[LibraryEntry]) -> bool:
    return len(chosen) == 1 and chosen[0].stack_size > 1
