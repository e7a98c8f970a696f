"""Writing MP4 files (H.264 + AAC, faststart) and reading sound as samples, on PyAV.

The writer puts everything in a temporary file beside the target and renames it into place only
when the file is complete, so a crash never leaves a partial file under the final name.

Same frames and samples in, same bytes out: x264 runs on one thread (its output depends on the
thread count) with macroblock-tree rate control off, because this x264 build's mbtree reads
uninitialised memory on some sizes (e.g. 864×496) and then differs from run to run.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np

AUDIO_RATE = 48_000
_AAC_FRAME = 1024
_LAYOUTS = {1: "mono", 2: "stereo"}


def encode_audio(
    container: av.container.OutputContainer,
    stream: av.audio.stream.AudioStream,
    samples: np.ndarray,
    *,
    sample_format: str,
    layout: str,
    rate: int,
    pts: int,
) -> None:
    """Encode one block of samples (shaped as PyAV takes them for `sample_format`) starting at
    sample `pts`, and write the packets it gives."""
    frame = av.AudioFrame.from_ndarray(samples, format=sample_format, layout=layout)
    frame.sample_rate = rate
    frame.pts = pts
    frame.time_base = Fraction(1, rate)
    for packet in stream.encode(frame):
        container.mux(packet)


def flush_stream(
    container: av.container.OutputContainer,
    stream: av.audio.stream.AudioStream | av.video.stream.VideoStream,
) -> None:
    """Write what the encoder still holds (at the end of a stream)."""
    for packet in stream.encode():
        container.mux(packet)


def _layout(channels: int) -> str:
    if channels not in _LAYOUTS:
        raise ValueError("audio must have 1 or 2 channels")
    return _LAYOUTS[channels]


def _as_channels(samples: np.ndarray, channels: int) -> np.ndarray:
    """float32 samples shaped (channels, n) from mono (n,) or (any channels, n)."""
    data = np.asarray(samples, dtype=np.float32)
    if data.ndim == 1:
        data = data[None, :]
    if data.ndim != 2:
        raise ValueError("audio samples must be (n,) or (channels, n)")
    if data.shape[0] == channels:
        return data
    if channels == 1:
        mono: np.ndarray = data.mean(axis=0, keepdims=True)
        return mono
    if data.shape[0] == 1:
        return np.repeat(data, channels, axis=0)
    return data[:channels]


class Mp4Writer:
    """`with Mp4Writer(path, w, h) as out: out.add_frame(rgb); out.add_audio(samples)`.

    Video frames are RGB uint8 arrays (height × width × 3). Audio is float32, mono (n,) or
    (channels × n), at `sample_rate`; it is written at close, cut or padded with silence to the
    video's exact length (the last AAC frame is a short one). `with_audio=False` writes no audio
    stream at all.
    """

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        *,
        fps: int = 24,
        with_audio: bool = True,
        sample_rate: int = AUDIO_RATE,
        channels: int = 2,
        crf: int = 26,
    ) -> None:
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise ValueError(f"H.264 in yuv420p needs even, positive sizes, not {width}×{height}")
        self.path = Path(path)
        self.width, self.height, self.fps = width, height, fps
        self.sample_rate, self.channels = sample_rate, channels
        self.with_audio = with_audio
        self._frames = 0
        self._audio: list[np.ndarray] = []
        handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".render-", suffix=".mp4")
        os.close(handle)
        self._temp = Path(temp)
        try:
            self._container = av.open(
                str(self._temp), "w", format="mp4", options={"movflags": "+faststart"}
            )
            self._container.metadata.clear()  # no creation time: same input, same bytes
            video = self._container.add_stream("libx264", rate=fps)
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            video.options = {
                "preset": "veryfast",
                "crf": str(crf),
                "threads": "1",
                "x264-params": "mbtree=0",
            }
            self._video = video
            self._audio_stream = None
            if with_audio:
                audio = self._container.add_stream("aac", rate=sample_rate)
                audio.layout = _layout(channels)
                self._audio_stream = audio
        except BaseException:
            self._temp.unlink(missing_ok=True)
            raise

    @property
    def duration_s(self) -> float:
        return self._frames / self.fps

    def add_frame(self, rgb: np.ndarray) -> None:
        if rgb.shape != (self.height, self.width, 3) or rgb.dtype != np.uint8:
            raise ValueError(f"expected a {self.height}×{self.width}×3 uint8 frame")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        # One swscale thread: its sliced conversion is not bit-exact from run to run.
        frame = frame.reformat(format="yuv420p", threads=1)
        frame.pts = self._frames
        frame.time_base = Fraction(1, self.fps)
        self._frames += 1
        for packet in self._video.encode(frame):
            self._container.mux(packet)

    def add_audio(self, samples: np.ndarray) -> None:
        """Queue sound; it is written at close, trimmed to the video's exact length."""
        self._audio.append(_as_channels(samples, self.channels))

    def _write_audio(self) -> None:
        assert self._audio_stream is not None
        total = round(self._frames * self.sample_rate / self.fps)
        if self._audio:
            sound = np.concatenate(self._audio, axis=1)
        else:
            sound = np.zeros((self.channels, 0), np.float32)
        if sound.shape[1] < total:
            sound = np.pad(sound, ((0, 0), (0, total - sound.shape[1])))
        sound = np.clip(sound[:, :total], -1.0, 1.0)
        layout = _layout(self.channels)
        for start in range(0, total, _AAC_FRAME):
            piece = np.ascontiguousarray(sound[:, start : start + _AAC_FRAME])
            encode_audio(self._container, self._audio_stream, piece, sample_format="fltp",
                         layout=layout, rate=self.sample_rate, pts=start)  # fmt: skip
        flush_stream(self._container, self._audio_stream)

    def close(self) -> Path:
        """Finish the file and move it into place; on any failure the temp file is removed."""
        try:
            for packet in self._video.encode():
                self._container.mux(packet)
            if self._audio_stream is not None:
                self._write_audio()
            self._container.close()
            with self._temp.open("rb") as done:
                os.fsync(done.fileno())
            self._temp.chmod(0o644)
            self._temp.replace(self.path)
        except BaseException:
            self.abort()
            raise
        return self.path

    def abort(self) -> None:
        with contextlib.suppress(Exception):  # already failing; the temp file goes either way
            self._container.close()
        self._temp.unlink(missing_ok=True)

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def read_audio(
    path: Path, seconds: float | None = None, *, rate: int = AUDIO_RATE, channels: int = 2
) -> np.ndarray:
    """Decode a sound (or a video's sound) into float32 samples shaped (channels, n) at `rate`.

    `seconds` stops decoding once that much is read. A file without sound gives zero samples;
    an unreadable file raises av.error.FFmpegError (or OSError).
    """
    limit = None if seconds is None else round(seconds * rate)
    chunks: list[np.ndarray] = []
    got = 0
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return np.zeros((channels, 0), np.float32)
        # Mono is copied to both sides at full level (FFmpeg's upmix would lower it by 3 dB).
        source = container.streams.audio[0].codec_context.layout.nb_channels
        decoded = 1 if source == 1 else channels
        resampler = av.AudioResampler(format="fltp", layout=_layout(decoded), rate=rate)
        for frame in container.decode(audio=0):
            frame.pts = None  # resample by sample count; odd timestamps must not add gaps
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray())
                got += chunks[-1].shape[1]
            if limit is not None and got >= limit:
                break
        else:
            chunks.extend(out.to_ndarray() for out in resampler.resample(None))
    if not chunks:
        return np.zeros((channels, 0), np.float32)
    sound = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    sound = _as_channels(sound, channels)
    return sound if limit is None else sound[:, :limit]
