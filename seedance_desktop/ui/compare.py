"""Compare: two results (two variations, say) side by side or as a wipe, on one clock — every
play, step and seek moves both to the same frame number — then star the keeper and discard the
others in one click.

Both pictures come from PyAV (frame_reader.py), decoded together in one worker thread, so the
two sides can never drift apart the way two media players would. A shorter result holds its
last frame. Compare is silent: two soundtracks at once help nobody judge.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

from PySide6.QtCore import QObject, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from seedance_desktop.engine.interface import EngineInterface, LibraryEntry
from seedance_desktop.ui.frame_reader import FrameReader, timecode
from seedance_desktop.ui.player import TransportBar
from seedance_desktop.ui.tasks import TaskRunner


class PairFetcher(QObject):
    """Frame n of both files, decoded together in one worker thread; only the newest request
    is worked on."""

    ready = Signal(int, QImage, QImage)

    def __init__(self, left: Path, right: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.readers = (FrameReader(left), FrameReader(right))
        self._lock = threading.Lock()
        self._pending: int | None = None
        self._busy = False
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="compare")

    def request(self, frame: int) -> None:
        with self._lock:
            self._pending = frame
            if self._busy:
                return
            self._busy = True
        self._executor.submit(self._work)

    def _work(self) -> None:
        while True:
            with self._lock:
                if self._pending is None:
                    self._busy = False
                    return
                frame, self._pending = self._pending, None
            left, right = (reader.frame(frame) or QImage() for reader in self.readers)
            self.ready.emit(frame, left, right)

    def close(self) -> None:
        def close_readers() -> None:
            for reader in self.readers:
                reader.close()

        self._executor.submit(close_readers)
        self._executor.shutdown(wait=False)


class CompareSurface(QWidget):
    """Both pictures: halves side by side, or one over the other split by a wipe line that a
    click or drag moves."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.left = QImage()
        self.right = QImage()
        self.wipe = False
        self.split = 0.5  # where the wipe line is, 0 (all B) to 1 (all A)
        self.labels = ("A", "B")
        self.setMinimumSize(480, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def show_pair(self, left: QImage, right: QImage) -> None:
        self.left, self.right = left, right
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # Qt's name
        self._move_split(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # Qt's name
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._move_split(event)

    def _move_split(self, event: QMouseEvent) -> None:
        if self.wipe:
            self.split = min(1.0, max(0.0, event.position().x() / max(1, self.width())))
            self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:  # Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.black)
        if self.wipe:
            box = self.rect()
            _draw_fitted(painter, self.right, box)
            line = int(self.width() * self.split)
            painter.save()
            painter.setClipRect(QRect(0, 0, line, self.height()))
            _draw_fitted(painter, self.left, box)
            painter.restore()
            painter.setPen(QPen(QColor(255, 255, 255), 2))
            painter.drawLine(line, 0, line, self.height())
            self._label(painter, QRect(8, 8, 40, 22), self.labels[0])
            self._label(painter, QRect(self.width() - 48, 8, 40, 22), self.labels[1])
        else:
            half = self.width() // 2
            for number, (image, box) in enumerate(
                (
                    (self.left, QRect(0, 0, half - 2, self.height())),
                    (self.right, QRect(half + 2, 0, self.width() - half - 2, self.height())),
                )
            ):
                _draw_fitted(painter, image, box)
                self._label(painter, QRect(box.x() + 8, 8, 40, 22), self.labels[number])
        painter.end()

    @staticmethod
    def _label(painter: QPainter, box: QRect, text: str) -> None:
        painter.fillRect(box, QColor(20, 20, 24, 200))
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def _draw_fitted(painter: QPainter, image: QImage, box: QRect) -> None:
    if image.isNull():
        return
    size = image.size().scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
    x = box.x() + (box.width() - size.width()) // 2
    y = box.y() + (box.height() - size.height()) // 2
    painter.drawImage(QRect(x, y, size.width(), size.height()), image)


class CompareWindow(QWidget):
    """Two results on one clock. `discardRequested` carries the results to delete (the library
    deletes them, undoably)."""

    discardRequested = Signal(list)

    def __init__(
        self, engine: EngineInterface, tasks: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.engine = engine
        self.tasks = tasks
        self.setWindowTitle("Compare")
        self.resize(1280, 640)
        self.entries: tuple[LibraryEntry, LibraryEntry] | None = None
        self.group: list[int] = []  # every result being judged (a stack's variations)
        self.fetcher: PairFetcher | None = None
        self.frames = 0
        self.fps = Fraction(24)
        self.frame = 0
        self.shown_frame: int | None = None
        self._waiting = False
        self.surface = CompareSurface()
        self.side_by_side = QRadioButton("Side by side")
        self.wipe = QRadioButton("Wipe")
        self.side_by_side.setChecked(True)
        modes = QButtonGroup(self)
        modes.addButton(self.side_by_side)
        modes.addButton(self.wipe)
        self.wipe.toggled.connect(self._set_wipe)
        self.transport = TransportBar()
        self.captions = (QLabel(""), QLabel(""))
        self.timecodes = (QLabel("--:--:--:--"), QLabel("--:--:--:--"))
        for label in self.timecodes:
            label.setAccessibleName("Timecode")
        self.keep_buttons = (QPushButton("★ Keep A"), QPushButton("★ Keep B"))
        self.discard_box = QPushButton("Delete the others")
        self.discard_box.setCheckable(True)
        self.discard_box.setChecked(True)
        self.discard_box.setToolTip("Keeping one deletes the others (undo from the library)")
        self.status = QLabel("")
        for side, button in enumerate(self.keep_buttons):
            button.clicked.connect(lambda _=False, s=side: self.keep(s))
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        info = QHBoxLayout()
        for side in (0, 1):
            column = QVBoxLayout()
            column.addWidget(self.captions[side])
            column.addWidget(self.timecodes[side])
            info.addLayout(column, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.side_by_side)
        bottom.addWidget(self.wipe)
        bottom.addStretch(1)
        bottom.addWidget(self.status)
        bottom.addWidget(self.keep_buttons[0])
        bottom.addWidget(self.keep_buttons[1])
        bottom.addWidget(self.discard_box)
        layout = QVBoxLayout(self)
        layout.addWidget(self.surface, 1)
        layout.addLayout(info)
        layout.addWidget(self.transport)
        layout.addLayout(bottom)
        self.transport.play_button.clicked.connect(self.toggle)
        self.transport.timeline.seekRequested.connect(self.seek_frame)
        self._clock = QTimer(self)
        self._clock.timeout.connect(self._tick)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # API ---------------------------------------------------------------------------------------

    def compare(
        self, left: LibraryEntry, right: LibraryEntry, group: Sequence[int] | None = None
    ) -> None:
        self.entries = (left, right)
        self.group = list(group or (left.job_id, right.job_id))
        if self.fetcher is not None:
            self.fetcher.close()
        self.fetcher = PairFetcher(left.path, right.path, self)
        self.fetcher.ready.connect(self._pair)
        timings = [reader.timing for reader in self.fetcher.readers]
        self.fps = timings[0].fps
        self.frames = max(t.frames for t in timings)
        self.transport.timeline.set_length(self.frames)
        for side, entry in enumerate(self.entries):
            which = entry.variation_label or f"seed {entry.seed}"
            self.captions[side].setText(f"<b>{'AB'[side]}</b> · {which}")
        names = [
            f"{'AB'[i]} #{e.variation}" if e.variations > 1 else "AB"[i]
            for i, e in enumerate(self.entries)
        ]
        self.surface.labels = (names[0], names[1])
        self.seek_frame(0)

    def seek_frame(self, frame: int) -> None:
        self.frame = max(0, min(self.frames - 1, frame))
        self._show_position()
        self._request()

    def step(self, frames: int) -> None:
        self.pause()
        self.seek_frame(self.frame + frames)

    @property
    def playing(self) -> bool:
        return self._clock.isActive()

    def play(self) -> None:
        if self.frames and not self.playing:
            if self.frame >= self.frames - 1:
                self.seek_frame(0)
            self._clock.start(max(1, round(1000 / float(self.fps))))
            self.transport.play_button.setText("Pause")

    def pause(self) -> None:
        self._clock.stop()
        self.transport.play_button.setText("Play")

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def keep(self, side: int) -> None:
        """Star the result on `side`; delete the others compared with it (when chosen)."""
        if self.entries is None:
            return
        keeper = self.entries[side]
        self.engine.star([keeper.job_id], True)
        others = [job_id for job_id in self.group if job_id != keeper.job_id]
        if self.discard_box.isChecked() and others:
            self.discardRequested.emit(others)
            self.status.setText(f"Kept {'AB'[side]} (starred); deleted {len(others)}.")
            self.pause()
            self.close()
        else:
            self.status.setText(f"Starred {'AB'[side]}.")

    def timecode_texts(self) -> tuple[str, str]:
        return self.timecodes[0].text(), self.timecodes[1].text()

    # Internals ---------------------------------------------------------------------------------

    def _set_wipe(self, wipe: bool) -> None:
        self.surface.wipe = wipe
        self.surface.update()

    def _request(self) -> None:
        if self.fetcher is not None:
            self._waiting = True
            self.fetcher.request(self.frame)

    def _tick(self) -> None:
        if self._waiting:
            return  # decoding is behind the clock: this tick's frame is skipped, not queued
        if self.frame >= self.frames - 1:
            self.pause()
            return
        self.seek_frame(self.frame + 1)

    def _pair(self, frame: int, left: QImage, right: QImage) -> None:
        if frame != self.frame:
            return  # an older request; the newer one follows
        self._waiting = False
        self.shown_frame = frame
        self.surface.show_pair(left, right)

    def _show_position(self) -> None:
        self.transport.timeline.set_frame(self.frame)
        total = timecode(self.frames, self.fps)
        self.transport.time.setText(f"{timecode(self.frame, self.fps)} / {total}")
        if self.fetcher is None:
            return
        for side, reader in enumerate(self.fetcher.readers):
            shown = min(self.frame, reader.timing.frames - 1)
            self.timecodes[side].setText(
                f"{timecode(shown, reader.timing.fps)} · frame {shown + 1}"
            )

    def keyPressEvent(self, event: QKeyEvent) -> None:  # Qt's name
        key = event.key()
        if key == Qt.Key.Key_Space:
            self.toggle()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Comma):
            self.step(-1)
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_Period):
            self.step(1)
        elif key == Qt.Key.Key_Home:
            self.pause()
            self.seek_frame(0)
        elif key == Qt.Key.Key_End:
            self.pause()
            self.seek_frame(self.frames - 1)
        elif key == Qt.Key.Key_W:
            (self.side_by_side if self.wipe.isChecked() else self.wipe).setChecked(True)
        elif key == Qt.Key.Key_Escape:
            self.close()
        else:
            super().keyPressEvent(event)

    def closeEvent(self, event: object) -> None:  # Qt's name
        self.pause()
        if self.fetcher is not None:
            self.fetcher.close()
            self.fetcher = None
        super().closeEvent(event)  # type: ignore[arg-type]
