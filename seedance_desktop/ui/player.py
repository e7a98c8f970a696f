"""The player, for judging a shot frame by frame (DaVinci Resolve's viewer is the model).

Playing (with sound) is QMediaPlayer's; every still picture — after a seek, a step, a pause and
at the end — is the exact frame decoded by PyAV (frame_reader.py) in a worker thread, so what
is on screen is always the frame the timecode names, and the end shows the file's last frame
(QMediaPlayer shows black or an early frame there). Frames are painted by our own surface, so
the player works offscreen and in screenshots. Without QtMultimedia it still steps and seeks.

API for other panels: `load`, `seek_frame`, `play`, `pause`, `toggle`, `step`, and the signals
`frameChanged(int)` and `loaded(object)` (a VideoTiming).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QBuffer,
    QIODevice,
    QMetaObject,
    QObject,
    QRect,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QCloseEvent,
    QDesktopServices,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QResizeEvent,
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

from seedance_desktop.ui.frame_reader import FrameReader, VideoTiming, probe_timing, timecode
from seedance_desktop.ui.timeline import Timeline

log = logging.getLogger(__name__)

SHUTTLE_SPEEDS = (1, 2, 4, 8)


def load_multimedia() -> tuple[Any, str | None]:
    """QtMultimedia, or None with the reason it could not load (e.g. libpulse missing)."""
    try:
        from PySide6 import QtMultimedia
    except ImportError as exc:
        return None, str(exc)
    return QtMultimedia, None


class VideoSurface(QWidget):
    """Paints the current frame (or the poster), letterboxed, on a dark background."""

    doubleClicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = QImage()
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.message = ""

    def show_image(self, image: QImage) -> None:
        self.image = image
        self.update()

    def mouseDoubleClickEvent(self, _event: QMouseEvent) -> None:  # Qt's name
        self.doubleClicked.emit()

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


class ScrubCache:
    """Every frame of one file, scaled to fit SCRUB_WIDTH and kept as JPEG in memory (about
    2 MB a second of 720p), made by one sequential decode in its own thread right after the
    file is loaded. A jump anywhere then shows its frame in milliseconds, where decoding from
    the keyframe before it can take most of a second; the exact decode follows and replaces it
    (editors call these optimized media)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.frames: dict[int, bytes] = {}
        self.stopped = False

    def build(self) -> None:
        try:
            with FrameReader(self.path) as reader:
                for number in range(reader.timing.frames):
                    if self.stopped:
                        return
                    image = reader.frame(number, lambda: self.stopped)
                    if image is None or image.isNull():
                        continue
                    if image.width() > SCRUB_WIDTH:
                        image = image.scaledToWidth(
                            SCRUB_WIDTH, Qt.TransformationMode.FastTransformation
                        )
                    buffer = QBuffer()
                    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
                    image.save(buffer, "JPEG", 85)  # type: ignore[call-overload]
                    self.frames[number] = bytes(buffer.data().data())
        except Exception as exc:  # a file that cannot be read has no cache; seeks still work
            log.info("no scrub cache for %s: %s", self.path.name, exc)

    def image(self, number: int) -> QImage | None:
        data = self.frames.get(number)
        return None if data is None else QImage.fromData(data, "JPEG")  # type: ignore[arg-type]


SCRUB_WIDTH = 960


class FrameFetcher(QObject):
    """Decodes requested frames in one worker thread; only the newest request is worked on (a
    drag across the timeline asks for many frames and needs only the last). A frame in the
    scrub cache is shown first; the exact decode then replaces it, unless a newer request came.
    """

    ready = Signal(str, int, QImage, bool)  # path, frame, picture (null: unreadable), exact

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._pending: tuple[Path, int] | None = None
        self._busy = False
        self._readers: dict[Path, FrameReader] = {}
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="frames")
        self._cache_executor = ThreadPoolExecutor(1, thread_name_prefix="scrub-cache")
        self.cache: ScrubCache | None = None

    def request(self, path: Path, frame: int) -> None:
        if self.cache is None or self.cache.path != path:
            if self.cache is not None:
                self.cache.stopped = True
            self.cache = ScrubCache(path)
            self._cache_executor.submit(self.cache.build)
        with self._lock:
            self._pending = (path, frame)
            if self._busy:
                return
            self._busy = True
        self._executor.submit(self._work)

    def _newer_request(self) -> bool:
        return self._pending is not None

    def _work(self) -> None:
        while True:
            with self._lock:
                if self._pending is None:
                    self._busy = False
                    return
                path, frame = self._pending
                self._pending = None
            cache = self.cache
            quick = cache.image(frame) if cache is not None and cache.path == path else None
            if quick is not None:
                self.ready.emit(str(path), frame, quick, False)
            try:
                image = self._reader(path).frame(frame, self._newer_request)
            except Exception as exc:  # an unreadable file is a message, never a dead thread
                log.info("no frame %s of %s: %s", frame, path.name, exc)
                self._readers.pop(path, None)
                image = QImage()
            if image is not None:
                self.ready.emit(str(path), frame, image, True)

    def _reader(self, path: Path) -> FrameReader:
        reader = self._readers.get(path)
        if reader is None:
            for old in self._readers.values():
                old.close()
            self._readers = {path: (reader := FrameReader(path))}
        return reader

    def close(self) -> None:
        def close_readers() -> None:
            for reader in self._readers.values():
                reader.close()
            self._readers.clear()

        if self.cache is not None:
            self.cache.stopped = True
        self._executor.submit(close_readers)
        self._executor.shutdown(wait=False, cancel_futures=False)
        self._cache_executor.shutdown(wait=False, cancel_futures=True)


class TransportBar(QWidget):
    """Play button, timeline and timecode: one in the panel, one over the full-screen picture."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play / pause (Space; J, K, L shuttle)")
        self.play_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.timeline = Timeline()
        self.time = QLabel("--:--:--:--")
        self.time.setAccessibleName("Timecode")
        self.time.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.time.font()
        font.setFamily("monospace")
        font.setStyleHint(font.StyleHint.Monospace)
        self.time.setFont(font)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.play_button)
        layout.addWidget(self.timeline, 1)
        layout.addWidget(self.time)


class FullscreenView(QWidget):
    """The picture on a whole screen, with controls over it; Esc, F and a double-click leave."""

    def __init__(self, player: PlayerWidget) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.player = player
        self.setWindowTitle("Seedance Desktop — full screen")
        self.setStyleSheet("background: black; color: #eee;")
        self.surface = VideoSurface(self)
        self.surface.doubleClicked.connect(player.leave_fullscreen)
        self.overlay = QWidget(self)
        self.overlay.setStyleSheet(
            "QWidget { background: rgba(20, 20, 24, 200); color: #eee; }"
            "QPushButton { padding: 4px 12px; border: 1px solid #666; border-radius: 4px; }"
        )
        self.transport = TransportBar()
        self.exit_button = QPushButton("Exit full screen (Esc)")
        self.exit_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.exit_button.clicked.connect(player.leave_fullscreen)
        row = QHBoxLayout(self.overlay)
        row.setContentsMargins(16, 8, 16, 8)
        row.addWidget(self.transport, 1)
        row.addWidget(self.exit_button)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def resizeEvent(self, event: QResizeEvent) -> None:  # Qt's name
        super().resizeEvent(event)
        self.surface.setGeometry(self.rect())
        height = 52
        self.overlay.setGeometry(0, self.height() - height, self.width(), height)
        self.overlay.raise_()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # Qt's name
        if event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_F):
            self.player.leave_fullscreen()
        elif not self.player.handle_key(event.key()):
            super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # Qt's name
        event.ignore()
        self.player.leave_fullscreen()


class PlayerWidget(QWidget):
    frameChanged = Signal(int)
    loaded = Signal(object)  # VideoTiming

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Player")
        self._path: Path | None = None
        self._poster = QImage()
        self.timing: VideoTiming | None = None
        self.frame = 0  # the frame the timecode names
        self.shown_frame: int | None = None  # the exact frame last decoded onto the surface
        self.preview_frame: int | None = None  # the last frame shown from the scrub cache
        self.in_point: int | None = None
        self.out_point: int | None = None
        self._playing = False
        self._reverse_speed = 0  # J: frames stepped back per tick
        # Where a play started, and seeks left to get there: a position set while the file is
        # still opening is lost, so it is set again until the player reports it.
        self._pending_start: tuple[int, int] | None = None
        self._forward_speed = 1
        self.surface = VideoSurface(self)
        self.surface.message = "Select a result to preview it here."
        self.surface.doubleClicked.connect(self.toggle_fullscreen)
        self.transport = TransportBar()
        self.play_button = self.transport.play_button
        self.timeline = self.transport.timeline
        self.time = self.transport.time
        self.frame_label = QLabel("")
        self.frame_label.setAccessibleName("Frame number")
        self.loop = QCheckBox("Loop")
        self.loop.setToolTip("Loop the in/out range (I and O set it), or the whole shot")
        self.mute = QCheckBox("Mute")
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setRange(0, 100)
        self.volume.setValue(80)
        self.volume.setMaximumWidth(90)
        self.volume.setAccessibleName("Volume")
        self.fullscreen_button = QPushButton("Full screen")
        self.fullscreen_button.setToolTip("Full screen (F); Esc, F or a double-click leave")
        self.external = QPushButton("Open in player")
        self.folder = QPushButton("Show in folder")
        for button in (self.fullscreen_button, self.external, self.folder):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.notice = QLabel("")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        extra = QHBoxLayout()
        for widget in (self.frame_label, self.loop, self.mute, self.volume):
            extra.addWidget(widget)
        extra.addStretch(1)
        for button in (self.fullscreen_button, self.external, self.folder):
            extra.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.surface, 1)
        layout.addWidget(self.notice)
        layout.addWidget(self.transport)
        layout.addLayout(extra)
        self.fullscreen: FullscreenView | None = None
        self.fetcher = FrameFetcher(self)
        self.fetcher.ready.connect(self._exact_frame)
        self._reverse_timer = QTimer(self)
        self._reverse_timer.timeout.connect(self._reverse_tick)
        self._connect_transport(self.transport)
        self.external.clicked.connect(self.open_external)
        self.folder.clicked.connect(self.show_in_folder)
        self.fullscreen_button.clicked.connect(self.toggle_fullscreen)
        self.volume.valueChanged.connect(self._apply_volume)
        self.mute.toggled.connect(self._apply_volume)
        self._set_enabled(False)
        self.player: Any = None
        self._available: bool | None = None  # QtMultimedia starts on first use, not at start-up

    def _connect_transport(self, transport: TransportBar) -> None:
        transport.play_button.clicked.connect(self.toggle)
        transport.timeline.seekRequested.connect(self.seek_frame)

    def _transports(self) -> list[TransportBar]:
        bars = [self.transport]
        if self.fullscreen is not None:
            bars.append(self.fullscreen.transport)
        return bars

    @property
    def available(self) -> bool:
        """Whether playback (QtMultimedia) works here; stepping and seeking always do."""
        if self._available is None:
            self._start_multimedia()
        return bool(self._available)

    # Set-up ------------------------------------------------------------------------------------

    def _start_multimedia(self, loader: Any = load_multimedia) -> None:
        multimedia, reason = loader()
        if multimedia is None:
            self._available = False
            self.notice.setText(
                "Playback needs Qt Multimedia, which could not load here "
                f"({reason}). Frames can still be stepped; use “Open in player” to watch."
            )
            self.notice.setVisible(True)
            return
        self._available = True
        self.player = multimedia.QMediaPlayer(self)
        self.audio = multimedia.QAudioOutput(self)
        self.sink = multimedia.QVideoSink(self)
        self.player.setAudioOutput(self.audio)
        self.player.setVideoSink(self.sink)
        self.sink.videoFrameChanged.connect(self._played_frame)
        self.player.positionChanged.connect(self._position)
        self.player.playbackStateChanged.connect(self._state)
        self.player.mediaStatusChanged.connect(self._status)
        self.player.errorOccurred.connect(self._error)
        self._multimedia = multimedia
        self._apply_volume()
        if self._path is not None:
            self.player.setSource(QUrl.fromLocalFile(str(self._path)))

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.play_button, self.timeline, self.external, self.folder):
            widget.setEnabled(enabled)
        self.fullscreen_button.setEnabled(enabled)

    # API ---------------------------------------------------------------------------------------

    def load(self, path: Path, poster: Path | None = None) -> None:
        """Show a video: its length and first frame at once, ready to play."""
        self._stop_playing()
        self._path = Path(path)
        self._poster = QImage(str(poster)) if poster else QImage()
        self._show(self._poster)
        self.shown_frame = self.preview_frame = None
        self.in_point = self.out_point = None
        self.external.setEnabled(True)
        self.folder.setEnabled(True)
        self.timing = probe_timing(self._path)
        if self.timing is None:
            self.notice.setText(f"{self._path.name} cannot be read as a video.")
            self.notice.setVisible(True)
            for bar in self._transports():
                bar.timeline.set_length(0)
                bar.time.setText("--:--:--:--")
            self.frame_label.setText("")
            return
        self.notice.setVisible(self._available is False)
        for bar in self._transports():
            bar.timeline.set_length(self.timing.frames)
            bar.play_button.setEnabled(True)
            bar.timeline.setEnabled(True)
        self.fullscreen_button.setEnabled(True)
        self.frame = 0
        self._show_position()
        self.fetcher.request(self._path, 0)
        if self.available:
            self.player.setSource(QUrl.fromLocalFile(str(self._path)))
        self.loaded.emit(self.timing)

    def source(self) -> Path | None:
        return self._path

    def has_frame(self) -> bool:
        return not self.surface.image.isNull()

    @property
    def playing(self) -> bool:
        return self._playing or self._reverse_timer.isActive()

    def seek_frame(self, frame: int) -> None:
        """Show exactly frame `frame` (clamped); playback goes on from there if it was on."""
        if self.timing is None or self._path is None:
            return
        self.frame = max(0, min(self.timing.frames - 1, frame))
        self._show_position()
        if self._playing:
            self._pending_start = None
            self.player.setPosition(self.timing.ms_of(self.frame))
        else:
            self.fetcher.request(self._path, self.frame)

    def seek_seconds(self, seconds: float) -> None:
        """Show the frame on screen `seconds` into the file."""
        if self.timing is not None:
            self.seek_frame(self.timing.frame_at_ms(seconds * 1000))

    def step(self, frames: int) -> None:
        self.pause()
        self.seek_frame(self.frame + frames)

    def play(self) -> None:
        self._reverse_timer.stop()
        if not self.available or self.timing is None or self._playing:
            return
        if self.frame >= self.timing.frames - 1 or self._at_out():
            self.frame = self.in_point or 0  # at the end, Play starts again
        self._playing = True
        self.player.setPlaybackRate(float(self._forward_speed))
        start = self.timing.ms_of(self.frame)
        self._pending_start = (start, 8) if start else None
        self.player.setPosition(start)
        self.player.play()

    def pause(self) -> None:
        self._reverse_timer.stop()
        self._reverse_speed = 0
        if not self._playing:
            return
        self._stop_playing()
        if self._path is not None:
            self.fetcher.request(self._path, self.frame)  # the exact frame where it stopped

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self._forward_speed = 1
            self.play()

    def set_in(self) -> None:
        self.in_point = self.frame
        if self.out_point is not None and self.out_point < self.frame:
            self.out_point = None
        self._show_range()

    def set_out(self) -> None:
        self.out_point = self.frame
        if self.in_point is not None and self.in_point > self.frame:
            self.in_point = None
        self._show_range()

    def clear_range(self) -> None:
        self.in_point = self.out_point = None
        self._show_range()

    def handle_key(self, key: int) -> bool:
        """The player's keys, wherever they were pressed; False for a key it does not use."""
        if self._path is None and key != Qt.Key.Key_Escape:
            return key in _KEYS
        frames = self.timing.frames if self.timing else 1
        if key == Qt.Key.Key_Space:
            self.toggle()
        elif key == Qt.Key.Key_K:
            self.pause()
        elif key == Qt.Key.Key_L:
            self.shuttle_forward()
        elif key == Qt.Key.Key_J:
            self.shuttle_back()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Comma):
            self.step(-1)
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_Period):
            self.step(1)
        elif key == Qt.Key.Key_Home:
            self.pause()
            self.seek_frame(0)
        elif key == Qt.Key.Key_End:
            self.pause()
            self.seek_frame(frames - 1)
        elif key == Qt.Key.Key_I:
            self.set_in()
        elif key == Qt.Key.Key_O:
            self.set_out()
        elif key == Qt.Key.Key_F:
            self.toggle_fullscreen()
        elif key == Qt.Key.Key_Escape:
            if self.fullscreen is None or not self.fullscreen.isVisible():
                return False
            self.leave_fullscreen()
        else:
            return False
        return True

    def shuttle_forward(self) -> None:
        """L: play; each further L plays faster (1×, 2×, 4×, 8×)."""
        if self._playing:
            index = SHUTTLE_SPEEDS.index(self._forward_speed)
            self._forward_speed = SHUTTLE_SPEEDS[min(index + 1, len(SHUTTLE_SPEEDS) - 1)]
            self.player.setPlaybackRate(float(self._forward_speed))
            return
        self._forward_speed = 1
        self.play()

    def shuttle_back(self) -> None:
        """J: play backwards, frame by frame (silently); each further J goes faster."""
        if self.timing is None:
            return
        speed = self._reverse_speed
        self.pause()
        self._reverse_speed = min(speed * 2, SHUTTLE_SPEEDS[-1]) if speed else 1
        self._reverse_timer.start(max(1, round(1000 / float(self.timing.fps))))

    # Full screen -------------------------------------------------------------------------------

    def toggle_fullscreen(self) -> None:
        if self.fullscreen is not None and self.fullscreen.isVisible():
            self.leave_fullscreen()
        else:
            self.enter_fullscreen()

    def enter_fullscreen(self) -> None:
        if self.fullscreen is None:
            self.fullscreen = FullscreenView(self)
            self._connect_transport(self.fullscreen.transport)
        view = self.fullscreen
        screen = self.screen()
        if screen is not None:
            view.setGeometry(screen.geometry())
        view.surface.show_image(self.surface.image)
        view.transport.timeline.set_length(self.timing.frames if self.timing else 0)
        self._show_position()
        self._show_range()
        self._show_state()
        view.showFullScreen()
        view.raise_()
        view.activateWindow()
        view.setFocus()

    def leave_fullscreen(self) -> None:
        if self.fullscreen is not None and self.fullscreen.isVisible():
            self.fullscreen.hide()
            self.window().activateWindow()
            self.setFocus()

    def is_fullscreen(self) -> bool:
        return self.fullscreen is not None and self.fullscreen.isVisible()

    # Outside the app ---------------------------------------------------------------------------

    def open_external(self) -> None:
        if self._path is not None:
            self.pause()
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._path)))

    def show_in_folder(self) -> None:
        if self._path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._path.parent)))

    def release(self) -> None:
        """Stop playback and let Qt's loop destroy the media player, before the widget goes.

        The player's own threads need the GIL while they stop (they call into the Python side
        of the objects this widget made). Stopping or destroying the player from Python, which
        holds the GIL throughout the call, deadlocks now and then: a stop() that waits for a
        lock one of those threads holds, or a destructor run by the garbage collector. So the
        stop is a queued call and the deletes are posted: both run from Qt's loop, where the
        GIL is free.
        """
        self._reverse_timer.stop()
        if self.fullscreen is not None:
            self.fullscreen.hide()
            self.fullscreen.deleteLater()
            self.fullscreen = None
        self.fetcher.close()
        self.fetcher = FrameFetcher(self)
        self.fetcher.ready.connect(self._exact_frame)
        if self.player is None:
            return
        for part in (self.player, self.audio, self.sink):
            part.blockSignals(True)  # nothing reaches the handlers once it is going
        QMetaObject.invokeMethod(self.player, "stop", Qt.ConnectionType.QueuedConnection)
        for part in (self.player, self.audio, self.sink):
            part.deleteLater()
        self.player = None
        self._playing = False
        self._available = None
        self._set_enabled(False)

    def closeEvent(self, event: QCloseEvent) -> None:  # Qt's name
        # A player shown as a window of its own (the main window releases it itself: children
        # get no close event when their window closes).
        self.release()
        super().closeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # Qt's name
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier or not self.handle_key(
            event.key()
        ):
            super().keyPressEvent(event)

    # Showing -----------------------------------------------------------------------------------

    def _show(self, image: QImage) -> None:
        self.surface.show_image(image)
        if self.fullscreen is not None and self.fullscreen.isVisible():
            self.fullscreen.surface.show_image(image)

    def _show_position(self) -> None:
        timing = self.timing
        if timing is None:
            return
        text = f"{timecode(self.frame, timing.fps)} / {timecode(timing.frames, timing.fps)}"
        for bar in self._transports():
            bar.timeline.set_frame(self.frame)
            bar.time.setText(text)
        self.frame_label.setText(f"Frame {self.frame + 1} of {timing.frames} · {_rate(timing)}")
        self.frameChanged.emit(self.frame)

    def _show_range(self) -> None:
        for bar in self._transports():
            bar.timeline.set_range(self.in_point, self.out_point)

    def _show_state(self) -> None:
        for bar in self._transports():
            bar.play_button.setText("Pause" if self.playing else "Play")

    def _stop_playing(self) -> None:
        if self._playing and self.player is not None:
            self._playing = False
            self.player.pause()
            self.frame = self.timing.frame_at_ms(self.player.position()) if self.timing else 0
            self._show_position()
        self._playing = False
        self._show_state()

    def _outside_range(self, frame: int) -> bool:
        if self.out_point is not None and frame >= self.out_point:
            return True
        return self.in_point is not None and frame < self.in_point

    def _at_out(self) -> bool:
        return self.out_point is not None and self.frame >= self.out_point

    def _apply_volume(self) -> None:
        if self.player is not None:
            self.audio.setVolume(self.volume.value() / 100)
            self.audio.setMuted(self.mute.isChecked())

    # Frames and player signals -----------------------------------------------------------------

    def _exact_frame(self, path: str, frame: int, image: QImage, exact: bool) -> None:
        if self._playing or self._path is None or path != str(self._path):
            return
        if image.isNull():
            return
        if exact:
            self.shown_frame = frame
        else:
            self.preview_frame = frame
        self._show(image)

    def _played_frame(self, frame: Any) -> None:
        if self._playing and frame.isValid():
            self._show(frame.toImage())

    def _position(self, ms: int) -> None:
        if not self._playing or self.timing is None:
            return
        if self._pending_start is not None:
            start, tries = self._pending_start
            if abs(ms - start) > 2000 / self.timing.fps and tries > 0:
                self._pending_start = (start, tries - 1)
                self.player.setPosition(start)
                return
            self._pending_start = None
        self.frame = self.timing.frame_at_ms(ms)
        if self.loop.isChecked() and self._outside_range(self.frame):
            self.frame = self.in_point or 0  # round again (a seek may land early: again too)
            self.player.setPosition(self.timing.ms_of(self.frame))
        self._show_position()

    def _state(self, _state: Any) -> None:
        self._show_state()

    def _status(self, status: Any) -> None:
        ended = self._multimedia.QMediaPlayer.MediaStatus.EndOfMedia
        if status != ended or not self._playing or self.timing is None:
            return
        if self.loop.isChecked():
            self.frame = self.in_point or 0
            self.player.setPosition(self.timing.ms_of(self.frame))
            self.player.play()
            return
        self._playing = False
        self.frame = self.timing.frames - 1  # the last frame stays, as in an editor
        self._show_position()
        self._show_state()
        if self._path is not None:
            self.fetcher.request(self._path, self.frame)

    def _reverse_tick(self) -> None:
        if self.frame <= (self.in_point or 0):
            self._reverse_timer.stop()
            self._reverse_speed = 0
            self._show_state()
            return
        self.seek_frame(self.frame - self._reverse_speed)

    def _error(self, _error: Any, text: str) -> None:
        self._playing = False
        self.notice.setText(f"This video cannot be played here: {text}")
        self.notice.setVisible(True)


_KEYS = {
    Qt.Key.Key_Space,
    Qt.Key.Key_J,
    Qt.Key.Key_K,
    Qt.Key.Key_L,
    Qt.Key.Key_Left,
    Qt.Key.Key_Right,
    Qt.Key.Key_Comma,
    Qt.Key.Key_Period,
    Qt.Key.Key_Home,
    Qt.Key.Key_End,
    Qt.Key.Key_I,
    Qt.Key.Key_O,
    Qt.Key.Key_F,
}


def _rate(timing: VideoTiming) -> str:
    fps = float(timing.fps)
    return f"{fps:g} fps" if fps.is_integer() else f"{fps:.3f} fps"
