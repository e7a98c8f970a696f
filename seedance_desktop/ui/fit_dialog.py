"""Fitting references in the window: "Fit…" on a tile's problem line opens the dialog (range on
a filmstrip with a preview, crop, sound format, what will be sent); "Fit all" fits every
reference with a problem with the defaults, no dialog. Work runs on the fit runner's thread with
progress and cancel; the window never waits. Bookkeeping lives in compose/fitting.py.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from seedance_desktop.compose.fitting import (
    FitRunner,
    FitTarget,
    apply_fitted,
    fit_target,
    targets_to_fit,
)
from seedance_desktop.compose.model import Aspect, Change, ComposeModel
from seedance_desktop.domain.endpoints import LIMITS
from seedance_desktop.domain.fit import (
    ASPECT_RATIOS,
    FitPlan,
    FitRefusal,
    FitSettings,
    TimeRange,
    plan_fit,
)
from seedance_desktop.domain.media_info import MediaInfo, MediaKind
from seedance_desktop.media.fit import describe_info
from seedance_desktop.media.names import display_name
from seedance_desktop.ui.compose.binding import bind
from seedance_desktop.ui.tasks import TaskRunner

_MB = 1024 * 1024
PREVIEW_FRAMES = 60
_SHADE = QColor(0, 0, 0, 150)
_HANDLE = QColor("#f5c542")


def _qimage(rgb: np.ndarray) -> QImage:
    height, width, _ = rgb.shape
    data = np.ascontiguousarray(rgb)
    return QImage(data.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def _problems_of(model: ComposeModel, target: FitTarget) -> list[str]:
    """What the shot's validation says about this file (and its group's totals)."""
    refs = model.references(target.field)
    index = refs.index(target.reference) if target.reference in refs else -1
    fields = {f"{target.field}[{index}]", target.field}
    return [
        f"<span style='color:{'#b3261e' if p.is_error else '#8a5a00'}'>{p.message}</span>"
        for p in model.problems
        if p.field in fields
    ]


def needs_choice(target: FitTarget) -> bool:
    """The defaults would cut the clip or the sound short, or crop the picture: the person
    should see the dialog. Otherwise (scale, convert, turn upright) the fit just happens."""
    info, seconds = target.info, target.info.duration_s or 0.0
    if target.kind is MediaKind.VIDEO:
        return seconds > target.budget.video_seconds
    if target.kind is MediaKind.AUDIO:
        return seconds > target.budget.audio_seconds
    shape = (info.width or 1) / (info.height or 1)
    low, high = LIMITS.image_aspect
    return not low <= shape <= high


def fit_button(parent: QWidget) -> QPushButton:
    """The "Fit…" button of a tile's problem line (hidden until fitting can mend a problem)."""
    button = QPushButton("Fit…", parent)
    button.setObjectName("fitButton")
    button.setToolTip("Trim, scale or convert a copy of this file to fal's limits")
    button.setVisible(False)
    return button


def fittable_references(model: ComposeModel, field: str) -> set[str]:
    return {t.reference for t in targets_to_fit(model) if t.field == field}


class RangeStrip(QWidget):
    """A filmstrip with in and out handles; drag a handle, or click to move the nearer one."""

    rangeChanged = Signal(float, float)

    def __init__(self, duration: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.duration = max(duration, 0.001)
        self.start, self.end = 0.0, self.duration
        self.frames: list[QPixmap] = []
        self._dragging: str | None = None
        self.setMinimumHeight(64)
        self.setMinimumWidth(360)
        self.setAccessibleName("Range: drag the yellow handles to choose the part to use")

    def set_frames(self, images: list[QImage]) -> None:
        self.frames = [QPixmap.fromImage(i) for i in images]
        self.update()

    def set_range(self, start: float, end: float) -> None:
        self.start, self.end = start, end
        self.update()

    def _x(self, seconds: float) -> float:
        return seconds / self.duration * self.width()

    def _seconds(self, x: float) -> float:
        return max(0.0, min(self.duration, x / max(self.width(), 1) * self.duration))

    def paintEvent(self, _event: object) -> None:  # Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#1b1b1d"))
        if self.frames:  # tiles at the frames' own shape, each the frame nearest its time
            first = self.frames[0]
            tile = max(8.0, self.height() * first.width() / max(first.height(), 1))
            count = max(1, math.ceil(self.width() / tile))
            for index in range(count):
                at = (index + 0.5) / count
                pixmap = self.frames[min(len(self.frames) - 1, int(at * len(self.frames)))]
                target = QRectF(index * tile, 0, tile, self.height())
                painter.drawPixmap(target, pixmap, QRectF(pixmap.rect()))
        left, right = self._x(self.start), self._x(self.end)
        painter.fillRect(QRectF(0, 0, left, self.height()), _SHADE)
        painter.fillRect(QRectF(right, 0, self.width() - right, self.height()), _SHADE)
        painter.setPen(QPen(_HANDLE, 3))
        painter.drawRect(QRectF(left, 1.5, right - left, self.height() - 3))
        for x in (left, right):
            painter.fillRect(QRectF(x - 4, 0, 8, self.height()), _HANDLE)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # Qt's name
        x = event.position().x()
        near_start = abs(x - self._x(self.start)) <= abs(x - self._x(self.end))
        self._dragging = "start" if near_start else "end"
        self._move(event.position())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # Qt's name
        if self._dragging:
            self._move(event.position())

    def mouseReleaseEvent(self, _event: QMouseEvent) -> None:  # Qt's name
        self._dragging = None

    def _move(self, point: QPointF) -> None:
        at = round(self._seconds(point.x()), 1)
        if self._dragging == "start":
            self.start = min(at, self.end - 0.1)
        else:
            self.end = max(at, self.start + 0.1)
        self.update()
        self.rangeChanged.emit(self.start, self.end)


class FitDialog(QDialog):
    """Fit one reference: choose the range, crop and format; see what will be sent; fit."""

    fitted = Signal(object)  # the Fitted result, once applied to the model

    def __init__(
        self,
        model: ComposeModel,
        target: FitTarget,
        runner: FitRunner,
        tasks: TaskRunner,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model, self.target, self.runner, self.tasks = model, target, runner, tasks
        self.info = target.info
        self.name = display_name(target.reference)
        self._task: asyncio.Task[object] | None = None
        self.setWindowTitle(f"Fit {self.name}")
        self.setObjectName("fitDialog")
        self.setMinimumWidth(620)
        layout = QVBoxLayout(self)
        heading = QLabel(f"<b>Fit {self.name} to fal's limits</b>")
        layout.addWidget(heading)
        now = QLabel(f"Now: {describe_info(self.info, ' · ')}. The original is never changed.")
        now.setWordWrap(True)
        layout.addWidget(now)
        why = QLabel("<br>".join(_problems_of(model, target)))
        why.setObjectName("fitWhy")
        why.setWordWrap(True)
        why.setVisible(bool(why.text()))
        layout.addWidget(why)

        timed = self.info.kind in (MediaKind.VIDEO, MediaKind.AUDIO) and bool(self.info.duration_s)
        self.preview = QLabel()
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumHeight(200 if self.info.kind is MediaKind.VIDEO else 0)
        self.preview.setStyleSheet("background:#111; border-radius:4px;")
        self.preview.setVisible(self.info.kind is MediaKind.VIDEO)
        self.preview.setToolTip("The picture at the In point; Play range plays the range")
        layout.addWidget(self.preview)
        self._playhead: float | None = None
        self._player = QTimer(self, interval=125)
        self._player.timeout.connect(self._advance)
        self.strip = RangeStrip(self.info.duration_s or 1.0)
        self.strip.setVisible(timed)
        self.strip.setFixedHeight(54)
        layout.addWidget(self.strip)

        form = QFormLayout()
        self.start = QDoubleSpinBox()
        self.end = QDoubleSpinBox()
        for box, label in ((self.start, "In"), (self.end, "Out")):
            box.setRange(0.0, self.info.duration_s or 0.0)
            box.setDecimals(1)
            box.setSingleStep(0.5)
            box.setSuffix(" s")
            box.setAccessibleName(label)
        times = QHBoxLayout()
        times.addWidget(QLabel("In"))
        times.addWidget(self.start)
        times.addWidget(QLabel("Out"))
        times.addWidget(self.end)
        self.length = QLabel("")
        times.addWidget(self.length, 1)
        if timed:
            form.addRow("Range", times)
        self.crop = QComboBox()
        self.crop.addItem("Keep the whole picture", None)
        shot_aspect = model.shot.aspect_ratio
        for name in ASPECT_RATIOS:
            note = " (the shot's)" if name == shot_aspect else ""
            self.crop.addItem(f"Crop to {name}{note}", name)
        if self.info.kind in (MediaKind.VIDEO, MediaKind.IMAGE):
            form.addRow("Picture", self.crop)
        self.sound = QComboBox()
        self.sound.addItem("WAV (no further loss)", "wav")
        self.sound.addItem("MP3 (smaller)", "mp3")
        if target.kind is MediaKind.AUDIO:
            form.addRow("Sound", self.sound)
        layout.addLayout(form)

        self.outcome = QLabel("")
        self.outcome.setObjectName("fitResult")
        self.outcome.setWordWrap(True)
        layout.addWidget(self.outcome)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        buttons = QHBoxLayout()
        self.play_button = QPushButton("▶ Play range")
        self.play_button.setVisible(self.info.kind is MediaKind.VIDEO)
        self.play_button.clicked.connect(self.toggle_preview)
        buttons.addWidget(self.play_button)
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.fit_button = QPushButton("Fit")
        self.fit_button.setDefault(True)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.fit_button)
        layout.addLayout(buttons)

        plan = plan_fit(self.name, self.info, None, target.budget)
        start, end = (plan.start_s, plan.end_s) if isinstance(plan, FitPlan) else (0.0, None)
        self.start.setValue(start)
        self.end.setValue(end if end is not None else (self.info.duration_s or 0.0))
        self.strip.set_range(self.start.value(), self.end.value())
        self.strip.rangeChanged.connect(self._strip_moved)
        for box in (self.start, self.end):
            box.valueChanged.connect(self._times_changed)
        self.crop.currentIndexChanged.connect(self._update_result)
        self.sound.currentIndexChanged.connect(self._update_result)
        self.fit_button.clicked.connect(self.start_fit)
        self.cancel_button.clicked.connect(self._cancel)
        self._frames: list[tuple[float, QImage]] = []
        self._update_result()
        if self.info.kind is MediaKind.VIDEO:
            frames = tasks.run(self._load_frames(), f"Reading frames of {self.name}")
            # Closed before the frames came: nothing may reach the deleted strip.
            self.finished.connect(lambda _result: frames.cancel())

    # Choices -----------------------------------------------------------------------------------

    def settings(self) -> FitSettings:
        timed = self.strip.isVisible() or self.info.duration_s
        time_range = TimeRange(self.start.value(), self.end.value()) if timed else TimeRange()
        return FitSettings(time_range, self.crop.currentData(), self.sound.currentData())

    def _strip_moved(self, start: float, end: float) -> None:
        for box, value in ((self.start, start), (self.end, end)):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        self._update_result()

    def _times_changed(self) -> None:
        self.strip.set_range(self.start.value(), self.end.value())
        self._update_result()

    def _update_result(self) -> None:
        outcome = plan_fit(self.name, self.info, self.settings(), self.target.budget)
        if self.target.kind is not self.info.kind:
            sound = MediaInfo(MediaKind.AUDIO, "m4a", self.info.size_bytes,
                              duration_s=self.info.duration_s)  # fmt: skip
            outcome = plan_fit(self.name, sound, self.settings(), self.target.budget)
        if isinstance(outcome, FitRefusal):
            self.outcome.setText(f"<span style='color:#e5484d'>{outcome.message}</span>")
            self.fit_button.setEnabled(False)
        else:
            size = f" · at most {outcome.max_bytes / _MB:.0f} MB" if outcome.max_bytes else ""
            self.outcome.setText(
                f"Will send: <b>{outcome.describe().replace(', ', ' · ')}</b>{size}"
            )
            self.fit_button.setEnabled(self._task is None)
        end = self.end.value() if self.info.duration_s else 0.0
        if self.info.duration_s:
            left = (
                self.target.budget.video_seconds
                if self.target.kind is MediaKind.VIDEO
                else self.target.budget.audio_seconds
            )
            self.length.setText(f"{end - self.start.value():.1f} s of the {left:.1f} s left")
        self._show_preview()

    # Pictures ----------------------------------------------------------------------------------

    async def _load_frames(self) -> None:
        """A few frames first (the strip shows at once), then more for the preview to play."""
        from seedance_desktop.media.filmstrip import filmstrip

        path = Path(self.target.reference)
        dense = max(10, min(PREVIEW_FRAMES, round((self.info.duration_s or 0) * 2)))
        for count in (10, dense):
            strip = await asyncio.to_thread(filmstrip, path, count, 180)
            if strip:
                self._frames = [(at, _qimage(rgb)) for at, rgb in strip]
                self.strip.set_frames([image for _, image in self._frames])
                self._show_preview()

    def toggle_preview(self) -> None:
        """Play the chosen range in the preview (a flip-book of the frames read), looping."""
        if self._player.isActive():
            self._player.stop()
            self.play_button.setText("▶ Play range")
            self._playhead = None
        else:
            self._playhead = self.start.value()
            self._player.start()
            self.play_button.setText("■ Stop")
        self._show_preview()

    def _advance(self) -> None:
        at = (self._playhead or self.start.value()) + self._player.interval() / 1000
        self._playhead = self.start.value() if at > self.end.value() else at
        self._show_preview()

    def _show_preview(self) -> None:
        if not self._frames:
            self.preview.setText("…")
            return
        at = self.start.value() if self._playhead is None else self._playhead
        _, image = min(self._frames, key=lambda pair: abs(pair[0] - at))
        size = self.preview.size()
        scaled = image.scaled(size, Qt.AspectRatioMode.KeepAspectRatio)
        self.preview.setPixmap(QPixmap.fromImage(scaled))

    # Fitting -----------------------------------------------------------------------------------

    def start_fit(self) -> None:
        if self._task is not None:
            return
        self.fit_button.setEnabled(False)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.outcome.setText(f"Fitting {self.name}…")
        self._task = self.tasks.run(self._fit(), f"Fitting {self.name}")

    async def _fit(self) -> None:
        from seedance_desktop.media.fit import FitCancelled, FitError

        settings = self.settings()
        try:
            fitted = await self.runner.fit(
                self.target, settings, lambda done: self.progress.setValue(round(done * 100))
            )
        except FitCancelled:
            self._task = None
            super().reject()
            return
        except FitError as exc:
            self._task = None
            self.outcome.setText(f"<span style='color:#e5484d'>{exc.message}</span>")
            self.progress.setVisible(False)
            self.fit_button.setEnabled(True)
            return
        self._task = None
        apply_fitted(self.model, self.target, fitted, settings)
        self.fitted.emit(fitted)
        self.accept()

    def _cancel(self) -> None:
        if self._task is not None:
            self.runner.cancel()  # the dialog closes when the worker has cleaned up
            self.outcome.setText("Cancelling…")
        else:
            self.reject()

    def reject(self) -> None:  # Esc and the close button cancel a fit in progress too
        if self._task is not None:
            self._cancel()
            return
        super().reject()


class FitAllButton(QPushButton):
    """ "Fit all (2)": shown while references of the tab have a problem fitting can mend."""

    def __init__(self, model: ComposeModel, parent: QWidget | None = None) -> None:
        super().__init__("Fit all", parent)
        self.model = model
        self.busy = False
        self.setObjectName("fitAll")
        self.setToolTip("Fit every reference with a problem, with the defaults (originals kept)")
        bind(model.changed, self, self._follow)
        self._follow(Change(frozenset({Aspect.LOADED})))

    def _follow(self, change: Change) -> None:
        if self.busy or not change.aspects & {Aspect.REFERENCES, Aspect.MEDIA, Aspect.LOADED}:
            return
        count = len(targets_to_fit(self.model))
        self.setText(f"Fit all ({count})")
        self.setVisible(count > 0)

    def show_busy(self, busy: bool) -> None:
        self.busy = busy
        if busy:
            self.setText("Cancel fitting")
            self.setVisible(True)
        else:
            self._follow(Change(frozenset({Aspect.LOADED})))


class FitController(QObject):
    """The window's fitting: one runner (one fit at a time), the dialogs and Fit all."""

    message = Signal(str)

    def __init__(self, folder: Path, tasks: TaskRunner, parent: QWidget) -> None:
        super().__init__(parent)
        self.runner = FitRunner(folder)
        self.tasks = tasks
        self.window = parent
        self._fit_all: asyncio.Task[object] | None = None
        self.dialog: FitDialog | None = None
        self._buttons: dict[int, FitAllButton] = {}
        # A fit in progress stops at quit: the interpreter would otherwise wait for its thread.
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        parent.destroyed.connect(self.runner.shutdown)

    def fit_one(self, model: ComposeModel, field: str, reference: str) -> FitDialog | None:
        """Fit one slot's file: at once when the defaults leave nothing to choose, else through
        the dialog (a range to cut, a shape to crop; window-modal, open() never exec())."""
        target = next((t for t in targets_to_fit(model) if t.reference == reference), None)
        target = target or fit_target(model, field, reference)
        if target is None:
            return None
        button = self._buttons.get(id(model))
        if not needs_choice(target) and button is not None:
            if self._fit_all is None:
                button.show_busy(True)
                self._fit_all = self.tasks.run(
                    self._run_all(model, button, [target]), f"Fitting {display_name(reference)}"
                )
            return None
        dialog = FitDialog(model, target, self.runner, self.tasks, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fitted.connect(lambda f: self.message.emit(f"Fitted {display_name(reference)}."))
        self.dialog = dialog
        dialog.open()
        return dialog

    def fit_all(self, model: ComposeModel, button: FitAllButton) -> None:
        if self._fit_all is not None:  # the button reads "Cancel fitting" meanwhile
            self.runner.cancel()
            return
        button.show_busy(True)
        self._fit_all = self.tasks.run(
            self._run_all(model, button, targets_to_fit(model)), "Fitting references"
        )

    async def _run_all(
        self, model: ComposeModel, button: FitAllButton, targets: list[FitTarget]
    ) -> None:
        from seedance_desktop.media.fit import FitCancelled, FitError

        done, failed = 0, []
        try:
            for number, target in enumerate(targets, start=1):
                name = display_name(target.reference)
                prefix = f"Fitting {number} of {len(targets)}: {name}"
                self.message.emit(f"{prefix}…")

                def report(part: float, prefix: str = prefix) -> None:
                    self.message.emit(f"{prefix}… {part:.0%}")

                try:
                    fitted = await self.runner.fit(target, FitSettings(), report)
                except FitCancelled:
                    self.message.emit("Fitting cancelled; nothing was changed for the rest.")
                    return
                except FitError as exc:
                    failed.append(exc.message)
                    continue
                apply_fitted(model, target, fitted, FitSettings())
                done += 1
            said = f"Fitted {done} reference{'s' if done != 1 else ''}."
            self.message.emit(" ".join([said, *failed]))
        finally:
            self._fit_all = None
            button.show_busy(False)

    def attach(self, model: ComposeModel, groups: Iterable[Any], button: FitAllButton) -> None:
        """Wire a tab: its slot groups' "Fit…" buttons (fitRequested) and its "Fit all"."""
        self._buttons[id(model)] = button
        for group in groups:
            group.fitRequested.connect(lambda field, ref, m=model: self.fit_one(m, field, ref))
        button.clicked.connect(lambda: self.fit_all(model, button))

    def shutdown(self) -> None:
        self.runner.shutdown()
