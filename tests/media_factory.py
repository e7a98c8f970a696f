"""Real media files for tests, made on the spot with Pillow and PyAV (small and quick)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF", "avif": "AVIF"}


def make_image(
    path: Path,
    width: int = 640,
    height: int = 480,
    fmt: str = "png",
    color: tuple[int, int, int] = (200, 80, 40),
) -> Path:
    """A picture with a gradient (so it compresses like a real one) in the given format."""
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    base = np.array(color, dtype=np.float32)[None, None, :]
    pixels = np.clip(base * (0.6 + 0.4 * x) + np.zeros((height, 1, 1), np.float32), 0, 255)
    Image.fromarray(pixels.astype(np.uint8), "RGB").save(path, _PIL_FORMATS[fmt])
    return path


def make_video(
    path: Path,
    width: int = 640,
    height: int = 480,
    seconds: float = 2.0,
    fps: int = 24,
    with_audio: bool = True,
    container: str = "mp4",
    color: tuple[int, int, int] = (40, 120, 200),
    last_color: tuple[int, int, int] | None = None,
) -> Path:
    """An H.264 (+ AAC) clip of exactly `seconds`; the last second can have its own colour."""
    frames = round(seconds * fps)
    with av.open(str(path), "w", format=container) as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast"}
        audio = out.add_stream("aac", rate=48000) if with_audio else None
        if audio is not None:
            audio.layout = "mono"
        for index in range(frames):
            late = last_color is not None and index >= frames - fps
            rgb = np.empty((height, width, 3), np.uint8)
            rgb[:] = last_color if late else color
            rgb[: height // 8, : (index * width) // max(frames, 1)] = 255  # moving bar
            for packet in video.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if audio is not None:
            _write_tone(out, audio, seconds)
    return path


def _write_tone(
    out: av.container.OutputContainer, stream: av.stream.Stream, seconds: float
) -> None:
    rate, total, chunk = 48000, round(48000 * seconds), 1024
    t = np.arange(total, dtype=np.float32) / rate
    samples = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    for start in range(0, total, chunk):
        piece = samples[start : start + chunk]
        frame = av.AudioFrame.from_ndarray(piece[None, :], format="fltp", layout="mono")
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)


def make_audio(path: Path, seconds: float = 2.0, fmt: str = "wav") -> Path:
    """A sine tone as WAV (PCM) or MP3."""
    with av.open(str(path), "w", format=fmt) as out:
        codec = "pcm_s16le" if fmt == "wav" else "libmp3lame"
        stream = out.add_stream(codec, rate=48000 if fmt == "wav" else 44100)
        stream.layout = "mono"
        rate = stream.rate
        total, chunk = round(rate * seconds), 1152
        t = np.arange(total, dtype=np.float32) / rate
        samples = (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
        layout_format = "s16" if fmt == "wav" else "fltp"
        for start in range(0, total, chunk):
            piece = samples[start : start + chunk]
            data = (piece * 32767).astype(np.int16) if fmt == "wav" else piece
            frame = av.AudioFrame.from_ndarray(data[None, :], format=layout_format, layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def truncate_file(path: Path, keep_fraction: float = 0.5) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep_fraction)])
    return path
