"""Thumbnails decoded off the UI thread: a view asks for a picture when it paints a row and gets
it (through `loaded`) once a worker thread has read it, scaled to the size the view shows.

Decoding a JPEG takes milliseconds; a page of rows decoded while painting would make every
scroll step late. The most recently asked-for picture is read first, and an LRU keeps the rest.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QImageReader, QPixmap

from seedance_desktop.ui.tasks import TaskRunner


def read_thumbnail(path: str, size: QSize) -> QImage:
    """The picture at `path` scaled into `size` (a null image when it cannot be read)."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    source = reader.size()
    if source.isValid():
        reader.setScaledSize(source.scaled(size, Qt.AspectRatioMode.KeepAspectRatio))
    return reader.read()


class ThumbnailLoader(QObject):
    loaded = Signal(str)  # the path whose icon is now ready (or known to be unreadable)

    def __init__(
        self, tasks: TaskRunner, size: QSize, capacity: int, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.size = size
        self.capacity = capacity
        self._icons: OrderedDict[str, QIcon | None] = OrderedDict()  # None: unreadable
        self._wanted: OrderedDict[str, None] = OrderedDict()  # newest request last
        self._loading = False

    def icon(self, path: str) -> QIcon | None:
        """The icon if it is ready; otherwise None, and it is read soon."""
        if path in self._icons:
            self._icons.move_to_end(path)
            return self._icons[path]
        self._wanted.pop(path, None)
        self._wanted[path] = None  # painted now: read it before older requests
        if not self._loading:
            self._loading = True
            task = self.tasks.run(self._load(), "Loading thumbnails")
            # Even a task that never ran (cancelled at once, or refused by the loop) frees this.
            task.add_done_callback(lambda _: setattr(self, "_loading", False))
        return None

    def is_loaded(self, path: str) -> bool:
        return self._icons.get(path) is not None

    def forget(self) -> None:
        self._wanted.clear()

    async def _load(self) -> None:
        while self._wanted:
            path, _ = self._wanted.popitem(last=True)
            image = await asyncio.to_thread(read_thumbnail, path, self.size)
            self._icons[path] = None if image.isNull() else QIcon(QPixmap.fromImage(image))
            while len(self._icons) > self.capacity:
                self._icons.popitem(last=False)
            self.loaded.emit(path)
