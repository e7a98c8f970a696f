"""The simulator's renderer: an animatic of the request, not a blank clip.

It shows the prompt, the seed and the references (the start frame moving to the end frame in image
to video; the reference images and frames of the reference videos in reference to video), with the
reference audio as the soundtrack, a generated chord otherwise, or no sound at all when audio is
off. The same spec gives the same file. Static layers are drawn once; each frame is cheap numpy.
"""

from __future__ import annotations

import colorsys
import logging
import random
import textwrap
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from seedance_desktop.media.encode import AUDIO_RATE, Mp4Writer, read_audio

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderSpec:
    width: int
    height: int
    duration_s: float
    prompt: str
    seed: int
    fps: int = 24
    start_image: Path | None = None
    end_image: Path | None = None
    reference_images: tuple[Path, ...] = ()
    reference_videos: tuple[Path, ...] = ()
    reference_audio: tuple[Path, ...] = ()
    generate_audio: bool = True


def render(spec: RenderSpec, out_path: Path) -> Path:
    """Render the animatic to `out_path` (blocking; run it in a worker thread)."""
    frames = max(1, round(spec.duration_s * spec.fps))
    rng = random.Random(spec.seed)
    background = _background(spec, rng)
    pictures = _pictures(spec)
    overlay, alpha = _overlay(spec)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with Mp4Writer(
        out_path, spec.width, spec.height, fps=spec.fps, with_audio=spec.generate_audio
    ) as out:
        for index in range(frames):
            progress = index / max(frames - 1, 1)
            frame = _scene(spec, background, pictures, progress)
            _blend(frame, overlay, alpha)
            _progress_bar(frame, progress)
            out.add_frame(frame)
        if spec.generate_audio:
            out.add_audio(_soundtrack(spec, frames / spec.fps, rng))
    return out_path


# Pictures ---------------------------------------------------------------------------------------


def _cover(image: Image.Image, width: int, height: int) -> np.ndarray:
    fitted = ImageOps.fit(image.convert("RGB"), (width, height), Image.Resampling.BILINEAR)
    return np.asarray(fitted, dtype=np.uint8)


def _open_picture(path: Path, width: int, height: int) -> np.ndarray:
    try:
        with Image.open(path) as image:
            return _cover(ImageOps.exif_transpose(image), width, height)
    except Exception as exc:  # an unreadable reference becomes a placeholder tile, never a crash
        log.info("placeholder for unreadable picture %s: %s", path.name, exc)
        return _placeholder(width, height, f"unreadable: {path.name}")


def _video_stills(path: Path, width: int, height: int, count: int = 3) -> list[np.ndarray]:
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            total = stream.frames or 48
            wanted = {round(i * (total - 1) / max(count - 1, 1)) for i in range(count)}
            stills = []
            for number, frame in enumerate(container.decode(stream)):
                if number in wanted:
                    stills.append(_cover(frame.to_image(), width, height))
                if len(stills) == count:
                    break
            return stills or [_placeholder(width, height, f"no frames: {path.name}")]
    except Exception as exc:
        log.info("placeholder for unreadable video %s: %s", path.name, exc)
        return [_placeholder(width, height, f"unreadable: {path.name}")]


def _placeholder(width: int, height: int, text: str) -> np.ndarray:
    image = Image.new("RGB", (width, height), (60, 60, 66))
    draw = ImageDraw.Draw(image)
    draw.text((16, 16), text, fill=(220, 220, 220), font=_font(max(12, height // 20)))
    return np.asarray(image, dtype=np.uint8)


def _pictures(spec: RenderSpec) -> list[np.ndarray]:
    """The pictures the shot moves through, already at frame size."""
    w, h = spec.width, spec.height
    if spec.start_image is not None:
        pictures = [_open_picture(spec.start_image, w, h)]
        if spec.end_image is not None:
            pictures.append(_open_picture(spec.end_image, w, h))
        return pictures
    pictures = [_open_picture(p, w, h) for p in spec.reference_images]
    for video in spec.reference_videos:
        pictures += _video_stills(video, w, h)
    return pictures


def _background(spec: RenderSpec, rng: random.Random) -> np.ndarray:
    """A seed-coloured diagonal gradient, twice as wide as the frame so it can pan."""
    hue = rng.random()
    first = np.array(colorsys.hsv_to_rgb(hue, 0.55, 0.55)) * 255
    second = np.array(colorsys.hsv_to_rgb((hue + 0.35) % 1.0, 0.6, 0.35)) * 255
    w, h = spec.width * 2, spec.height
    ramp = (np.linspace(0, 1, w, dtype=np.float32)[None, :] + np.linspace(0, 0.5, h)[:, None]) / 1.5
    wave = 0.5 + 0.5 * np.sin(ramp * np.pi * 4)
    mix = wave[..., None]
    return (first * (1 - mix) + second * mix).astype(np.uint8)


def _scene(
    spec: RenderSpec, background: np.ndarray, pictures: list[np.ndarray], progress: float
) -> np.ndarray:
    if not pictures:
        shift = int(progress * spec.width)
        return background[:, shift : shift + spec.width].copy()
    if len(pictures) == 1:
        return _ken_burns(pictures[0], progress)
    # Move through the pictures in order, cross-fading between neighbours.
    position = progress * (len(pictures) - 1)
    index = min(int(position), len(pictures) - 2)
    mix = position - index
    a, b = pictures[index], pictures[index + 1]
    if mix <= 0.0:
        return a.copy()
    if mix >= 1.0:
        return b.copy()
    return (a * (1.0 - mix) + b * mix).astype(np.uint8)


def _ken_burns(picture: np.ndarray, progress: float) -> np.ndarray:
    """A slow push-in made of a shrinking crop, resized back with numpy (nearest neighbour)."""
    h, w = picture.shape[:2]
    zoom = 1.0 + 0.12 * progress
    ch, cw = int(h / zoom), int(w / zoom)
    top, left = (h - ch) // 2, (w - cw) // 2
    rows = top + (np.arange(h) * ch // h)
    cols = left + (np.arange(w) * cw // w)
    return picture[rows[:, None], cols[None, :]]


# Text overlay -----------------------------------------------------------------------------------


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _overlay(spec: RenderSpec) -> tuple[np.ndarray, np.ndarray]:
    """The prompt on a dark band and a "SIMULATED · seed N" label, drawn once."""
    w, h = spec.width, spec.height
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    size = max(14, h // 24)
    font = _font(size)
    columns = max(20, int(w / (size * 0.55)))
    lines = textwrap.wrap(" ".join(spec.prompt.split()), columns)[:4] or [""]
    band_height = (len(lines) + 1) * int(size * 1.3)
    top = h - band_height - h // 12
    draw.rectangle((0, top, w, top + band_height), fill=(0, 0, 0, 140))
    for number, line in enumerate(lines):
        draw.text((size, top + size // 2 + number * int(size * 1.3)), line, font=font,
                  fill=(255, 255, 255, 255))  # fmt: skip
    label_font = _font(max(10, size * 2 // 3))
    draw.text((size, size // 2), f"SIMULATED · seed {spec.seed}", font=label_font,
              fill=(255, 255, 255, 200))  # fmt: skip
    rgba = np.asarray(layer, dtype=np.uint8)
    return rgba[..., :3].astype(np.float32), (rgba[..., 3:4].astype(np.float32) / 255.0)


def _blend(frame: np.ndarray, overlay: np.ndarray, alpha: np.ndarray) -> None:
    rows = np.flatnonzero(alpha.max(axis=(1, 2)) > 0)
    if rows.size == 0:
        return
    top, bottom = rows[0], rows[-1] + 1
    a = alpha[top:bottom]
    region = frame[top:bottom].astype(np.float32)
    frame[top:bottom] = (region * (1 - a) + overlay[top:bottom] * a).astype(np.uint8)


def _progress_bar(frame: np.ndarray, progress: float) -> None:
    h, w = frame.shape[:2]
    thickness = max(2, h // 120)
    frame[h - thickness :, : int(w * progress)] = (255, 255, 255)


# Sound ------------------------------------------------------------------------------------------


def _soundtrack(spec: RenderSpec, seconds: float, rng: random.Random) -> np.ndarray:
    if spec.reference_audio:
        pieces = []
        for path in spec.reference_audio:
            try:
                pieces.append(read_audio(path, seconds))
            except Exception as exc:
                log.info("silence for unreadable audio %s: %s", path.name, exc)
        if pieces:
            return np.concatenate(pieces, axis=1)
    return _chord(seconds, rng)


def _chord(seconds: float, rng: random.Random) -> np.ndarray:
    """A soft seed-chosen major chord that swells and fades."""
    total = round(seconds * AUDIO_RATE)
    t = np.arange(total, dtype=np.float32) / AUDIO_RATE
    root = 110.0 * 2 ** (rng.randrange(12) / 12)
    tone = sum(np.sin(2 * np.pi * root * ratio * t) for ratio in (1.0, 1.25, 1.5, 2.0))
    envelope = np.minimum(1.0, t / 0.5) * np.minimum(1.0, (seconds - t) / 0.8).clip(0, 1)
    mono = (0.08 * tone * envelope).astype(np.float32)
    return np.vstack([mono, mono])
