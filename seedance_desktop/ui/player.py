"""The embedded player: frames from a QVideoSink painted by the widget itself, so it works
offscreen and in screenshots; a poster frame instead of black; and a calm fallback where
QtMultimedia cannot load (everything else keeps working)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMetaObject, QRect, Qt, QUrl
from PySide6.QtGui import (
    QCloseEvent,
    QDesktopServices,
    QImage,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QShortcut,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)


def load_multimedia() -> tuple[Any, str | None]:
    """QtMultimedia, or None with the reason it could not load (e.g. libpulse missing)."""
    try:
        from PySide6 import QtMultimedia
    except ImportError as exc:
        return None, str(exc)
    return QtMultimedia, None


def clock(ms: int) -> str:
    seconds = max(ms, 0) // 1000
    return f"{seconds // 60}:{seconds % 60:02d}"


class VideoSurface(QWidget):
    """Paints the current frame (or the poster), letterboxed, on a dark background."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.image = QImage()
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.message = ""

    def show_image(self, image: QImage) -> None:
        self.image = image
        self.update()

    def paintEvent(self, _event: object) -> None:  # Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.black)
        if not self.image.isNull():
            size = self.image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            x = (self.width() - size.width()) // 2
            y = (self.height() - size.height()) // 2
            painter.drawImage(QRect(x, y, size.width(), size.height()), self.image)
        elif self.message:
            painter.setPen(Qt.GlobalColor.lightGray)
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            painter.drawText(self.rect().adjusted(16, 16, -16, -16), flags, self.message)
        painter.end()


class PlayerWidget(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Player")
        self._path: Path | None = None
        self._poster = QImage()
        self.surface = VideoSurface(self)
        self.surface.message = "Select a result to preview it here."
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play / pause (Space)")
        self.seek = QSlider(Qt.Orientation.Horizontal)
        self.seek.setAccessibleName("Position")
        self.time = QLabel("0:00 / 0:00")
        self.loop = QCheckBox("Loop")
        self.mute = QCheckBox("Mute")
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setRange(0, 100)
        self.volume.setValue(80)
        self.volume.setMaximumWidth(90)
        self.volume.setAccessibleName("Volume")
        self.external = QPushButton("Open in player")
        self.folder = QPushButton("Show in folder")
        self.notice = QLabel("")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        controls = QHBoxLayout()
        for widget in (self.play_button, self.seek, self.time, self.loop, self.mute, self.volume):
            controls.addWidget(widget)
        extra = QHBoxLayout()
        extra.addWidget(self.external)
        extra.addWidget(self.folder)
        extra.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.surface, 1)
        layout.addWidget(self.notice)
        layout.addLayout(controls)
        layout.addLayout(extra)
        self.external.clicked.connect(self.open_external)
        self.folder.clicked.connect(self.show_in_folder)
        for key, slot in (
            ("Space", self.toggle),
            (",", lambda: self.step(-1)),
            (".", lambda: self.step(1)),
            ("F", self.toggle_fullscreen),
            ("Esc", self.leave_fullscreen),
        ):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.seek.sliderMoved.connect(self._seek_to)
        self.play_button.clicked.connect(self.toggle)
        self.volume.valueChanged.connect(self._apply_volume)
        self.mute.toggled.connect(self._apply_volume)
        self._set_enabled(False)
        self.player: Any = None
        self._available: bool | None = None  # QtMultimedia starts on first use, not at start-up

    @property
    def available(self) -> bool:
        if self._available is None:
            self._start_multimedia()
        return bool(self._available)

    # Set-up ------------------------------------------------------------------------------------

    def _start_multimedia(self, loader: Any = load_multimedia) -> None:
        multimedia, reason = loader()
        if multimedia is None:
            self._available = False
            self.notice.setText(
                "Preview needs Qt Multimedia, which could not load here "
                f"({reason}). Use “Open in player” to watch results."
            )
            self.notice.setVisible(True)
            return
        self._available = True
        self.player = multimedia.QMediaPlayer(self)
        self.audio = multimedia.QAudioOutput(self)
        self.sink = multimedia.QVideoSink(self)
        self.player.setAudioOutput(self.audio)
        self.player.setVideoSink(self.sink)
        self.sink.videoFrameChanged.connect(self._frame)
        self.player.positionChanged.connect(self._position)
        self.player.durationChanged.connect(lambda ms: self.seek.setRange(0, ms))
        self.player.playbackStateChanged.connect(self._state)
        self.player.mediaStatusChanged.connect(self._status)
        self.player.errorOccurred.connect(self._error)
        self._multimedia = multimedia
        self._apply_volume()

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.play_button, self.seek, self.external, self.folder):
            widget.setEnabled(enabled)

    # API ---------------------------------------------------------------------------------------

    def load(self, path: Path, poster: Path | None = None) -> None:
        self._path = Path(path)
        self._poster = QImage(str(poster)) if poster else QImage()
        self.surface.show_image(self._poster)
        self.external.setEnabled(True)
        self.folder.setEnabled(True)
        if not self.available:
            return
        self.play_button.setEnabled(True)
        self.seek.setEnabled(True)
        self.player.setSource(QUrl.fromLocalFile(str(self._path)))
        self.player.pause()  # decode the first frame without playing

    def release(self) -> None:
        """Stop playback and let Qt's loop destroy the media player, before the widget goes.

        The player's own threads need the GIL while they stop (they call into the Python side
        of the objects this widget made). Stopping or destroying the player from Python, which
        holds the GIL throughout the call, deadlocks now and then: a stop() that waits for a
        lock one of those threads holds, or a destructor run by the garbage collector. So the
        stop is a queued call and the deletes are posted: both run from Qt's loop, where the
        GIL is free.
        """
        if self.player is None:
            return
        for part in (self.player, self.audio, self.sink):
            part.blockSignals(True)  # nothing reaches the handlers once it is going
        QMetaObject.invokeMethod(self.player, "stop", Qt.ConnectionType.QueuedConnection)
        for part in (self.player, self.audio, self.sink):
            part.deleteLater()
        self.player = None
        self._available = None
        self._set_enabled(False)

    def closeEvent(self, event: QCloseEvent) -> None:  # Qt's name
        # A player shown as a window of its own (the main window releases it itself: children
        # get no close event when their window closes).
        self.release()
        super().closeEvent(event)

    def source(self) -> Path | None:
        return self._path

    def has_frame(self) -> bool:
        return not self.surface.image.isNull()

    def toggle(self) -> None:
        if not self.available or self._path is None:
            return
        playing = self._multimedia.QMediaPlayer.PlaybackState.PlayingState
        if self.player.playbackState() == playing:
            self.player.pause()
        else:
            self.player.play()

    def step(self, frames: int) -> None:
        if self.available and self._path is not None:
            self.player.pause()
            self.player.setPosition(max(0, self.player.position() + frames * 1000 // 24))

    def toggle_fullscreen(self) -> None:
        if self.surface.isFullScreen():
            self.leave_fullscreen()
        else:
            self.surface.setWindowFlag(Qt.WindowType.Window, True)
            self.surface.showFullScreen()

    def leave_fullscreen(self) -> None:
        if self.surface.isFullScreen() or self.surface.isWindow():
            self.surface.setWindowFlag(Qt.WindowType.Window, False)
            self.surface.showNormal()
            self.layout().insertWidget(0, self.surface, 1)  # type: ignore[attr-defined]
            self.surface.show()

    def open_external(self) -> None:
        if self._path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._path)))

    def show_in_folder(self) -> None:
        if self._path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._path.parent)))

    def _seek_to(self, ms: int) -> None:
        if self.player is not None:
            self.player.setPosition(ms)

    def _apply_volume(self) -> None:
        if self.player is not None:
            self.audio.setVolume(self.volume.value() / 100)
            self.audio.setMuted(self.mute.isChecked())

    def keyPressEvent(self, event: QKeyEvent) -> None:  # Qt's name
        if event.key() == Qt.Key.Key_Space:
            self.toggle()
            return
        super().keyPressEvent(event)

    # Player signals ----------------------------------------------------------------------------

    def _frame(self, frame: Any) -> None:
        if frame.isValid():
            self.surface.show_image(frame.toImage())

    def _position(self, ms: int) -> None:
        if not self.seek.isSliderDown():
            self.seek.setValue(ms)
        self.time.setText(f"{clock(ms)} / {clock(self.player.duration())}")

    def _state(self, state: Any) -> None:
        playing = state == self._multimedia.QMediaPlayer.PlaybackState.PlayingState
        self.play_button.setText("Pause" if playing else "Play")

    def _status(self, status: Any) -> None:
        ended = self._multimedia.QMediaPlayer.MediaStatus.EndOfMedia
        if status == ended:
            if self.loop.isChecked():
                self.player.setPosition(0)
                self.player.play()
            elif not self._poster.isNull():
                self.surface.show_image(self._poster)  # a poster, never a black frame

    def _error(self, _error: Any, text: str) -> None:
        self.notice.setText(f"This video cannot be previewed here: {text}")
        self.notice.setVisible(True)
