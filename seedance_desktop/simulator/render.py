"""The simulator's renderer: an animatic of the request, not a blank clip.

What it shows:
- text to video: the prompt on a seed-coloured background that pans slowly;
- image to video: the start frame (cover-fitted) cross-fading to the end frame with a slow push-in,
  or a Ken Burns push-in on the start frame alone;
- reference to video: a slideshow of the reference images and of stills taken from the reference
  videos, with a strip of thumbnails; unreadable files become placeholder tiles.
Always: the wrapped prompt, a "SIMULATED · seed N" label and a progress bar.

Sound: the reference audio (concatenated, cut or padded with silence to the clip) when given, else a
seed-chosen chord. With `generate_audio=False` the file has NO audio stream, as we expect of fal.

Static layers are drawn once; each frame is a few C-speed Pillow operations. The same spec (and
the same input files) gives a byte-identical file.
"""

from __future__ import annotations

import colorsys
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from seedance_desktop.media.encode import AUDIO_RATE, Mp4Writer, read_audio

log = logging.getLogger(__name__)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
Scene = Callable[[float], Image.Image]

_HOLD = 0.15  # image to video: share of the clip held on the start (and on the end) frame
_FADE = 0.3  # slideshow: share of each picture's time spent dissolving into the next
_STILLS_PER_VIDEO = 3


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
    hue = rng.random()
    size = (spec.width, spec.height)
    pictures, thumbnails = _pictures(spec)
    scene = _scene(spec, pictures, hue)
    overlay = _overlay(spec, thumbnails)
    bar = max(2, spec.height // 120)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with Mp4Writer(
        out_path, spec.width, spec.height, fps=spec.fps, with_audio=spec.generate_audio
    ) as out:
        for index in range(frames):
            progress = index / max(frames - 1, 1)
            frame = scene(progress)
            for layer, position in overlay:
                frame.paste(layer, position, layer)
            done = round(size[0] * progress)
            if done:
                frame.paste((255, 255, 255), (0, size[1] - bar, done, size[1]))
            out.add_frame(np.asarray(frame))
        if spec.generate_audio:
            out.add_audio(_soundtrack(spec, frames / spec.fps, rng))
    return out_path


# Pictures ---------------------------------------------------------------------------------------


def _cover(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    return ImageOps.fit(image.convert("RGB"), size, Image.Resampling.BILINEAR)


def _font(size: int) -> Font:
    return ImageFont.load_default(size=size)


def _placeholder(size: tuple[int, int], text: str) -> Image.Image:
    """A grey tile with a cross and the reason, for a reference that could not be read."""
    width, height = size
    image = Image.new("RGB", size, (58, 60, 66))
    draw = ImageDraw.Draw(image)
    draw.line((0, 0, width, height), fill=(90, 92, 100), width=3)
    draw.line((0, height, width, 0), fill=(90, 92, 100), width=3)
    font_size = max(12, min(width, height) // 18)
    draw.text((width // 2, height // 2), text, fill=(225, 225, 225), font=_font(font_size),
              anchor="mm")  # fmt: skip
    return image


def _open_picture(path: Path, size: tuple[int, int]) -> Image.Image:
    try:
        with Image.open(path) as image:
            image.draft("RGB", (max(size), max(size)))  # JPEG: decode big files at a reduced scale
            return _cover(ImageOps.exif_transpose(image), size)
    except Exception as exc:  # an unreadable reference becomes a placeholder tile, never a crash
        log.info("placeholder for unreadable picture %s: %s", path.name, type(exc).__name__)
        return _placeholder(size, f"unreadable image: {path.name}")


def _video_stills(path: Path, size: tuple[int, int]) -> list[Image.Image]:
    """A few stills spread over a video (by seeking), cover-fitted to the frame."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            duration = _seconds(stream, container)
            stills = []
            for share in (0.1, 0.5, 0.9)[:_STILLS_PER_VIDEO]:
                still = _still_at(container, stream, duration * share)
                if still is not None:
                    stills.append(_cover(still, size))
            if stills:
                return stills
    except Exception as exc:
        log.info("placeholder for unreadable video %s: %s", path.name, type(exc).__name__)
        return [_placeholder(size, f"unreadable video: {path.name}")]
    return [_placeholder(size, f"no frames: {path.name}")]


def _seconds(stream: av.video.stream.VideoStream, container: av.container.InputContainer) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


def _still_at(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, seconds: float
) -> Image.Image | None:
    """The first frame at or after `seconds` (or the last one before the end)."""
    base = stream.time_base or Fraction(1, av.time_base)
    start = stream.start_time or 0
    container.seek(start + int(seconds / base), stream=stream, backward=True)
    found: av.VideoFrame | None = None
    for frame in container.decode(stream):
        found = frame
        if frame.time is None or frame.time >= seconds:
            break
    return found.to_image() if found is not None else None


def _pictures(spec: RenderSpec) -> tuple[list[Image.Image], list[Image.Image]]:
    """The pictures the shot moves through at frame size, and one thumbnail per reference."""
    size = (spec.width, spec.height)
    if spec.start_image is not None:
        pictures = [_open_picture(spec.start_image, size)]
        if spec.end_image is not None:
            pictures.append(_open_picture(spec.end_image, size))
        return pictures, []
    pictures = [_open_picture(p, size) for p in spec.reference_images]
    thumbnails = list(pictures)
    for video in spec.reference_videos:
        stills = _video_stills(video, size)
        pictures += stills
        thumbnails.append(stills[len(stills) // 2])
    return pictures, thumbnails


# Motion -----------------------------------------------------------------------------------------


def _scene(spec: RenderSpec, pictures: list[Image.Image], hue: float) -> Scene:
    if not pictures:
        return _panning_background(spec.width, spec.height, hue)
    if spec.start_image is not None:
        return _start_to_end(pictures)
    return _slideshow(pictures)


def _panning_background(width: int, height: int, hue: float) -> Scene:
    """Soft seed-coloured bands, twice the frame's width, panned across over the clip."""
    first = np.array(colorsys.hsv_to_rgb(hue, 0.55, 0.6), np.float32) * 255
    second = np.array(colorsys.hsv_to_rgb((hue + 0.35) % 1.0, 0.6, 0.35), np.float32) * 255
    ramp = np.linspace(0.0, 2.0, width * 2, dtype=np.float32)[None, :]
    ramp = ramp + np.linspace(0.0, 0.6, height, dtype=np.float32)[:, None]
    mix = (0.5 + 0.5 * np.sin(ramp * np.pi * 2))[..., None]
    wide = Image.fromarray((first * (1 - mix) + second * mix).astype(np.uint8), "RGB")

    def scene(progress: float) -> Image.Image:
        shift = round(progress * width)
        return wide.crop((shift, 0, shift + width, height))

    return scene


def _push_in(picture: Image.Image, amount: float) -> Image.Image:
    """A centred crop scaled back to full size: a slow zoom (nearest neighbour keeps it cheap)."""
    if amount <= 0.0:
        return picture.copy()
    width, height = picture.size
    dx, dy = width * amount / 2, height * amount / 2
    return picture.resize(
        picture.size, Image.Resampling.NEAREST, box=(dx, dy, width - dx, height - dy)
    )


def _start_to_end(pictures: list[Image.Image]) -> Scene:
    start, end = pictures[0], pictures[-1]

    def scene(progress: float) -> Image.Image:
        mix = min(1.0, max(0.0, (progress - _HOLD) / (1.0 - 2 * _HOLD)))
        if len(pictures) == 1 or mix <= 0.0:
            picture = start
        elif mix >= 1.0:
            picture = end
        else:
            picture = Image.blend(start, end, mix)
        return _push_in(picture, 0.12 * progress)

    return scene


def _slideshow(pictures: list[Image.Image]) -> Scene:
    count = len(pictures)

    def scene(progress: float) -> Image.Image:
        position = min(progress * count, count - 1e-9)
        index = int(position)
        local = position - index
        picture = pictures[index]
        fade = (local - (1.0 - _FADE)) / _FADE
        if index + 1 < count and fade > 0.0:
            picture = Image.blend(picture, pictures[index + 1], fade)
        return _push_in(picture, 0.06 * local)

    return scene


# Text overlay -----------------------------------------------------------------------------------


def _wrap(text: str, font: Font, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap by measured width; over-long words are cut; an ellipsis marks the rest."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        while font.getlength(word) > width and len(word) > 1:
            cut = next(n for n in range(len(word) - 1, 0, -1) if font.getlength(word[:n]) <= width)
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:cut])
            word = word[cut:]
        candidate = f"{line} {word}" if line else word
        if font.getlength(candidate) <= width:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and font.getlength(last + " …") > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + " …"
    return lines


def _overlay(
    spec: RenderSpec, thumbnails: list[Image.Image]
) -> list[tuple[Image.Image, tuple[int, int]]]:
    """Translucent RGBA layers drawn once: the prompt band, the label, the reference strip."""
    width, height = spec.width, spec.height
    short = min(width, height)
    size = max(14, short // 22)
    font = _font(size)
    margin = size
    line_height = round(size * 1.3)
    prompt = " ".join(spec.prompt.split()) or "(no prompt)"
    lines = _wrap(prompt, font, width - 2 * margin, max_lines=5)
    band = Image.new("RGBA", (width, len(lines) * line_height + margin), (0, 0, 0, 150))
    draw = ImageDraw.Draw(band)
    for number, line in enumerate(lines):
        draw.text((margin, margin // 2 + number * line_height), line, font=font,
                  fill=(255, 255, 255, 255))  # fmt: skip
    band_top = height - band.height - max(2, height // 120) - height // 20
    layers = [(band, (0, band_top))]

    label_font = _font(max(11, size * 2 // 3))
    text = f"SIMULATED · seed {spec.seed}"
    left, top, right, bottom = label_font.getbbox(text)
    pad = max(4, size // 3)
    box = (round(right - left) + 2 * pad, round(bottom - top) + 2 * pad)
    label = Image.new("RGBA", box, (0, 0, 0, 120))
    ImageDraw.Draw(label).text((pad - left, pad - top), text, font=label_font,
                               fill=(255, 255, 255, 230))  # fmt: skip
    layers.append((label, (margin // 2, margin // 2)))
    if len(thumbnails) > 1:
        layers.append(_strip(thumbnails, short // 8, width - margin // 2, margin // 2))
    return layers


def _strip(
    thumbnails: list[Image.Image], height: int, right: int, top: int
) -> tuple[Image.Image, tuple[int, int]]:
    """A row of small reference pictures, right-aligned at the top of the frame."""
    gap = max(2, height // 12)
    shrunk = [t.resize((max(1, round(height * t.width / t.height)), height)) for t in thumbnails]
    total = sum(t.width for t in shrunk) + gap * (len(shrunk) + 1)
    strip = Image.new("RGBA", (total, height + 2 * gap), (0, 0, 0, 120))
    x = gap
    for thumb in shrunk:
        strip.paste(thumb.convert("RGBA"), (x, gap))
        x += thumb.width + gap
    return strip, (max(0, right - total), top)


# Sound ------------------------------------------------------------------------------------------


def _soundtrack(spec: RenderSpec, seconds: float, rng: random.Random) -> np.ndarray:
    """The reference audio back to back (the writer cuts or pads it), else a chord."""
    pieces = []
    needed = seconds
    for path in spec.reference_audio:
        if needed <= 0:
            break
        try:
            piece = read_audio(path, needed)
        except Exception as exc:  # an unreadable sound is left out, never a crash
            log.info("leaving out unreadable audio %s: %s", path.name, type(exc).__name__)
            continue
        pieces.append(piece)
        needed -= piece.shape[1] / AUDIO_RATE
    if pieces:
        return np.concatenate(pieces, axis=1)
    return _chord(seconds, rng)


def _chord(seconds: float, rng: random.Random) -> np.ndarray:
    """A soft seed-chosen major chord, gently arpeggiated, that swells in and fades out."""
    total = round(seconds * AUDIO_RATE)
    t = np.arange(total, dtype=np.float64) / AUDIO_RATE
    root = 110.0 * 2 ** (rng.randrange(12) / 12)
    mono = np.zeros(total)
    for number, ratio in enumerate((1.0, 1.25, 1.5, 2.0)):
        onset = number * 0.25
        swell = np.clip((t - onset) / 0.6, 0.0, 1.0)
        mono += swell * np.sin(2 * np.pi * root * ratio * t) / (1 + 0.3 * number)
    envelope = np.clip(np.minimum(t / 0.3, (seconds - t) / 0.8), 0.0, 1.0)
    mono = (0.09 * mono * envelope).astype(np.float32)
    return np.vstack([mono, mono])
