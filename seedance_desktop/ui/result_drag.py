"""Results dragged within the app (onto the sequence strip) and out of it (to a file manager or an
editor): one drag carries the job ids for the strip and, where known, the video files' URLs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QMimeData, QObject, QPoint, Qt, QUrl
from PySide6.QtGui import QDrag, QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView

RESULT_MIME = "application/x-seedance-result-ids"


def result_mime(job_ids: Sequence[int], files: Sequence[str] = ()) -> QMimeData:
    """The job ids for the strip, and the results' files as URLs for other applications."""
    data = QMimeData()
    if files:
        data.setUrls([QUrl.fromLocalFile(path) for path in files])
    data.setData(RESULT_MIME, ",".join(str(i) for i in job_ids).encode())
    data.setText(" ".join(f"result {i}" for i in job_ids))
    return data


def dropped_results(data: QMimeData) -> list[int]:
    if not data.hasFormat(RESULT_MIME):
        return []
    text = bytes(data.data(RESULT_MIME).data()).decode()
    return [int(part) for part in text.split(",") if part.strip().isdigit()]


class ResultDragSource(QObject):
    """Makes any item view a source of results for the strip, without touching its model:
    a press and a move on an item holding a job id (in `role`) starts a drag."""

    def __init__(self, view: QAbstractItemView, role: int) -> None:
        super().__init__(view)
        self.view, self.role = view, role
        self._pressed: QPoint | None = None
        view.viewport().installEventFilter(self)

    def eventFilter(self, _watched: QObject, event: Any) -> bool:  # Qt's name
        kind = event.type()
        if kind == event.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            self._pressed = event.position().toPoint()
        elif kind == event.Type.MouseButtonRelease:
            self._pressed = None
        elif kind == event.Type.MouseMove and self._pressed is not None:
            moved = (event.position().toPoint() - self._pressed).manhattanLength()
            if moved >= 12:
                index = self.view.indexAt(self._pressed)
                self._pressed = None
                job_id = index.siblingAtColumn(0).data(self.role) if index.isValid() else None
                if isinstance(job_id, int):
                    drag = QDrag(self.view)
                    drag.setMimeData(result_mime([job_id]))
                    icon = index.siblingAtColumn(0).data(Qt.ItemDataRole.DecorationRole)
                    if isinstance(icon, QPixmap | QIcon):
                        pixmap = icon if isinstance(icon, QPixmap) else icon.pixmap(96, 54)
                        drag.setPixmap(pixmap.scaled(96, 54, Qt.AspectRatioMode.KeepAspectRatio))
                    drag.exec(Qt.DropAction.CopyAction)
                    return True
        return False
