"""The library grid's model: library entries paged in as the grid scrolls (so 10,000 entries open
about as fast as ten), with thumbnails read in a worker thread only for the rows the grid paints
(a placeholder until then), so decoding pictures never holds up a paint."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QIcon, QImage, QImageReader, QPixmap

from seedance_desktop.engine.interface import LibraryEntry, LibraryFilter
from seedance_desktop.ui.result_drag import RESULT_MIME, result_mime
from seedance_desktop.ui.tasks import TaskRunner

FIRST_PAGE = 48  # a screenful or two: what the first paint needs
PAGE_SIZE = 200
THUMB_SIZE = QSize(160, 90)
THUMB_CACHE = 600  # decoded thumbnails kept (about 60 kB each)
EntryRole = Qt.ItemDataRole.UserRole + 1
JobIdRole = Qt.ItemDataRole.UserRole + 2
SubtitleRole = Qt.ItemDataRole.UserRole + 3
# Plain ints: data() runs for several roles of every painted item, and looking up Qt's enum
# members there is a measurable part of a page's paint.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole)
_ENTRY = int(EntryRole)
_JOB_ID = int(JobIdRole)
_SUBTITLE = int(SubtitleRole)

Index = QModelIndex | QPersistentModelIndex
LibraryPages = Callable[[LibraryFilter], list[LibraryEntry]]  # a filter with limit/offset → page
_ROOT = QModelIndex()  # the list's only parent


def title_for(entry: LibraryEntry, width: int = 40) -> str:
    """The grid caption: the prompt on one line, shortened (the star is a badge on the
    thumbnail)."""
    prompt = " ".join(entry.prompt.split()) or "(no prompt)"
    if len(prompt) > width:
        prompt = prompt[: width - 1].rstrip() + "…"
    return prompt


def subtitle_for(entry: LibraryEntry) -> str:
    """The caption's second line: which variation (a stack says how many), length and cost."""
    if entry.stack_size > 1:
        first = f"{entry.stack_size} variations"
    else:
        first = entry.variation_label or ""
    length = f"{entry.duration_s:.0f} s" if entry.duration_s else ""
    cost = f"${entry.cost_usd:.2f}" if entry.cost_usd else ""
    return " · ".join(part for part in (first, length, cost) if part)


def _read_thumbnail(path: str, size: QSize) -> QImage:
    """A thumbnail scaled to fit `size` (a null image if unreadable). Runs in a worker thread:
    QImage, unlike QPixmap, may be used off the UI thread."""
    reader = QImageReader(path)
    source = reader.size()
    if source.isValid():
        reader.setScaledSize(source.scaled(size, Qt.AspectRatioMode.KeepAspectRatio))
    return reader.read()


class LibraryModel(QAbstractListModel):
    # After every page read, rows or not: whether more may follow can change with no new row.
    loaded = Signal()
    stripReady = Signal(int)  # a job id whose filmstrip can now be shown

    def __init__(self, tasks: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.pages: LibraryPages | None = None
        self.where = LibraryFilter()
        self._entries: list[LibraryEntry] = []
        self._titles: list[str] = []  # the caption of each row, made once
        self._subtitles: list[str] = []
        self._rows: dict[int, int] = {}  # job id -> row
        self._offset = 0  # how far into the filtered list the pages reach
        self._exhausted = True
        self._thumbs: OrderedDict[str, QIcon | None] = OrderedDict()  # None: unreadable
        self._wanted: dict[str, int] = {}  # thumbnail path -> job id, newest request last
        self._loading = False
        self._placeholder = QIcon(self._blank(QColor(128, 128, 128, 60)))
        self.strip_path: Callable[[LibraryEntry], Path | None] | None = None
        self._strips: dict[int, QImage | None] = {}  # job id -> filmstrip (None: not yet)

    # Loading -----------------------------------------------------------------------------------

    def set_source(self, pages: LibraryPages | None, where: LibraryFilter) -> None:
        """Show the first page that `pages` gives under `where` (its limit/offset are ignored)."""
        self.beginResetModel()
        self.pages = pages
        self.where = replace(where, limit=None, offset=0)
        self._entries, self._titles, self._subtitles, self._rows = [], [], [], {}
        self._offset = 0
        self._exhausted = pages is None
        self._wanted.clear()
        self.endResetModel()
        if pages is None:
            self.loaded.emit()
        else:
            self.fetchMore(QModelIndex())

    def canFetchMore(self, parent: Index = _ROOT) -> bool:
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: Index = _ROOT) -> None:
        if parent.isValid() or self._exhausted or self.pages is None:
            return
        size = PAGE_SIZE if self._offset else FIRST_PAGE
        page = self.pages(replace(self.where, limit=size, offset=self._offset))
        self._offset += len(page)
        self._exhausted = len(page) < size
        fresh = [e for e in page if e.job_id not in self._rows]
        if fresh:
            first = len(self._entries)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            for entry in fresh:
                self._rows[entry.job_id] = len(self._entries)
                self._entries.append(entry)
                self._titles.append(title_for(entry))
                self._subtitles.append(subtitle_for(entry))
            self.endInsertRows()
        self.loaded.emit()

    @property
    def exhausted(self) -> bool:
        return self._exhausted

    # Qt's model API ----------------------------------------------------------------------------

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._entries)

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        row = index.row()
        if not 0 <= row < len(self._entries) or not index.isValid():
            return None
        if role == _DISPLAY:
            return self._titles[row]
        if role == _DECORATION:
            return self._icon(self._entries[row])
        if role == _SUBTITLE:
            return self._subtitles[row]
        entry = self._entries[row]
        if role == _TOOLTIP:
            return f"{entry.prompt}\n{entry.mode.label} · {_when(entry)}"
        if role == _ACCESSIBLE:
            starred = ", starred" if entry.starred else ""
            which = f", {self._subtitles[row]}" if self._subtitles[row] else ""
            return (
                f"{entry.prompt or 'No prompt'}, {entry.mode.label}, {_when(entry)}{which}{starred}"
            )
        if role == _ENTRY:
            return entry
        if role == _JOB_ID:
            return entry.job_id
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list", RESULT_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        """Results dragged: their video files, as file managers and editors take them, and
        their ids for the sequence strip (a stack gives its first variation)."""
        rows = sorted({index.row() for index in indexes})
        entries = [e for e in (self.entry(row) for row in rows) if e is not None]
        return result_mime([e.job_id for e in entries], [str(e.path) for e in entries])

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    # Rows --------------------------------------------------------------------------------------

    def entry(self, row: int) -> LibraryEntry | None:
        return self._entries[row] if 0 <= row < len(self._entries) else None

    def entries(self) -> list[LibraryEntry]:
        return list(self._entries)

    def row_of(self, job_id: int) -> int | None:
        return self._rows.get(job_id)

    # Thumbnails --------------------------------------------------------------------------------

    def thumbnail_loaded(self, row: int) -> bool:
        entry = self.entry(row)
        if entry is None or entry.thumbnail is None:
            return False
        return self._thumbs.get(str(entry.thumbnail)) is not None

    def _icon(self, entry: LibraryEntry) -> QIcon:
        if entry.thumbnail is None:
            return self._placeholder
        key = str(entry.thumbnail)
        if key in self._thumbs:
            self._thumbs.move_to_end(key)
            icon = self._thumbs[key]
            return icon if icon is not None else self._placeholder
        self._wanted.pop(key, None)
        self._wanted[key] = entry.job_id  # painted now: read it before older requests
        if not self._loading:
            self._loading = True
            task = self.tasks.run(self._load_thumbnails(), "Loading thumbnails")
            # Even a task that never ran (cancelled at once, or refused by the loop) frees this.
            task.add_done_callback(lambda _: setattr(self, "_loading", False))
        return self._placeholder

    async def _load_thumbnails(self) -> None:
        while self._wanted:
            key = next(reversed(self._wanted))
            job_id = self._wanted.pop(key)
            image = await asyncio.to_thread(_read_thumbnail, key, THUMB_SIZE)
            self._thumbs[key] = None if image.isNull() else QIcon(QPixmap.fromImage(image))
            while len(self._thumbs) > THUMB_CACHE:
                self._thumbs.popitem(last=False)
            row = self._rows.get(job_id)
            if row is not None:
                index = self.index(row)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    # Filmstrips (hover-scrub) ---------------------------------------------------------------------

    def filmstrip(self, row: int) -> QImage | None:
        """The row's filmstrip once made and read; asks for it (made once, in a worker thread,
        kept beside the thumbnail) the first time, and answers None until it is there."""
        entry = self.entry(row)
        if entry is None or self.strip_path is None:
            return None
        if entry.job_id in self._strips:
            return self._strips[entry.job_id]
        self._strips[entry.job_id] = None
        target = self.strip_path(entry)
        if target is not None:
            self.tasks.run(self._load_strip(entry, target), "Making a filmstrip")
        return None

    async def _load_strip(self, entry: LibraryEntry, target: Path) -> None:
        image = await asyncio.to_thread(_read_or_make_strip, entry.path, target)
        self._strips[entry.job_id] = None if image.isNull() else image
        row = self._rows.get(entry.job_id)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])
            self.stripReady.emit(entry.job_id)

    @staticmethod
    def _blank(color: QColor) -> QPixmap:
        pixmap = QPixmap(THUMB_SIZE)
        pixmap.fill(color)
        return pixmap


def _read_or_make_strip(video: Path, target: Path) -> QImage:
    """Runs in a worker thread: the filmstrip, made first if it is not there yet."""
    from seedance_desktop.media.filmstrip import make_filmstrip
    from seedance_desktop.media.frames import MediaError

    if not target.exists():
        try:
            make_filmstrip(video, target)
        except (MediaError, OSError):
            return QImage()
    return QImage(str(target))


def _when(entry: LibraryEntry) -> str:
    return datetime.fromtimestamp(entry.created_at).strftime("%Y-%m-%d %H:%M")
