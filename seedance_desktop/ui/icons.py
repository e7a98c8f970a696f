"""Small vector icons drawn with QPainter: they need no icon font (an emoji glyph renders as an
empty box where the font is missing) and take the theme's colours."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from seedance_desktop.ui.theme import colours

_Draw = Callable[[QPainter, float, QColor], None]


def _error(painter: QPainter, size: float, colour: QColor) -> None:
    painter.setBrush(colour)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(QRectF(1, 1, size - 2, size - 2))
    _exclamation(painter, size, QColor(colours().base))


def _warning(painter: QPainter, size: float, colour: QColor) -> None:
    path = QPainterPath()
    path.moveTo(size / 2, 1)
    path.lineTo(size - 1, size - 1.5)
    path.lineTo(1, size - 1.5)
    path.closeSubpath()
    painter.setBrush(colour)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawPath(path)
    _exclamation(painter, size, QColor(colours().base), top=0.38)


def _exclamation(painter: QPainter, size: float, colour: QColor, top: float = 0.25) -> None:
    pen = QPen(colour, max(1.5, size / 8), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    painter.drawLine(QPointF(size / 2, size * top), QPointF(size / 2, size * 0.6))
    painter.drawPoint(QPointF(size / 2, size * 0.77))


def _add(painter: QPainter, size: float, colour: QColor) -> None:
    pen = QPen(colour, max(1.5, size / 10), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    painter.drawLine(QPointF(size / 2, size * 0.2), QPointF(size / 2, size * 0.8))
    painter.drawLine(QPointF(size * 0.2, size / 2), QPointF(size * 0.8, size / 2))


def _close(painter: QPainter, size: float, colour: QColor) -> None:
    pen = QPen(colour, max(1.5, size / 10), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    painter.drawLine(QPointF(size * 0.28, size * 0.28), QPointF(size * 0.72, size * 0.72))
    painter.drawLine(QPointF(size * 0.72, size * 0.28), QPointF(size * 0.28, size * 0.72))


_DRAWINGS: dict[str, _Draw] = {"error": _error, "warning": _warning, "add": _add, "close": _close}


def icon(name: str, size: int = 16, colour: str | None = None) -> QIcon:
    """One of "error", "warning", "add", "close", in the theme's colour for it."""
    palette = colours()
    default = {"error": palette.error_text, "warning": palette.warning_text}.get(name, palette.text)
    pixmap = QPixmap(size * 2, size * 2)  # drawn at 2× so it stays crisp on HiDPI screens
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    _DRAWINGS[name](painter, float(size), QColor(colour or default))
    painter.end()
    return QIcon(pixmap)
