"""Real media files for tests, made on the spot with Pillow and PyAV (small and quick).

A 2 s 640×480 video with sound takes about 0.2 s. Durations are exact: the video has
round(seconds × fps) frames and the sound exactly seconds × rate samples (the last AAC chunk is a
short one), so a 2 s clip probes as 2.0 s, not 2.021 s.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from seedance_desktop.media.encode import encode_audio, flush_stream

_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF", "avif": "AVIF"}
AUDIO_RATES = {"wav": 48000, "mp3": 44100}
TONE_HZ = 330.0

PathArg = str | os.PathLike[str]


def make_image(
    path: PathArg,
    width: int = 640,
    height: int = 480,
    fmt: str = "png",
    color: tuple[int, int, int] = (200, 80, 40),
    *,
    exif_orientation: int | None = None,
) -> Path:
    """A picture with a gradient (so it compresses like a real one) in the given format.

    `exif_orientation` (1 to 8) stores that EXIF orientation tag; the pixels stay as drawn.
    """
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    base = np.array(color, dtype=np.float32)[None, None, :]
    pixels = np.clip(base * (0.6 + 0.4 * x) + np.zeros((height, 1, 1), np.float32), 0, 255)
    image = Image.fromarray(pixels.astype(np.uint8), "RGB")
    options: dict[str, object] = {}
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        options["exif"] = exif.tobytes()
    image.save(path, _PIL_FORMATS[fmt], **options)
    return Path(path)


def make_video(
    path: PathArg,
    width: int = 640,
    height: int = 480,
    seconds: float = 2.0,
    fps: int = 24,
    with_audio: bool = True,
    container: str = "mp4",
    color: tuple[int, int, int] = (40, 120, 200),
    last_color: tuple[int, int, int] | None = None,
    *,
    faststart: bool = False,
    rotation: int = 0,
    left_color: tuple[int, int, int] | None = None,
    keyframe_every: int | None = None,
) -> Path:
    """An H.264 (+ AAC) clip of exactly `seconds`, with a white bar that grows frame by frame.

    `last_color` paints the last second; `left_color` the left half of every frame (to check
    orientation); `rotation` stores a display rotation (counter-clockwise degrees, as PyAV's
    VideoFrame.rotation reads it back); `faststart` puts the index before the data;
    `keyframe_every` sets the GOP length (x264's default, 250 frames, is longer than most tests).
    """
    frames = round(seconds * fps)
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", format=container, options=options) as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast"}
        if keyframe_every is not None:
            video.codec_context.gop_size = keyframe_every
        if rotation:
            video.set_display_rotation(rotation)
        audio = out.add_stream("aac", rate=48000) if with_audio else None
        if audio is not None:
            audio.layout = "mono"
        for index in range(frames):
            late = last_color is not None and index >= frames - fps
            rgb = np.empty((height, width, 3), np.uint8)
            rgb[:] = last_color if late else color
            if left_color is not None:
                rgb[:, : width // 2] = left_color
            rgb[: height // 8, : (index * width) // max(frames, 1)] = 255  # moving bar
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if audio is not None:
            _encode_tone(out, audio, seconds, chunk=1024, sample_format="fltp")
    return Path(path)


def tone(seconds: float, rate: int, hz: float = TONE_HZ) -> np.ndarray:
    """A sine at 0.3 of full scale, float32, exactly round(seconds × rate) samples."""
    t = np.arange(round(rate * seconds), dtype=np.float64) / rate
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def _encode_tone(
    out: av.container.OutputContainer,
    stream: av.stream.Stream,
    seconds: float,
    *,
    chunk: int,
    sample_format: str,
) -> None:
    rate = stream.rate
    samples = tone(seconds, rate)
    for start in range(0, samples.size, chunk):
        piece = samples[start : start + chunk]  # the last piece is short: no padded tail
        data = (piece * 32767).astype(np.int16) if sample_format == "s16" else piece
        encode_audio(out, stream, data[None, :], sample_format=sample_format, layout="mono",
                     rate=rate, pts=start)  # fmt: skip
    flush_stream(out, stream)


def make_audio(path: PathArg, seconds: float = 2.0, fmt: str = "wav") -> Path:
    """A 330 Hz sine tone as WAV (16-bit PCM, 48 kHz) or MP3 (44.1 kHz), mono."""
    with av.open(str(path), "w", format=fmt) as out:
        codec = "pcm_s16le" if fmt == "wav" else "libmp3lame"
        stream = out.add_stream(codec, rate=AUDIO_RATES[fmt])
        stream.layout = "mono"
        if fmt == "wav":
            _encode_tone(out, stream, seconds, chunk=1024, sample_format="s16")
        else:
            _encode_tone(out, stream, seconds, chunk=1152, sample_format="fltp")
    return Path(path)


def truncate_file(path: PathArg, keep_fraction: float = 0.5) -> Path:
    """Cut the file to its first keep_fraction of bytes (a download that stopped halfway)."""
    path = Path(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep_fraction)])
    return path
