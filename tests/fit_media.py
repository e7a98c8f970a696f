"""Camera and phone files for the fit tests, made on the spot (PyAV, Pillow, pillow-heif)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from media_factory import tone
from PIL import Image

from seedance_desktop.media.encode import encode_audio, flush_stream


def make_heic(path: Path, width: int = 1200, height: int = 900) -> Path:
    """A HEIC photo, as an iPhone saves it."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    pixels = np.broadcast_to(x, (height, width, 3)).astype(np.uint8)
    Image.fromarray(np.ascontiguousarray(pixels), "RGB").save(path, "HEIF", quality=60)
    return path


def make_sound(
    path: Path, seconds: float, *, fmt: str, codec: str, rate: int, channels: int = 1
) -> Path:
    """A tone in any container and codec: M4A (aac in ipod/mp4), FLAC, Ogg, odd-rate WAV."""
    layout = {1: "mono", 2: "stereo", 6: "5.1"}[channels]
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = layout
        sample_format = stream.codec_context.format.name
        frame_size = stream.codec_context.frame_size or 1024
        samples = tone(seconds, rate)
        for start in range(0, samples.size, frame_size):
            piece = samples[start : start + frame_size]
            planar = np.repeat(piece[None, :], channels, axis=0)
            if sample_format.startswith("s16"):
                data = (planar * 32767).astype(np.int16)
            elif sample_format.startswith("s32"):
                data = (planar * 2**31 * 0.99).astype(np.int32)
            else:
                data = planar.astype(np.float32)
            if not sample_format.endswith("p"):  # packed: interleaved in one row
                data = np.ascontiguousarray(data.T.reshape(1, -1))
            encode_audio(out, stream, data, sample_format=sample_format, layout=layout,
                         rate=rate, pts=start)  # fmt: skip
        flush_stream(out, stream)
    return path


def make_special_video(
    path: Path,
    width: int,
    height: int,
    seconds: float,
    *,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    frame_times: list[float] | None = None,
    fps: int = 10,
) -> Path:
    """A clip with no sound: 10-bit HEVC (`codec="libx265", pix_fmt="yuv420p10le"`), or a
    variable frame rate (`frame_times`, in seconds, stamped in milliseconds)."""
    times = frame_times or [i / fps for i in range(round(seconds * fps))]
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.time_base = Fraction(1, 1000)
        if codec == "libx265":
            stream.options = {"preset": "ultrafast", "x265-params": "log-level=none"}
        else:
            stream.options = {"preset": "ultrafast"}
        for index, at in enumerate(times):
            rgb = np.full((height, width, 3), (30 + index * 7) % 255, np.uint8)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=pix_fmt)
            frame.pts = round(at * 1000)
            frame.time_base = Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def make_phone_clip(path: Path, seconds: float = 24.0, fps: int = 6) -> Path:
    """A 1920×1080 clip that looks like something: a dusk gradient, a sun that sets, a figure
    that walks across, with sound. Quick to make (few frames)."""
    width, height = 1920, 1080
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    sky = np.array([250, 150, 70], np.float32) * (1 - y) + np.array([40, 30, 90], np.float32) * y
    sky = np.broadcast_to(sky, (height, width, 3))
    yy, xx = np.mgrid[0:height, 0:width]
    frames = round(seconds * fps)
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast"}
        audio = out.add_stream("aac", rate=48000)
        audio.layout = "mono"
        for index in range(frames):
            t = index / max(frames - 1, 1)
            rgb = sky.copy()
            sun = (xx - 1300) ** 2 + (yy - (300 + 500 * t)) ** 2 < 110**2
            rgb[sun] = (255, 220, 120)
            rgb[800:] = rgb[800:] * 0.35  # the ground
            walker = (abs(xx - (200 + 1500 * t)) < 35) & (yy > 640) & (yy < 800)
            rgb[walker] = (20, 20, 30)
            frame = av.VideoFrame.from_ndarray(rgb.astype(np.uint8), format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        samples = tone(seconds, 48000)
        for start in range(0, samples.size, 1024):
            piece = samples[start : start + 1024]
            frame = av.AudioFrame.from_ndarray(piece[None, :], format="fltp", layout="mono")
            frame.sample_rate = 48000
            frame.pts = start
            frame.time_base = Fraction(1, 48000)
            for packet in audio.encode(frame):
                out.mux(packet)
        for packet in audio.encode():
            out.mux(packet)
    return path
