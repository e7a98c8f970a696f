"""Shot parameters: resolution, duration, aspect ratio (drawn as shapes), audio, seed, and an
advanced section. Choices come from the endpoint table; the widget holds no rules. Bound to a
compose model, it shows the model's values and writes the person's changes to it."""

from __future__ import annotations

import random

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QWidget,
)

from seedance_desktop.compose.model import Aspect, Change, ComposeModel
from seedance_desktop.domain.endpoints import ASPECT_RATIOS, DURATIONS, RESOLUTIONS
from seedance_desktop.domain.shot import Shot
from seedance_desktop.ui.compose.binding import bind


def ratio_icon(ratio: str, size: int = 22) -> QIcon:
    """A small outline of the frame's shape (a dashed square for "auto")."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor(120, 120, 130), 1.5)
    if ratio == "auto":
        pen.setStyle(Qt.PenStyle.DashLine)
        w = h = size - 6.0
    else:
        a, b = (int(x) for x in ratio.split(":"))
        scale = (size - 4) / max(a, b)
        w, h = a * scale, b * scale
    painter.setPen(pen)
    painter.drawRect(QRectF((size - w) / 2, (size - h) / 2, w, h))
    painter.end()
    return QIcon(pixmap)


class ParametersWidget(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.resolution = QComboBox()
        self.resolution.addItems(list(RESOLUTIONS))
        self.resolution.setCurrentText("720p")
        self.duration = QComboBox()
        for value in DURATIONS:
            self.duration.addItem("Auto (4–15 s)" if value == "auto" else f"{value} s", value)
        self.aspect = QComboBox()
        self.aspect.setIconSize(QSize(22, 22))
        for ratio in ASPECT_RATIOS:
            self.aspect.addItem(ratio_icon(ratio), "Auto" if ratio == "auto" else ratio, ratio)
        self.audio = QCheckBox("Generate sound")
        self.audio.setChecked(True)
        self.seed_fixed = QCheckBox("Fixed")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setEnabled(False)
        dice = QToolButton()
        dice.setText("New")
        dice.setToolTip("Pick a new seed")
        dice.clicked.connect(self.new_seed)
        copy = QToolButton()
        copy.setText("Copy")
        copy.setToolTip("Copy the seed")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(str(self.seed.value())))
        self.seed_fixed.toggled.connect(self.seed.setEnabled)
        seed_row = QHBoxLayout()
        for widget in (self.seed_fixed, self.seed, dice, copy):
            seed_row.addWidget(widget)
        self.advanced = QPushButton("Advanced ▸")
        self.advanced.setCheckable(True)
        self.advanced.setFlat(True)
        self.end_user = QLineEdit()
        self.end_user.setPlaceholderText("Optional: an id for your own end user (B2B)")
        self.end_user.setVisible(False)
        self.advanced.toggled.connect(self._toggle_advanced)
        form.addRow("Resolution", self.resolution)
        form.addRow("Duration", self.duration)
        form.addRow("Aspect ratio", self.aspect)
        form.addRow("Audio", self.audio)
        form.addRow("Seed", seed_row)
        form.addRow(self.advanced)
        form.addRow("End user id", self.end_user)
        self._end_user_label = form.labelForField(self.end_user)
        self._end_user_label.setVisible(False)
        for combo in (self.resolution, self.duration, self.aspect):
            combo.currentIndexChanged.connect(self.changed)
        for check in (self.audio, self.seed_fixed):
            check.toggled.connect(self.changed)
        self.seed.valueChanged.connect(self.changed)
        self.end_user.textChanged.connect(self.changed)

    def bind(self, model: ComposeModel) -> None:
        """Show `model`'s parameters and write the person's changes to it."""
        syncing = False

        def show(shot: Shot) -> None:
            nonlocal syncing
            syncing = True
            try:
                self.show_shot(shot)
            finally:
                syncing = False

        def write() -> None:
            if syncing:
                return
            values = self.values()
            seed = model.shot.seed  # above the spin box's range: shown clamped, kept whole
            if isinstance(seed, int) and values["seed"] == min(seed, self.seed.maximum()):
                values["seed"] = seed
            model.set_parameters(**values)

        def follow(change: Change) -> None:
            if Aspect.PARAMETERS in change or Aspect.LOADED in change:
                show(model.shot)

        show(model.shot)
        self.changed.connect(write)
        bind(model.changed, self, follow)

    def show_shot(self, shot: Shot) -> None:
        self.set_values(  # unset: fal's defaults, which the widgets show
            resolution=shot.resolution or "720p",
            duration="auto" if shot.duration is None else shot.duration,
            aspect_ratio=shot.aspect_ratio or "auto",
            generate_audio=shot.generate_audio,
            seed=shot.seed,
            end_user_id=shot.end_user_id,
        )

    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced.setText("Advanced ▾" if shown else "Advanced ▸")
        self.end_user.setVisible(shown)
        self._end_user_label.setVisible(shown)

    def new_seed(self) -> None:
        self.seed_fixed.setChecked(True)
        self.seed.setValue(random.randrange(2**31))

    def values(self) -> dict[str, object]:
        """The fields of a Shot these widgets set (None: left to fal's default)."""
        return {
            "resolution": self.resolution.currentText(),
            "duration": self.duration.currentData(),
            "aspect_ratio": self.aspect.currentData(),
            "generate_audio": None if self.audio.isChecked() else False,
            "seed": self.seed.value() if self.seed_fixed.isChecked() else None,
            "end_user_id": self.end_user.text().strip() or None,
        }

    def set_values(self, **values: object) -> None:
        if values.get("resolution") in RESOLUTIONS:
            self.resolution.setCurrentText(str(values["resolution"]))
        duration = values.get("duration")
        if duration is not None and str(duration) in DURATIONS:
            self.duration.setCurrentIndex(DURATIONS.index(str(duration)))
        if values.get("aspect_ratio") in ASPECT_RATIOS:
            self.aspect.setCurrentIndex(ASPECT_RATIOS.index(str(values["aspect_ratio"])))
        if "generate_audio" in values:
            self.audio.setChecked(values["generate_audio"] is not False)
        if "seed" in values:
            seed = values["seed"]
            self.seed_fixed.setChecked(isinstance(seed, int))
            if isinstance(seed, int):
                self.seed.setValue(min(seed, self.seed.maximum()))
        if "end_user_id" in values:
            self.end_user.setText(str(values["end_user_id"] or ""))
