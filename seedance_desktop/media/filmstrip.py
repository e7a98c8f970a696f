"""A filmstrip: a few small upright frames across a video, for the fit dialog's range handles."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


def filmstrip(path: Path, count: int = 8, height: int = 72) -> list[tuple[float, np.ndarray]]:
    """`count` frames evenly across the clip as (seconds, RGB array `height` px high), upright.

    Each is the first frame at or after its time (a seek to the keyframe before, then decoding
    on). Unreadable parts are skipped: a damaged clip gives fewer frames, never an exception.
    """
    frames: list[tuple[float, np.ndarray]] = []
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            duration = _duration(container, stream)
            for index in range(count):
                at = duration * index / count
                container.seek(int(at * av.time_base))
                for frame in container.decode(stream):
                    if frame.time is None or frame.time + 1e-3 >= at:
                        frames.append((at, _small(frame, height)))
                        break
    except (av.error.FFmpegError, OSError, IndexError, ValueError):
        pass
    return frames


def _duration(container: av.container.InputContainer, stream: av.stream.Stream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return (container.duration or 0) / av.time_base


def _small(frame: av.VideoFrame, height: int) -> np.ndarray:
    turn = round((frame.rotation or 0) / 90) % 4
    width, tall = frame.width, frame.height
    if turn % 2:  # shown sideways: the stored width becomes the height
        width, tall = tall, width
    out_w = max(2, round(width * height / tall))
    size = (height, out_w) if turn % 2 else (out_w, height)
    rgb = frame.reformat(width=size[0], height=size[1], format="rgb24").to_ndarray()
    return np.ascontiguousarray(np.rot90(rgb, turn)) if turn else rgb
