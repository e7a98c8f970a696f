"""Media the benchmarks work on, made on the spot: photos as large as a phone's, reference clips,
and files of an exact size for the transfer benchmark."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image


def make_photo(path: Path, width: int, height: int, seed: int) -> Path:
    """A JPEG with gradients and grain, so it weighs about what a camera's photo weighs."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    colour = rng.uniform(40, 215, size=(1, 1, 3)).astype(np.float32)
    pixels = colour * (0.55 + 0.3 * x + 0.15 * y)
    pixels = pixels + rng.normal(0, 9, size=(height, width, 1)).astype(np.float32)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    image.save(path, "JPEG", quality=90)
    return path


def make_sized_file(path: Path, size: int) -> Path:
    """`size` bytes that do not compress (a transfer must move every byte)."""
    chunk = os.urandom(1024 * 1024)
    with path.open("wb") as out:
        left = size
        while left > 0:
            out.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)
    return path


def reference_set(folder: Path, images: int, photo: tuple[int, int], clips: int) -> dict:
    """`images` photos and `clips` 4-second 960×540 clips (inside fal's reference limits)."""
    folder.mkdir(parents=True, exist_ok=True)
    width, height = photo
    pictures = tuple(
        str(make_photo(folder / f"photo-{i}.jpg", width, height, seed=i)) for i in range(images)
    )
    videos = tuple(
        str(make_clip(folder / f"clip-{i}.mp4", 960, 540, 4.0, seed=100 + i, bit_rate=2_000_000))
        for i in range(clips)
    )
    return {"images": pictures, "videos": videos}


def make_clip(
    path: Path,
    width: int,
    height: int,
    seconds: float,
    *,
    seed: int = 0,
    bit_rate: int = 4_500_000,
    fps: int = 24,
) -> Path:
    """An H.264 + AAC clip that weighs what a real one weighs at `bit_rate` (4.5 Mbit/s is about
    what a 720p result is): moving grain over a gradient, and a tone."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, width + 64, dtype=np.float32)[None, :, None]
    colour = rng.uniform(40, 200, size=(1, 1, 3)).astype(np.float32)
    grain = rng.normal(0, 14, size=(height + 64, width + 64, 1)).astype(np.float32)
    texture = np.clip(colour * (0.6 + 0.4 * x) + grain, 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.bit_rate = bit_rate
        video.options = {"preset": "ultrafast"}
        audio = out.add_stream("aac", rate=48000)
        audio.layout = "mono"
        for index in range(round(seconds * fps)):
            dx, dy = (index * 3) % 64, (index * 2) % 64
            pixels = np.ascontiguousarray(texture[dy : dy + height, dx : dx + width])
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        _tone(out, audio, seconds)
    return path


def _tone(out: av.container.OutputContainer, stream: av.AudioStream, seconds: float) -> None:
    rate, chunk = 48000, 1024
    samples = 0.2 * np.sin(2 * np.pi * 440 * np.arange(round(rate * seconds)) / rate)
    for start in range(0, len(samples), chunk):
        frame = av.AudioFrame.from_ndarray(
            samples[None, start : start + chunk].astype(np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)


def seed_simulator_render(data_dir: Path, payload: dict, result: Path) -> Path | None:
    """Put a realistic result where the simulator keeps its render of `payload` (its cache is
    keyed by everything that affects the pixels, references by content), so it serves a file as
    heavy as fal's instead of its light animatic. Uses the simulator's own key function; returns
    None (the simulator then renders as usual) if that is not available."""
    import hashlib

    try:
        from seedance_desktop.domain.endpoints import OUTPUT_FPS, output_size
        from seedance_desktop.simulator.pipeline import _cache_key
        from seedance_desktop.simulator.render import RenderSpec
    except ImportError:
        return None
    images = tuple(Path(p) for p in payload.get("images", ()))
    videos = tuple(Path(p) for p in payload.get("videos", ()))
    digests = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in images + videos}
    width, height = output_size(payload["resolution"], payload["aspect_ratio"])
    spec = RenderSpec(
        width=width,
        height=height,
        duration_s=float(payload["duration"]),
        prompt=payload["prompt"],
        seed=payload["seed"],
        fps=OUTPUT_FPS,
        reference_images=images,
        reference_videos=videos,
        generate_audio=True,
    )
    target = data_dir / "outputs" / f"{_cache_key(spec, digests)}.mp4"
    target.parent.mkdir(parents=True, exist_ok=True)
    os.link(result, target) if not target.exists() else None
    return target
