"""Writing MP4 files (H.264 + AAC, faststart) and reading sound as samples, on PyAV.

The writer puts everything in a temporary file beside the target and renames it into place only
when the file is complete, so a crash never leaves a partial file under the final name.
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


class Mp4Writer:
    """`with Mp4Writer(path, w, h) as out: out.add_frame(rgb); out.add_audio(samples)`.

    Video frames are RGB uint8 arrays (height × width × 3); audio is float32 mono or
    (channels × n) samples at AUDIO_RATE. The audio is cut or padded to the video's length.
    """

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        *,
        fps: int = 24,
        with_audio: bool = True,
        crf: int = 26,
    ) -> None:
        if width % 2 or height % 2:
            raise ValueError("H.264 in yuv420p needs even sizes")
        self.path = Path(path)
        self.width, self.height, self.fps = width, height, fps
        self.with_audio = with_audio
        self._frames = 0
        self._audio: list[np.ndarray] = []
        handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".render-", suffix=".mp4")
        os.close(handle)
        self._temp = Path(temp)
        self._container = av.open(
            str(self._temp), "w", format="mp4", options={"movflags": "+faststart"}
        )
        # No creation time or encoder string that changes between runs: same input, same bytes.
        self._container.metadata.clear()
        video = self._container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "veryfast", "crf": str(crf)}
        self._video = video
        self._audio_stream = None
        if with_audio:
            audio = self._container.add_stream("aac", rate=AUDIO_RATE)
            audio.layout = "stereo"
            self._audio_stream = audio

    def add_frame(self, rgb: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        # One swscale thread: its sliced conversion is not bit-exact from run to run.
        frame = frame.reformat(format="yuv420p", threads=1)
        frame.pts = self._frames
        self._frames += 1
        for packet in self._video.encode(frame):
            self._container.mux(packet)

    def add_audio(self, samples: np.ndarray) -> None:
        """Queue sound; it is written at close, trimmed to the video's exact length."""
        data = np.asarray(samples, dtype=np.float32)
        self._audio.append(np.vstack([data, data]) if data.ndim == 1 else data[:2])

    @property
    def duration_s(self) -> float:
        return self._frames / self.fps

    def _write_audio(self) -> None:
        assert self._audio_stream is not None
        total = round(self.duration_s * AUDIO_RATE)
        sound = np.concatenate(self._audio, axis=1) if self._audio else np.zeros((2, 0), np.float32)
        if sound.shape[1] < total:
            sound = np.pad(sound, ((0, 0), (0, total - sound.shape[1])))
        sound = np.ascontiguousarray(np.clip(sound[:, :total], -1.0, 1.0))
        for start in range(0, total, _AAC_FRAME):
            piece = np.ascontiguousarray(sound[:, start : start + _AAC_FRAME])
            frame = av.AudioFrame.from_ndarray(piece, format="fltp", layout="stereo")
            frame.sample_rate = AUDIO_RATE
            frame.pts = start
            frame.time_base = Fraction(1, AUDIO_RATE)
            for packet in self._audio_stream.encode(frame):
                self._container.mux(packet)
        for packet in self._audio_stream.encode():
            self._container.mux(packet)

    def close(self) -> Path:
        for packet in self._video.encode():
            self._container.mux(packet)
        if self._audio_stream is not None:
            self._write_audio()
        self._container.close()
        with self._temp.open("rb") as done:
            os.fsync(done.fileno())
        self._temp.chmod(0o644)
        self._temp.replace(self.path)
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


def read_audio(path: Path, seconds: float | None = None) -> np.ndarray:
    """Decode a sound (or a video's sound) into float32 stereo samples at AUDIO_RATE."""
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
    limit = None if seconds is None else round(seconds * AUDIO_RATE)
    chunks: list[np.ndarray] = []
    got = 0
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return np.zeros((2, 0), np.float32)
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunk = out.to_ndarray()
                chunks.append(chunk)
                got += chunk.shape[1]
            if limit is not None and got >= limit:
                break
    if not chunks:
        return np.zeros((2, 0), np.float32)
    sound = np.concatenate(chunks, axis=1).astype(np.float32)
    return sound if limit is None else sound[:, :limit]
