"""Exact frames of a video by number, decoded with PyAV: what the player shows whenever it is
not playing (a seek, a step, the end), so the picture is always the frame the timecode names.

A reader keeps its decoder open: stepping forward decodes one frame, a jump seeks to the
keyframe before the target and decodes up to it. Blocking: used from one worker thread at a
time (FrameFetcher in player.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from PySide6.QtGui import QImage

_READ_ERRORS = (av.error.FFmpegError, OSError, ValueError, EOFError, IndexError)
_DECODE_AHEAD = 36  # a target this few frames ahead is reached by decoding on, not seeking


@dataclass(frozen=True)
class VideoTiming:
    """A file's frame rate and length in frames: what timecodes and the timeline count in."""

    fps: Fraction
    frames: int

    @property
    def duration_ms(self) -> int:
        return round(self.frames * 1000 / self.fps)

    def frame_at_ms(self, ms: float) -> int:
        """The frame on screen `ms` into the file (a frame lasts until the next one starts)."""
        return max(0, min(self.frames - 1, int(ms * self.fps / 1000 + 1e-6)))

    def ms_of(self, frame: int) -> int:
        """The start of a frame, in whole ms rounded up (a seek there lands on that frame)."""
        return -(-int(frame * 1000 * self.fps.denominator) // self.fps.numerator)


def timecode(frame: int, fps: Fraction) -> str:
    """HH:MM:SS:FF at the file's (nominal, non-drop) rate: 29.97 counts 30 frames a second."""
    base = max(1, round(fps))
    frame = max(0, frame)
    seconds, ff = divmod(frame, base)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}:{ff:02d}"


class FrameReader:
    """Frames by number from one file. Raises OSError or av's errors for unreadable files."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._handle = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        try:
            self._container: Any = av.open(self._handle, mode="r", metadata_errors="ignore")
            self._stream: Any = self._container.streams.video[0]
        except BaseException:
            self._handle.close()
            raise
        self._stream.thread_type = "AUTO"
        rate = self._stream.average_rate or self._stream.guessed_rate or Fraction(24)
        self.timing = VideoTiming(Fraction(rate), self._count_frames(Fraction(rate)))
        self._decoded: Iterator[Any] | None = None
        self._position = -1  # the number of the frame last decoded

    def _count_frames(self, fps: Fraction) -> int:
        stream = self._stream
        if stream.frames:
            return int(stream.frames)
        seconds = 0.0
        if stream.duration is not None and stream.time_base is not None:
            seconds = float(stream.duration * stream.time_base)
        elif self._container.duration:
            seconds = self._container.duration / av.time_base
        return max(1, round(seconds * fps))

    def close(self) -> None:
        with contextlib.suppress(*_READ_ERRORS):
            self._container.close()
        self._handle.close()

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def frame(self, number: int, cancelled: Callable[[], bool] | None = None) -> QImage | None:
        """The picture of frame `number` (clamped to the file), as an RGB image (null when
        the file has none); None when `cancelled()` turned true on the way (a newer request)."""
        number = max(0, min(self.timing.frames - 1, number))
        ahead = number - self._position
        if self._decoded is None or not 0 < ahead <= _DECODE_AHEAD:
            self._seek(number)
        chosen: Any = None
        for frame in self._decoded or ():
            index = self._index_of(frame)
            chosen = frame
            self._position = index
            if index >= number:
                break
            if cancelled is not None and cancelled():
                return None
        else:
            self._decoded = None  # the file ended: the last frame there is stands
        if chosen is None:
            return QImage()
        return _to_image(chosen)

    def _index_of(self, frame: Any) -> int:
        if frame.time is None:
            return self._position + 1
        start = float(self._stream.start_time or 0) * float(self._stream.time_base or 0)
        index: int = round((frame.time - start) * self.timing.fps)
        return index

    def _seek(self, number: int) -> None:
        stream = self._stream
        target = Fraction(number) / self.timing.fps
        offset = int(target / stream.time_base) + (stream.start_time or 0)
        with contextlib.suppress(*_READ_ERRORS):
            self._container.seek(offset, stream=stream, backward=True)
        self._position = -1
        self._decoded = self._frames()

    def _frames(self) -> Iterator[Any]:
        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except _READ_ERRORS:
                break
            try:
                yield from packet.decode()
            except av.error.FFmpegError:
                continue
        with contextlib.suppress(*_READ_ERRORS):
            yield from self._stream.codec_context.decode(None)


def _to_image(frame: Any) -> QImage:
    rgb = np.ascontiguousarray(frame.to_ndarray(format="rgb24"))
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def probe_timing(path: Path) -> VideoTiming | None:
    """A file's frame rate and length (milliseconds of work), or None when it cannot be read."""
    try:
        with FrameReader(path) as reader:
            return reader.timing
    except (*_READ_ERRORS, StopIteration):
        return None
