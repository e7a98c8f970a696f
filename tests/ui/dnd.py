"""Simulated drag and drop of files, as a file manager sends them."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget


def drop_files(widget: QWidget, paths: list[Path | str]) -> None:
    mime = QMimeData()
    mime.setUrls(
        [QUrl(str(p)) if str(p).startswith("http") else QUrl.fromLocalFile(str(p)) for p in paths]
    )
    point = QPointF(widget.rect().center())
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(point.toPoint(), Qt.DropAction.CopyAction, mime, buttons, keys)
    QApplication.sendEvent(widget, enter)
    QApplication.sendEvent(widget, QDropEvent(point, Qt.DropAction.CopyAction, mime, buttons, keys))
