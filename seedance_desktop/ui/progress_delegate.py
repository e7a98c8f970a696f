"""The queue's Shot and State cells, two lines each so a narrow panel says everything: the
result's thumbnail, the prompt and "#2 of 3 · seed 123 · $0.65"; the state (over a progress bar
while bytes move, the model's PROGRESS_ROLE) and the running time and place in line."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
)

from seedance_desktop.ui.queue_model import DETAIL_ROLE, PROGRESS_ROLE, Column


class ProgressDelegate(QStyledItemDelegate):
    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        item = QStyleOptionViewItem(option)
        self.initStyleOption(item, index)
        widget = option.widget
        style = widget.style() if widget else QApplication.style()
        text, item.text = item.text, ""
        item.icon = QIcon()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, item, painter, widget)
        box = option.rect.adjusted(4, 3, -4, -3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        pen = option.palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        if index.column() == Column.SHOT:
            icon = index.data(Qt.ItemDataRole.DecorationRole)
            if isinstance(icon, QIcon):
                size = option.decorationSize
                top = box.y() + (box.height() - size.height()) // 2
                icon.paint(painter, QRect(box.x(), top, size.width(), size.height()))
                box.setLeft(box.x() + size.width() + 6)
        top_line = QRect(box.x(), box.y(), box.width(), box.height() // 2)
        bottom_line = QRect(box.x(), box.y() + box.height() // 2, box.width(), box.height() // 2)
        percent = index.data(PROGRESS_ROLE)
        painter.save()
        if percent is not None:
            bar = QStyleOptionProgressBar()
            bar.rect = top_line
            bar.minimum, bar.maximum, bar.progress = 0, 100, int(percent)
            bar.text = text or f"{percent}%"
            bar.textVisible = True
            bar.textAlignment = Qt.AlignmentFlag.AlignCenter
            bar.state = option.state | QStyle.StateFlag.State_Horizontal
            style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, widget)
        else:
            painter.setPen(pen)
            metrics = painter.fontMetrics()
            elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, top_line.width())
            painter.drawText(top_line, int(Qt.AlignmentFlag.AlignVCenter), elided)
        detail = str(index.data(DETAIL_ROLE) or "")
        if detail:
            faded = QColor(pen)
            faded.setAlpha(170)
            painter.setPen(faded)
            metrics = painter.fontMetrics()
            elided = metrics.elidedText(detail, Qt.TextElideMode.ElideRight, bottom_line.width())
            painter.drawText(bottom_line, int(Qt.AlignmentFlag.AlignVCenter), elided)
        painter.restore()
