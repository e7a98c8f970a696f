"""Filmstrips: a few upright frames evenly across a video. The library makes one JPEG of them per
result (hovering over a thumbnail scrubs through the shot without decoding anything); the fit
dialog shows them under its range handles. Blocking: call from a worker thread."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from seedance_desktop.media.frames import (
    MediaError,
    PathArg,
    _frame_at,
    _open_video,
    _save,
    _stream_duration,
    _upright,
)
from seedance_desktop.media.names import display_name

FILMSTRIP_TILES = 10


def filmstrip_frames(
    video_path: PathArg, count: int, height: int
) -> list[tuple[float, Image.Image]]:
    """Up to `count` frames as (seconds, upright picture `height` px high), from the first to
    near the last. MediaError when the file cannot be read at all; a clip damaged part of the way
    gives fewer frames."""
    pictures: list[tuple[float, Image.Image]] = []
    with _open_video(video_path) as (container, stream):
        duration = _stream_duration(stream) or 0.0
        for number in range(count):
            at = duration * number / count
            if number:
                container.seek(0)  # _frame_at seeks forward from the start for early targets
            try:
                frame = _frame_at(container, stream, at)
            except MediaError:
                break
            if frame is None:
                break
            picture = _upright(frame)
            width = max(1, round(picture.width * height / max(1, picture.height)))
            pictures.append((at, picture.resize((width, height), Image.Resampling.BILINEAR)))
    return pictures


def make_filmstrip(
    video_path: PathArg, out_path: PathArg, *, tiles: int = FILMSTRIP_TILES, height: int = 90
) -> Path:
    """`tiles` frames left to right in one picture (written atomically)."""
    pictures = [picture for _at, picture in filmstrip_frames(video_path, tiles, height)]
    if not pictures:
        raise MediaError(f"{display_name(video_path)} has no picture that can be shown.")
    while len(pictures) < tiles:
        pictures.append(pictures[-1])
    strip = Image.new("RGB", (pictures[0].width * tiles, height))
    for number, picture in enumerate(pictures):
        strip.paste(picture, (number * pictures[0].width, 0))
    return _save(strip, Path(out_path))


def filmstrip(path: Path, count: int = 8, height: int = 72) -> list[tuple[float, np.ndarray]]:
    """`count` frames as (seconds, RGB array `height` px high), for the fit dialog: a file that
    cannot be read gives none, never an exception."""
    try:
        frames = filmstrip_frames(path, count, height)
    except MediaError:
        return []
    return [(at, np.asarray(picture.convert("RGB"))) for at, picture in frames]
