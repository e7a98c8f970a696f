"""A filmstrip: a few evenly spaced frames of a video side by side in one JPEG, made once per
result, so hovering over a thumbnail can scrub through the shot without decoding anything.
Blocking: call from a worker thread."""

from __future__ import annotations

from pathlib import Path

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


def make_filmstrip(
    video_path: PathArg, out_path: PathArg, *, tiles: int = FILMSTRIP_TILES, height: int = 90
) -> Path:
    """`tiles` frames, from the first to near the last, each `height` pixels high, left to
    right in one picture (written atomically)."""
    name = display_name(video_path)
    pictures: list[Image.Image] = []
    with _open_video(video_path) as (container, stream):
        duration = _stream_duration(stream) or 0.0
        for number in range(tiles):
            at = duration * number / tiles
            if number:
                container.seek(0)  # _frame_at seeks forward from the start for early targets
            frame = _frame_at(container, stream, at)
            if frame is None:
                break
            picture = _upright(frame)
            width = max(1, round(picture.width * height / max(1, picture.height)))
            pictures.append(picture.resize((width, height), Image.Resampling.BILINEAR))
    if not pictures:
        raise MediaError(f"{name} has no picture that can be shown.")
    while len(pictures) < tiles:
        pictures.append(pictures[-1])
    strip = Image.new("RGB", (pictures[0].width * tiles, height))
    for number, picture in enumerate(pictures):
        strip.paste(picture, (number * pictures[0].width, 0))
    return _save(strip, Path(out_path))
