"""A frame timeline: click or drag anywhere to seek (not only the handle), the in/out range
shaded, the playhead on the frame shown. Counts in frames, never milliseconds."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

_TRACK = QColor(70, 72, 80)
_RANGE = QColor(90, 140, 210, 150)
_PLAYED = QColor(120, 170, 240)
_HEAD = QColor(250, 250, 250)


class Timeline(QWidget):
    seekRequested = Signal(int)  # a frame number

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.frames = 0
        self.frame = 0
        self.in_point: int | None = None
        self.out_point: int | None = None
        self.setMinimumWidth(120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAccessibleName("Timeline")
        self.setToolTip("Click or drag to seek; I and O set a loop range")

    def sizeHint(self) -> QSize:
        return QSize(300, 22)

    def set_length(self, frames: int) -> None:
        self.frames = max(0, frames)
        self.frame = 0
        self.in_point = self.out_point = None
        self.update()

    def set_frame(self, frame: int) -> None:
        if frame != self.frame:
            self.frame = frame
            self.update()

    def set_range(self, in_point: int | None, out_point: int | None) -> None:
        self.in_point, self.out_point = in_point, out_point
        self.update()

    def frame_at_x(self, x: float) -> int:
        if self.frames <= 0:
            return 0
        usable = max(1, self.width() - 1)
        return max(0, min(self.frames - 1, int(x / usable * self.frames)))

    def x_of(self, frame: int) -> int:
        if self.frames <= 0:
            return 0
        return int((frame + 0.5) / self.frames * (self.width() - 1))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # Qt's name
        if event.button() == Qt.MouseButton.LeftButton and self.frames:
            self.seekRequested.emit(self.frame_at_x(event.position().x()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # Qt's name
        if event.buttons() & Qt.MouseButton.LeftButton and self.frames:
            self.seekRequested.emit(self.frame_at_x(event.position().x()))

    def paintEvent(self, _event: QPaintEvent) -> None:  # Qt's name
        painter = QPainter(self)
        middle = self.height() // 2
        painter.fillRect(QRect(0, middle - 3, self.width(), 6), _TRACK)
        if self.frames and self.isEnabled():
            start = self.in_point if self.in_point is not None else 0
            end = self.out_point if self.out_point is not None else self.frames - 1
            if self.in_point is not None or self.out_point is not None:
                left, right = self.x_of(start), self.x_of(end)
                painter.fillRect(QRect(left, 2, max(2, right - left), self.height() - 4), _RANGE)
            head = self.x_of(self.frame)
            painter.fillRect(QRect(0, middle - 3, head, 6), _PLAYED)
            painter.fillRect(QRect(head - 1, 0, 3, self.height()), _HEAD)
        painter.end()
