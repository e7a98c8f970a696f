"""Pictures taken from media: poster frames, the last frame of a video, thumbnails, waveforms.

All write atomically (a temporary file, then a rename) and raise MediaError with a message for a
person on bad input. Blocking: call them from a worker thread.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageOps

from seedance_desktop.media.encode import read_audio


class MediaError(Exception):
    """A picture could not be made from a file; the message says why, in plain words."""


def _save(image: Image.Image, out_path: Path, fmt: str) -> Path:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=out_path.parent, prefix=".frame-", suffix=f".{fmt}")
    os.close(handle)
    try:
        image.save(
            temp, "JPEG" if fmt == "jpg" else "PNG", **({"quality": 88} if fmt == "jpg" else {})
        )
        Path(temp).chmod(0o644)
        Path(temp).replace(out_path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return out_path


def _format_of(out_path: Path) -> str:
    return "jpg" if out_path.suffix.lower() in (".jpg", ".jpeg") else "png"


def _scaled(image: Image.Image, max_side: int) -> Image.Image:
    image = image.convert("RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


def poster_frame(
    video_path: Path, out_path: Path, *, max_side: int = 480, at_s: float | None = None
) -> Path:
    """A thumbnail of one frame (by default about 10% in) with its longer side ≤ max_side."""
    try:
        with av.open(str(video_path)) as container:
            stream = container.streams.video[0]
            duration = float(stream.duration * stream.time_base) if stream.duration else 0.0
            target = duration * 0.1 if at_s is None else at_s
            chosen = None
            for frame in container.decode(stream):
                chosen = frame
                if frame.time is not None and frame.time >= target:
                    break
    except (av.error.FFmpegError, IndexError, OSError) as exc:
        raise MediaError(f"No picture could be read from {video_path.name}: {exc}") from exc
    if chosen is None:
        raise MediaError(f"{video_path.name} has no picture to show.")
    return _save(_scaled(chosen.to_image(), max_side), out_path, _format_of(out_path))


def last_frame(video_path: Path, out_path: Path) -> Path:
    """The last decodable frame at full size, as PNG (the start frame of a continued shot)."""
    try:
        with av.open(str(video_path)) as container:
            stream = container.streams.video[0]
            last = _last_after_seek(container, stream)
    except (av.error.FFmpegError, IndexError, OSError) as exc:
        raise MediaError(f"No picture could be read from {video_path.name}: {exc}") from exc
    if last is None:
        raise MediaError(f"{video_path.name} has no picture to continue from.")
    return _save(last.to_image(), out_path, "png")


def _last_after_seek(container: av.container.InputContainer, stream: av.stream.Stream) -> object:
    """Seek about two seconds before the end and decode from there (whole file if short)."""
    if stream.duration and stream.time_base:
        back = int(2 / stream.time_base)
        container.seek(max(0, stream.duration - back), stream=stream, backward=True)
    last = None
    for frame in container.decode(stream):
        last = frame
    return last


def image_thumbnail(image_path: Path, out_path: Path, *, max_side: int = 480) -> Path:
    try:
        with Image.open(image_path) as image:
            picture = _scaled(ImageOps.exif_transpose(image), max_side)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise MediaError(f"{image_path.name} could not be read as a picture: {exc}") from exc
    return _save(picture, out_path, _format_of(out_path))


def audio_waveform(audio_path: Path, out_path: Path, *, width: int = 480, height: int = 96) -> Path:
    """A waveform picture (peaks per column) of a sound or a video's sound."""
    try:
        samples = read_audio(audio_path)
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"{audio_path.name} could not be read as sound: {exc}") from exc
    mono = np.abs(samples).max(axis=0) if samples.size else np.zeros(width, np.float32)
    columns = np.array_split(mono, width) if mono.size >= width else [mono] * width
    peaks = np.array([c.max() if c.size else 0.0 for c in columns], dtype=np.float32)
    peaks = peaks / max(float(peaks.max()), 1e-6)
    image = Image.new("RGB", (width, height), (32, 34, 40))
    draw = ImageDraw.Draw(image)
    middle = height / 2
    for x, peak in enumerate(peaks):
        half = max(1.0, peak * (height / 2 - 2))
        draw.line((x, middle - half, x, middle + half), fill=(120, 190, 255))
    return _save(image, out_path, "png")
