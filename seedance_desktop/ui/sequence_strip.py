"""The sequence strip under the player: the shots of a scene, in order, as pictures.

Results are dragged onto it from the library or the queue; shots are reordered by dragging,
removed with Delete, trimmed (in/out), switched between alternates, continued or extended from
their context menu. "Play" plays the whole sequence in the player as one file (no gap between
shots, the sequence's timecode); double-clicking a shot jumps there. "Export…" makes the film
(.mp4, with progress and cancel) or a timeline for an editor (.otio, .xml, .edl).

The strip talks to the player only through `SequencePlayer` (load a file, seek, play, position).
"""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QDropEvent,
    QIcon,
    QKeySequence,
    QPainter,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from seedance_desktop.engine.interface import (
    EngineInterface,
    FollowUpKind,
    SequenceShot,
    ShotSequence,
)
from seedance_desktop.ui.bridge import EngineBridge
from seedance_desktop.ui.result_drag import RESULT_MIME, dropped_results
from seedance_desktop.ui.tasks import TaskRunner

SHOT_ROLE = Qt.ItemDataRole.UserRole + 1


class SequencePlayer(Protocol):
    """What the strip needs of the player (ui/player.PlayerWidget)."""

    def load(self, path: Path, poster: Path | None = None) -> None: ...

    def seek_seconds(self, seconds: float) -> None: ...

    def play(self) -> None: ...


def timecode(seconds: float, fps: int = 24) -> str:
    """00:01:02:12 — hours, minutes, seconds, frames."""
    frames = round(seconds * fps)
    s, f = divmod(frames, fps)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return f"{h:02d}:{m:02d}:{s:02d}:{f:02d}"


class ShotList(QListWidget):
    """The shots, left to right; accepts results dropped from elsewhere and moves its own."""

    resultsDropped = Signal(list, int)  # job ids, index
    shotMoved = Signal(int, int)  # shot id, new index

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setIconSize(QSize(128, 72))
        self.setGridSize(QSize(150, 112))
        self.setMovement(QListView.Movement.Snap)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setAcceptDrops(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAccessibleName("Sequence shots")
        self.hint = "Drag results here from the library or the queue"

    def _drop_index(self, event: QDropEvent) -> int:
        item = self.itemAt(event.position().toPoint())
        if item is None:
            return self.count()
        row = self.row(item)
        rect = self.visualItemRect(item)
        return row + (1 if event.position().x() > rect.center().x() else 0)

    def dragEnterEvent(self, event: Any) -> None:  # Qt's name
        if event.mimeData().hasFormat(RESULT_MIME) or event.source() is self:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:  # Qt's name
        if event.mimeData().hasFormat(RESULT_MIME) or event.source() is self:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # Qt's name
        index = self._drop_index(event)
        if event.source() is self:
            item = self.currentItem()
            if item is not None:
                row = self.row(item)
                self.shotMoved.emit(item.data(SHOT_ROLE), index - (1 if index > row else 0))
            event.setDropAction(Qt.DropAction.IgnoreAction)  # the model redraws the strip
            event.accept()
            return
        ids = dropped_results(event.mimeData())
        if ids:
            self.resultsDropped.emit(ids, index)
            event.acceptProposedAction()

    def paintEvent(self, event: Any) -> None:  # Qt's name
        super().paintEvent(event)
        if self.count() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, self.hint)
            painter.end()


class TrimDialog(QDialog):
    def __init__(self, shot: SequenceShot, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"In and out · {shot.label}")
        length = shot.source_duration_s
        self.in_box, self.out_box = QDoubleSpinBox(), QDoubleSpinBox()
        for box, value in ((self.in_box, shot.in_s), (self.out_box, shot.end_s)):
            box.setDecimals(3)
            box.setSingleStep(1 / 24)
            box.setSuffix(" s")
            box.setRange(0.0, length)
            box.setValue(value)
        form = QFormLayout(self)
        form.addRow("In", self.in_box)
        form.addRow("Out", self.out_box)
        form.addRow(QLabel(f"The take is {length:.2f} s long; one frame is 1/24 s."))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class SequenceStrip(QWidget):
    composeRequested = Signal(object)  # Shot: Continue/Extend opens compose pre-filled
    message = Signal(str)  # for the status bar
    _exportProgress = Signal(int, int)  # from the export thread

    def __init__(
        self,
        bridge: EngineBridge,
        tasks: TaskRunner,
        player: SequencePlayer | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.bridge, self.tasks, self.player = bridge, tasks, player
        self.engine: EngineInterface | None = None
        self._cancel: threading.Event | None = None
        self.picker = QComboBox()
        self.picker.setAccessibleName("Sequence")
        self.picker.setMinimumContentsLength(14)
        self.picker.setPlaceholderText("No sequence")
        self.new_button = QPushButton("New…")
        self.more = QToolButton()
        self.more.setText("⋯")
        self.more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.more)
        menu.addAction("Rename…", self.rename_current)
        menu.addAction("Delete sequence", self.delete_current)
        self.more.setMenu(menu)
        self.summary = QLabel("")
        self.summary.setAccessibleName("Sequence length")
        self.play_button = QPushButton("▶ Play sequence")
        self.export_button = QPushButton("Export…")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        header = QHBoxLayout()
        header.addWidget(QLabel("Sequence"))
        for widget in (self.picker, self.new_button, self.more):
            header.addWidget(widget)
        header.addStretch(1)
        for part in (
            self.summary,
            self.play_button,
            self.export_button,
            self.progress,
            self.cancel_button,
        ):
            header.addWidget(part)
        self.shots = ShotList(self)
        self.shots.setFixedHeight(124)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addLayout(header)
        layout.addWidget(self.shots)
        self.new_button.clicked.connect(self.new_sequence)
        self.picker.currentIndexChanged.connect(lambda _i: self._show_current())
        self.play_button.clicked.connect(lambda: self.play_from(0.0))
        self.export_button.clicked.connect(self.choose_export)
        self.cancel_button.clicked.connect(self.cancel_export)
        self.shots.resultsDropped.connect(self.add_results)
        self.shots.shotMoved.connect(self._move)
        self.shots.itemDoubleClicked.connect(self._jump_to)
        self.shots.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.shots.customContextMenuRequested.connect(self._menu)
        self._exportProgress.connect(self._show_progress)
        for keys, slot in (
            (QKeySequence.StandardKey.Delete, self.remove_selected),
            ("Ctrl+Left", lambda: self._nudge(-1)),
            ("Ctrl+Right", lambda: self._nudge(1)),
        ):
            shortcut = QShortcut(QKeySequence(keys), self.shots)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(slot)
        self._set_enabled(False)

    # Engine ------------------------------------------------------------------------------------

    def attach(self, engine: EngineInterface) -> None:
        self.engine = engine
        self.bridge.sequencesChanged.connect(lambda _id: self.reload())
        self.bridge.libraryChanged.connect(lambda _id: self.reload())
        self.reload()

    def current(self) -> ShotSequence | None:
        if self.engine is None:
            return None
        sequence_id = self.picker.currentData()
        return None if sequence_id is None else self.engine.sequence(int(sequence_id))

    def reload(self) -> None:
        if self.engine is None:
            return
        keep = self.picker.currentData()
        self.picker.blockSignals(True)
        self.picker.clear()
        for sequence in self.engine.sequences():
            self.picker.addItem(sequence.name, sequence.id)
        found = self.picker.findData(keep) if keep is not None else -1
        self.picker.setCurrentIndex(found if found >= 0 else (0 if self.picker.count() else -1))
        self.picker.blockSignals(False)
        self._show_current()

    def select(self, sequence_id: int) -> None:
        found = self.picker.findData(sequence_id)
        if found >= 0:
            self.picker.setCurrentIndex(found)

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.more, self.play_button, self.export_button, self.shots):
            widget.setEnabled(enabled)

    def _show_current(self) -> None:
        sequence = self.current()
        selected = self.shots.currentItem()
        keep = selected.data(SHOT_ROLE) if selected is not None else None
        self.shots.clear()
        self._set_enabled(sequence is not None)
        self.shots.setEnabled(True)
        if sequence is None:
            self.shots.hint = "Make a sequence with New…, then drag results here"
            self.summary.setText("")
            self.shots.viewport().update()
            return
        self.shots.hint = "Drag results here from the library or the queue"
        for shot, start in zip(sequence.shots, sequence.starts_s(), strict=True):
            item = QListWidgetItem(self._icon(shot), self._caption(shot))
            item.setData(SHOT_ROLE, shot.id)
            prompt = shot.entry.prompt if shot.entry is not None else "(deleted from the library)"
            item.setToolTip(
                f"{shot.label}\nStarts at {timecode(start)} · in {shot.in_s:.2f} s, out "
                f"{shot.end_s:.2f} s\n{prompt}"
            )
            self.shots.addItem(item)
            if shot.id == keep:
                self.shots.setCurrentItem(item)
        count = len(sequence.shots)
        self.summary.setText(
            f"{count} shot{'s' if count != 1 else ''} · {timecode(sequence.duration_s)}"
        )
        self.play_button.setEnabled(count > 0)
        self.export_button.setEnabled(count > 0)

    def _icon(self, shot: SequenceShot) -> QIcon:
        thumbnail = shot.entry.thumbnail if shot.entry is not None else None
        pixmap = QPixmap(str(thumbnail)) if thumbnail and thumbnail.exists() else QPixmap()
        if pixmap.isNull():
            pixmap = QPixmap(128, 72)
            pixmap.fill(Qt.GlobalColor.darkRed if shot.missing else Qt.GlobalColor.darkGray)
        return QIcon(pixmap)

    def _caption(self, shot: SequenceShot) -> str:
        parts = [f"{shot.index + 1}", f"{shot.duration_s:.2f} s"]
        if len(shot.takes) > 1:
            parts.append(f"take {shot.takes.index(shot.job_id) + 1}/{len(shot.takes)}")
        if shot.missing:
            parts.append("file gone")
        return " · ".join(parts)

    def _shot(self, item: QListWidgetItem | None) -> SequenceShot | None:
        sequence = self.current()
        if item is None or sequence is None:
            return None
        return sequence.shot(int(item.data(SHOT_ROLE)))

    # Commands ----------------------------------------------------------------------------------

    def _attempt(self, what: Any) -> Any:
        """Run an engine command; its refusal goes to the status bar, never a traceback."""
        try:
            return what()
        except ValueError as exc:  # SequenceError
            self.message.emit(str(exc))
            return None

    def new_sequence(self, name: str | None = None) -> None:
        if self.engine is None:
            return
        if name is None:
            text, ok = QInputDialog.getText(self, "New sequence", "Name")
            if not ok:
                return
            name = text
        made = self._attempt(lambda: self.engine.create_sequence(name))
        if made is not None:
            self.reload()
            self.select(made.id)

    def rename_current(self) -> None:
        sequence = self.current()
        if sequence is None or self.engine is None:
            return
        text, ok = QInputDialog.getText(self, "Rename sequence", "Name", text=sequence.name)
        if ok:
            self._attempt(lambda: self.engine.rename_sequence(sequence.id, text))

    def delete_current(self) -> None:
        sequence = self.current()
        if sequence is not None and self.engine is not None:
            self.engine.delete_sequence(sequence.id)
            self.message.emit(f"Sequence “{sequence.name}” deleted; its results stay.")

    def add_results(self, job_ids: list[int], index: int | None = None) -> None:
        if self.engine is None:
            return
        sequence = self.current()
        if sequence is None:
            made = self._attempt(lambda: self.engine.create_sequence(self._free_name()))
            if made is None:
                return
            self.reload()
            self.select(made.id)
            sequence = made
        for offset, job_id in enumerate(job_ids):
            at = None if index is None else index + offset
            if self.engine.library_entry(job_id) is None:
                self.message.emit("Only finished results can go in a sequence.")
                continue
            self._attempt(lambda j=job_id, a=at: self.engine.add_to_sequence(sequence.id, j, a))

    def _free_name(self) -> str:
        taken = {s.name.lower() for s in self.engine.sequences()} if self.engine else set()
        number = 1
        while f"scene {number}" in taken:
            number += 1
        return f"Scene {number}"

    def remove_selected(self) -> None:
        shot = self._shot(self.shots.currentItem())
        if shot is not None and self.engine is not None:
            self.engine.remove_shot(shot.id)

    def _move(self, shot_id: int, index: int) -> None:
        if self.engine is not None:
            self.engine.move_shot(shot_id, index)

    def _nudge(self, step: int) -> None:
        shot = self._shot(self.shots.currentItem())
        if shot is not None:
            self._move(shot.id, max(0, shot.index + step))

    def trim(self, shot: SequenceShot) -> None:
        dialog = TrimDialog(shot, self)

        def done(result: int) -> None:
            if result == QDialog.DialogCode.Accepted and self.engine is not None:
                in_s, out_s = dialog.in_box.value(), dialog.out_box.value()
                end = None if abs(out_s - shot.source_duration_s) < 1e-3 else out_s
                self._attempt(lambda: self.engine.trim_shot(shot.id, in_s, end))

        dialog.finished.connect(done)
        dialog.open()

    def follow_up(self, shot: SequenceShot, kind: FollowUpKind) -> None:
        if self.engine is None:
            return

        async def make() -> None:
            assert self.engine is not None
            composed = await self.engine.follow_up(shot.id, kind)
            self.composeRequested.emit(composed)
            verb = "continues" if kind is FollowUpKind.CONTINUE else "extends"
            self.message.emit(f"Compose {verb} {shot.label}; the result lands right after it.")

        self.tasks.run(make(), "Preparing the next shot")

    def _menu(self, point: QPoint) -> None:
        shot = self._shot(self.shots.itemAt(point))
        sequence, engine = self.current(), self.engine
        if shot is None or sequence is None or engine is None:
            return
        menu = QMenu(self)
        start = sequence.starts_s()[shot.index]
        menu.addAction("Play from here", lambda: self.play_from(start))
        menu.addSeparator()
        for text, kind in (
            ("Continue from its last frame…", FollowUpKind.CONTINUE),
            ("Extend it (as [Video1])…", FollowUpKind.EXTEND),
        ):
            action = menu.addAction(text, partial(self.follow_up, shot, kind))
            action.setEnabled(not shot.missing)
        takes = menu.addMenu("Alternates")
        takes.setEnabled(len(shot.takes) > 1)
        for number, job_id in enumerate(shot.takes, start=1):
            entry = engine.library_entry(job_id)
            seed = f" · seed {entry.seed}" if entry is not None and entry.seed is not None else ""
            gone = " · deleted" if entry is None else ""
            action = QAction(f"Take {number}{seed}{gone}", takes)
            action.setCheckable(True)
            action.setChecked(job_id == shot.job_id)
            action.triggered.connect(
                lambda _=False, j=job_id: self._attempt(lambda: engine.use_take(shot.id, j))
            )
            takes.addAction(action)
        menu.addAction("In and out…", lambda: self.trim(shot))
        menu.addSeparator()
        menu.addAction("Remove from sequence", lambda: engine.remove_shot(shot.id))
        menu.popup(self.shots.viewport().mapToGlobal(point))

    # Playback ----------------------------------------------------------------------------------

    def _jump_to(self, item: QListWidgetItem) -> None:
        shot = self._shot(item)
        sequence = self.current()
        if shot is not None and sequence is not None:
            self.play_from(sequence.starts_s()[shot.index])

    def play_from(self, start_s: float) -> None:
        """Play the sequence in the player from `start_s` of its timeline."""
        sequence = self.current()
        if sequence is None or self.engine is None or not sequence.shots:
            return

        async def play() -> None:
            assert self.engine is not None
            self.message.emit(f"Preparing “{sequence.name}” for playback…")
            path = await self.engine.sequence_preview(sequence.id)
            if self.player is None:
                return
            self.player.load(path)
            self.player.seek_seconds(start_s)
            self.player.play()
            self.message.emit(f"Playing “{sequence.name}” from {timecode(start_s)}.")

        self.tasks.run(play(), "Preparing the sequence for playback")

    # Export ------------------------------------------------------------------------------------

    def choose_export(self) -> None:
        sequence = self.current()
        if sequence is None:
            return
        dialog = QFileDialog(self, f"Export “{sequence.name}”")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters(
            [
                "Film, H.264 + AAC (*.mp4)",
                "Timeline for editors, OpenTimelineIO (*.otio)",
                "Timeline, FCP XML for Resolve and Premiere (*.xml)",
                "Timeline, CMX 3600 EDL (*.edl)",
            ]
        )
        dialog.selectFile(f"{sequence.name}.mp4")
        dialog.fileSelected.connect(lambda name: self.export_to(Path(name)))
        dialog.open()

    def export_to(self, target: Path) -> None:
        sequence = self.current()
        if sequence is None or self.engine is None:
            return
        if target.suffix.lower() in (".otio", ".xml", ".edl"):

            async def timeline() -> None:
                assert self.engine is not None
                try:
                    files = await self.engine.export_timeline(sequence.id, target)
                except ValueError as exc:
                    self.message.emit(str(exc))
                    return
                self.message.emit(f"Timeline saved as {target.name}, with {len(files)} shot files.")

            self.tasks.run(timeline(), "Exporting the timeline")
            return
        if target.suffix.lower() != ".mp4":
            target = target.with_suffix(".mp4")
        self._cancel = threading.Event()
        self._exporting(True)

        async def film() -> None:
            assert self.engine is not None and self._cancel is not None
            try:
                report = await self.engine.export_sequence(
                    sequence.id,
                    target,
                    progress=self._exportProgress.emit,
                    cancel=self._cancel,
                )
            except Exception as exc:  # SequenceExportError and ExportCancelled: a message
                self.message.emit(str(exc))
                return
            finally:
                self._exporting(False)
            notes = f" ({' '.join(report.notes)})" if report.notes else ""
            self.message.emit(f"Exported {target.name}, {timecode(report.duration_s)}.{notes}")

        self.tasks.run(film(), "Exporting the sequence")

    def cancel_export(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def _exporting(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.export_button.setEnabled(not busy)
        self.progress.setValue(0)

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
