"""How one result is drawn in the library grid: its thumbnail (or, under the pointer, the frame
of its filmstrip at the pointer's place), a star badge, a stack's count, and two caption lines.
Every cell has the same size, so the grid never reflows as captions change."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from seedance_desktop.media.filmstrip import FILMSTRIP_TILES
from seedance_desktop.ui.library_model import EntryRole, LibraryModel, SubtitleRole

CELL = QSize(196, 160)
THUMB = QSize(176, 99)
_STAR = QColor(255, 196, 0)
_BADGE = QColor(20, 20, 24, 210)


class LibraryDelegate(QStyledItemDelegate):
    def __init__(self, model: LibraryModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.hover_row: int | None = None
        self.hover_fraction = 0.0  # where the pointer is across the thumbnail, 0 to 1

    def sizeHint(
        self, _option: QStyleOptionViewItem, _index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return CELL

    def thumb_rect(self, cell: QRect) -> QRect:
        x = cell.x() + (cell.width() - THUMB.width()) // 2
        return QRect(x, cell.y() + 8, THUMB.width(), THUMB.height())

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        cell = option.rect
        palette: QPalette = option.palette
        state = option.state
        painter.save()
        selected = bool(state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRoundedRect(QRectF(cell.adjusted(2, 2, -2, -2)), 6, 6)
        entry = index.data(EntryRole)
        thumb = self.thumb_rect(cell)
        if entry is not None and entry.stack_size > 1:  # the cards of a stack behind it
            painter.fillRect(thumb.translated(6, -4), QColor(120, 120, 130))
            painter.fillRect(thumb.translated(3, -2), QColor(160, 160, 170))
        painter.fillRect(thumb, QColor(0, 0, 0))
        self._draw_picture(painter, index, thumb)
        if entry is not None:
            if entry.starred:
                self._draw_star(painter, thumb)
            if entry.stack_size > 1:
                self._draw_count(painter, thumb, f"×{entry.stack_size}")
        text_pen = palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        text_rect = QRect(cell.x() + 8, thumb.bottom() + 6, cell.width() - 16, 18)
        painter.setPen(text_pen)
        title = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        metrics = painter.fontMetrics()
        painter.drawText(
            text_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            metrics.elidedText(title, Qt.TextElideMode.ElideRight, text_rect.width()),
        )
        subtitle = str(index.data(SubtitleRole) or "")
        if subtitle:
            small = QFont(painter.font())
            small.setPointSizeF(max(7.0, small.pointSizeF() * 0.85))
            painter.setFont(small)
            faded = QColor(text_pen)
            faded.setAlpha(170)
            painter.setPen(faded)
            painter.drawText(
                text_rect.translated(0, 17),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                painter.fontMetrics().elidedText(
                    subtitle, Qt.TextElideMode.ElideRight, text_rect.width()
                ),
            )
        painter.restore()

    def _draw_picture(
        self, painter: QPainter, index: QModelIndex | QPersistentModelIndex, thumb: QRect
    ) -> None:
        if index.row() == self.hover_row:
            strip = self.model.filmstrip(index.row())
            if strip is not None:
                self._draw_strip_tile(painter, strip, thumb)
                return
        icon = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(icon, QIcon):
            pixmap = icon.pixmap(thumb.size())
            size = pixmap.size().scaled(thumb.size(), Qt.AspectRatioMode.KeepAspectRatio)
            x = thumb.x() + (thumb.width() - size.width()) // 2
            y = thumb.y() + (thumb.height() - size.height()) // 2
            painter.drawPixmap(QRect(x, y, size.width(), size.height()), pixmap)

    def _draw_strip_tile(self, painter: QPainter, strip: QImage, thumb: QRect) -> None:
        tile_width = strip.width() // FILMSTRIP_TILES
        tile = min(FILMSTRIP_TILES - 1, int(self.hover_fraction * FILMSTRIP_TILES))
        source = QRect(tile * tile_width, 0, tile_width, strip.height())
        size = source.size().scaled(thumb.size(), Qt.AspectRatioMode.KeepAspectRatio)
        x = thumb.x() + (thumb.width() - size.width()) // 2
        y = thumb.y() + (thumb.height() - size.height()) // 2
        painter.drawImage(QRect(x, y, size.width(), size.height()), strip, source)
        marker = QRect(thumb.x(), thumb.bottom() - 2, int(thumb.width() * self.hover_fraction), 3)
        painter.fillRect(marker, QColor(255, 255, 255, 200))

    def _draw_star(self, painter: QPainter, thumb: QRect) -> None:
        badge = QRect(thumb.x() + 4, thumb.y() + 4, 22, 22)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_BADGE)
        painter.drawEllipse(badge)
        painter.setPen(_STAR)
        font = QFont(painter.font())
        font.setPointSizeF(font.pointSizeF() * 1.1)
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, "★")

    def _draw_count(self, painter: QPainter, thumb: QRect, text: str) -> None:
        font = QFont(painter.font())
        font.setBold(True)
        painter.setFont(font)
        width = painter.fontMetrics().horizontalAdvance(text) + 12
        badge = QRect(thumb.right() - width - 4, thumb.y() + 4, width, 20)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_BADGE)
        painter.drawRoundedRect(QRectF(badge), 9, 9)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
