"""Fitting a reference to fal's limits, as pure rules: what a file needs, and the exact transform.

A `FitSettings` is what the person chose (a time range, an optional crop to an aspect ratio, the
sound format); `plan_fit` turns it and a probe of the source into a `FitPlan` (the output size,
range, format and byte budget) or a `FitRefusal` with a message for the person. The work itself
(PyAV, Pillow) lives in media/fit*.py. No I/O here.

Sizes: a video is scaled to the largest size inside fal's pixel window that keeps its shape
exactly where it can (1920×1080 → 1280×720, 1440×1080 → 1112×834, 1080×1920 → 720×1280), both
sides even as H.264 needs; a video already inside the window keeps its size.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from seedance_desktop.domain.endpoints import LIMITS
from seedance_desktop.domain.media_info import MediaInfo, MediaKind

FIT_VERSION = 1  # part of every fitted file's key: a change of method makes new files
_MB = 1024 * 1024
# Room kept under fal's byte limits: container overhead and the encoder's rate control.
VIDEO_BYTES_MARGIN = 0.92
MAX_VIDEO_KBPS = 8000  # enough for 720p motion; more only makes the upload slower
MIN_VIDEO_KBPS = 250
AUDIO_KBPS_IN_VIDEO = 128
MAX_VIDEO_FPS = 60
MIN_VIDEO_FPS = 24
ASPECT_RATIOS = {"21:9": 21 / 9, "16:9": 16 / 9, "4:3": 4 / 3, "1:1": 1.0, "3:4": 3 / 4}
ASPECT_RATIOS["9:16"] = 9 / 16
IMAGE_FORMATS_OUT = ("jpeg", "png")
AUDIO_FORMATS_OUT = ("wav", "mp3")


class FragmentError(ValueError):
    """A `#t=` range that cannot be read; the message is for the person."""


@dataclass(frozen=True)
class TimeRange:
    """Seconds from the start of the source; `end_s` None means "as much as fits"."""

    start_s: float = 0.0
    end_s: float | None = None

    def to_json(self) -> dict[str, float | None]:
        return {"start_s": self.start_s, "end_s": self.end_s}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> TimeRange:
        start, end = data.get("start_s", 0.0), data.get("end_s")
        return cls(
            float(start) if isinstance(start, int | float) else 0.0,
            float(end) if isinstance(end, int | float) else None,
        )

    def fragment(self) -> str:
        """The W3C media-fragment form, `#t=3,9`."""
        start = f"{self.start_s:g}" if self.start_s else ""
        end = "" if self.end_s is None else f",{self.end_s:g}"
        return f"#t={start or 0}{end}"


_FRAGMENT = re.compile(r"^(?P<path>.*)#t=(?P<range>[^#]*)$", re.DOTALL)
_CLOCK = re.compile(r"^(?:(?:(\d+):)?(\d{1,2}):)?(\d+(?:\.\d*)?)$")


def split_fragment(reference: str) -> tuple[str, TimeRange | None]:
    """`clip.mp4#t=3,9` → ("clip.mp4", TimeRange(3, 9)); no fragment → (reference, None).

    Accepts W3C temporal fragments in normal play time: `t=3,9`, `t=,9`, `t=3`, `t=npt:3.5,9`,
    `t=0:01:02.5,0:01:10`. Raises FragmentError for one that is malformed or runs backwards.
    """
    found = _FRAGMENT.match(reference)
    if not found:
        return reference, None
    text = found.group("range").strip()
    if text.startswith("npt:"):
        text = text[4:]
    start_text, comma, end_text = text.partition(",")
    if not text or (not start_text and not end_text):
        raise FragmentError(f"“#t={found.group('range')}” has no times; write it as #t=3,9.")
    start = _seconds(start_text, reference) if start_text else 0.0
    end = _seconds(end_text, reference) if comma and end_text else None
    if end is not None and end <= start:
        raise FragmentError(
            f"“#t={found.group('range')}” ends before it starts; write the start first, "
            "as in #t=3,9."
        )
    return found.group("path"), TimeRange(start, end)


def _seconds(text: str, reference: str) -> float:
    clock = _CLOCK.match(text.strip())
    if not clock:
        raise FragmentError(
            f"“{text}” in {reference} is not a time; use seconds (3.5) or h:mm:ss (0:01:02.5)."
        )
    hours, minutes, seconds = clock.groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds)


@dataclass(frozen=True)
class FitSettings:
    """What the person chose for one reference. Defaults fit the file as-is where possible."""

    time_range: TimeRange = field(default_factory=TimeRange)
    crop_aspect: str | None = None  # one of ASPECT_RATIOS; None keeps the whole picture
    audio_format: str = "wav"  # for sound: "wav" (no loss) or "mp3" (smaller)
    image_format: str | None = None  # None: JPEG for photos, PNG for pictures with transparency

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"range": self.time_range.to_json()}
        if self.crop_aspect:
            data["crop_aspect"] = self.crop_aspect
        data["audio_format"] = self.audio_format
        if self.image_format:
            data["image_format"] = self.image_format
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> FitSettings:
        time_range = data.get("range")
        crop = data.get("crop_aspect")
        image_format = data.get("image_format")
        return cls(
            TimeRange.from_json(time_range) if isinstance(time_range, Mapping) else TimeRange(),
            crop if isinstance(crop, str) and crop in ASPECT_RATIOS else None,
            "mp3" if data.get("audio_format") == "mp3" else "wav",
            image_format
            if isinstance(image_format, str) and image_format in IMAGE_FORMATS_OUT
            else None,
        )


@dataclass(frozen=True)
class Budget:
    """What is left of the shot's combined limits for this one file (the other references
    counted): seconds of video and sound, bytes of video."""

    video_seconds: float = LIMITS.combined_video_seconds[1]
    audio_seconds: float = LIMITS.max_combined_audio_seconds
    video_bytes: int = LIMITS.max_total_video_bytes


def budget_for(others: list[MediaInfo]) -> Budget:
    """The budget left once `others` (the shot's other references, already within limits)
    are counted."""
    videos = [i for i in others if i.kind is MediaKind.VIDEO]
    audios = [i for i in others if i.kind is MediaKind.AUDIO]
    return Budget(
        max(0.0, LIMITS.combined_video_seconds[1] - sum(i.duration_s or 0.0 for i in videos)),
        max(0.0, LIMITS.max_combined_audio_seconds - sum(i.duration_s or 0.0 for i in audios)),
        max(0, LIMITS.max_total_video_bytes - sum(i.size_bytes for i in videos)),
    )


@dataclass(frozen=True)
class Crop:
    """A centred crop in source pixels (as displayed, after rotation)."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class FitPlan:
    """Exactly what a fit makes: the media/ layer carries it out."""

    kind: MediaKind
    out_format: str  # "mp4", "wav", "mp3", "jpeg", "png"
    start_s: float = 0.0
    end_s: float | None = None
    width: int | None = None
    height: int | None = None
    crop: Crop | None = None
    fps: int | None = None
    video_kbps: int | None = None
    max_bytes: int | None = None
    sample_rate: int | None = None

    @property
    def seconds(self) -> float | None:
        return None if self.end_s is None else self.end_s - self.start_s

    @property
    def extension(self) -> str:
        return {"jpeg": ".jpg"}.get(self.out_format, f".{self.out_format}")

    def describe(self) -> str:
        """One short line: "1280×720, 0–12 s, H.264 MP4"."""
        parts = []
        if self.width and self.height:
            parts.append(f"{self.width}×{self.height}")
        if self.end_s is not None:
            parts.append(f"{self.start_s:g}–{self.end_s:g} s")
        parts.append({"mp4": "H.264 MP4"}.get(self.out_format, self.out_format.upper()))
        return ", ".join(parts)


@dataclass(frozen=True)
class FitRefusal:
    """A file that fitting cannot help, and why, in words for the person."""

    message: str


FitOutcome = FitPlan | FitRefusal


def plan_fit(
    name: str,
    info: MediaInfo,
    settings: FitSettings | None = None,
    budget: Budget | None = None,
    *,
    image_formats: tuple[str, ...] = LIMITS.reference_image_formats,
) -> FitOutcome:
    """The transform that brings `info` within fal's limits with `settings`, or why not."""
    settings = settings or FitSettings()
    budget = budget or Budget()
    if info.kind is MediaKind.VIDEO:
        return _plan_video(name, info, settings, budget)
    if info.kind is MediaKind.AUDIO:
        return _plan_audio(name, info, settings, budget)
    return _plan_image(name, info, settings, image_formats)


def needs_fit(
    info: MediaInfo,
    *,
    image_formats: tuple[str, ...] = LIMITS.reference_image_formats,
    turned: bool = False,
) -> bool:
    """True when the file alone breaks a limit fitting can mend (totals are the caller's)."""
    if info.kind is MediaKind.VIDEO:
        pixels = info.pixels or 0
        low, high = LIMITS.video_pixels
        return (
            info.format not in LIMITS.video_formats
            or not low <= pixels <= high
            or (info.duration_s or 0.0) > LIMITS.each_clip_seconds[1]
            or info.size_bytes >= LIMITS.max_total_video_bytes
        )
    if info.kind is MediaKind.AUDIO:
        return (
            info.format not in LIMITS.audio_formats
            or (info.duration_s or 0.0) > LIMITS.max_combined_audio_seconds
            or info.size_bytes > LIMITS.max_audio_bytes
        )
    width, height = info.width or 1, info.height or 1
    return (
        turned
        or info.format not in image_formats
        or info.size_bytes > LIMITS.max_image_bytes
        or max(width, height) > LIMITS.image_side_px[1]
        or not LIMITS.image_aspect[0] <= width / height <= LIMITS.image_aspect[1]
    )


# ---- video ------------------------------------------------------------------------------------


def _plan_video(name: str, info: MediaInfo, settings: FitSettings, budget: Budget) -> FitOutcome:
    if not info.width or not info.height:
        return FitRefusal(f"{name} has no picture size that could be read.")
    duration = info.duration_s or 0.0
    low = LIMITS.combined_video_seconds[0]
    if duration < low:
        return FitRefusal(
            f"{name} lasts {duration:.1f} s; reference videos need at least {low:g} s, and "
            "fitting can shorten a clip but not lengthen it."
        )
    chosen = _range(name, settings.time_range, duration, budget.video_seconds)
    if isinstance(chosen, FitRefusal):
        return chosen
    start, end = chosen
    if end - start < low:
        return FitRefusal(
            f"The range chosen in {name} lasts {end - start:.1f} s; reference videos need at "
            f"least {low:g} s."
        )
    crop = _crop(info.width, info.height, settings.crop_aspect)
    shown_w, shown_h = (crop.width, crop.height) if crop else (info.width, info.height)
    width, height = video_size(shown_w, shown_h)
    # Constant rate out: the source's, at least 24 (a variable-rate clip's average can be low).
    fps = max(MIN_VIDEO_FPS, min(MAX_VIDEO_FPS, round(info.fps or 30)))
    max_bytes = int(budget.video_bytes * VIDEO_BYTES_MARGIN)
    kbps = int(max_bytes * 8 / 1000 / (end - start)) - AUDIO_KBPS_IN_VIDEO
    if kbps < MIN_VIDEO_KBPS:
        return FitRefusal(
            f"{name} cannot fit in the {budget.video_bytes / _MB:.1f} MB left for reference "
            "videos; shorten the range or remove another video."
        )
    return FitPlan(
        MediaKind.VIDEO,
        "mp4",
        start,
        end,
        width,
        height,
        crop,
        fps,
        min(kbps, MAX_VIDEO_KBPS),
        max_bytes,
    )


def video_size(width: int, height: int) -> tuple[int, int]:
    """The size to encode: unchanged when inside fal's pixel window (made even), else the
    largest inside it with the same shape (exact where the shape allows, else the nearest)."""
    low, high = LIMITS.video_pixels
    if low <= width * height <= high:
        return _even(width), _even(height)
    unit = math.gcd(width, height)
    unit_w, unit_h = width // unit, height // unit
    step = 1 if unit_w % 2 == 0 and unit_h % 2 == 0 else 2  # both sides even
    k = math.isqrt(high // (unit_w * unit_h))
    k -= k % step
    if k and low <= (unit_w * k) * (unit_h * k) <= high:
        return unit_w * k, unit_h * k
    scale = math.sqrt(high / (width * height))
    out_w, out_h = _even_down(width * scale), _even_down(height * scale)
    while out_w * out_h > high:
        out_w, out_h = out_w - 2, _even_down(out_w * height / width)
    return max(2, out_w), max(2, out_h)


def _even(value: int) -> int:
    return max(2, value - value % 2)


def _even_down(value: float) -> int:
    return max(2, int(value) - int(value) % 2)


def _crop(width: int, height: int, aspect: str | None) -> Crop | None:
    if aspect is None or aspect not in ASPECT_RATIOS:
        return None
    ratio = ASPECT_RATIOS[aspect]
    if abs(width / height - ratio) < 0.01:
        return None
    if width / height > ratio:  # too wide: keep the full height
        new_w = _even(round(height * ratio))
        return Crop((width - new_w) // 2, 0, new_w, height)
    new_h = _even(round(width / ratio))
    return Crop(0, (height - new_h) // 2, width, new_h)


def _range(
    name: str, wanted: TimeRange, duration: float, seconds_left: float
) -> tuple[float, float] | FitRefusal:
    start = max(0.0, wanted.start_s)
    if start >= duration:
        return FitRefusal(
            f"{name} lasts {duration:.1f} s; a range starting at {start:g} s is past its end."
        )
    if seconds_left <= 0:
        return FitRefusal(
            f"The other references already fill the {LIMITS.max_combined_audio_seconds:g} s "
            f"allowed together; shorten one of them to make room for {name}."
        )
    end = duration if wanted.end_s is None else min(wanted.end_s, duration)
    end = min(end, start + seconds_left)
    return round(start, 3), round(end, 3)


# ---- sound ------------------------------------------------------------------------------------


def _plan_audio(name: str, info: MediaInfo, settings: FitSettings, budget: Budget) -> FitOutcome:
    duration = info.duration_s or 0.0
    chosen = _range(name, settings.time_range, duration, budget.audio_seconds)
    if isinstance(chosen, FitRefusal):
        return chosen
    start, end = chosen
    fmt = settings.audio_format if settings.audio_format in AUDIO_FORMATS_OUT else "wav"
    return FitPlan(
        MediaKind.AUDIO,
        fmt,
        start,
        end,
        max_bytes=LIMITS.max_audio_bytes,
        sample_rate=48_000 if fmt == "wav" else 44_100,
    )


# ---- pictures ---------------------------------------------------------------------------------


def _plan_image(
    name: str, info: MediaInfo, settings: FitSettings, image_formats: tuple[str, ...]
) -> FitOutcome:
    if not info.width or not info.height:
        return FitRefusal(f"{name} has no picture size that could be read.")
    width, height = info.width, info.height
    crop = _crop(width, height, settings.crop_aspect)
    if crop is None:
        crop = _crop_into_ratio_window(width, height)
    shown_w, shown_h = (crop.width, crop.height) if crop else (width, height)
    longest = LIMITS.image_side_px[1]
    scale = min(1.0, longest / max(shown_w, shown_h))
    out_w, out_h = max(1, round(shown_w * scale)), max(1, round(shown_h * scale))
    fmt = settings.image_format or ("png" if info.format in ("png", "gif") else "jpeg")
    if fmt not in image_formats:
        fmt = "jpeg"
    return FitPlan(
        MediaKind.IMAGE, fmt, width=out_w, height=out_h, crop=crop, max_bytes=LIMITS.max_image_bytes
    )


def _crop_into_ratio_window(width: int, height: int) -> Crop | None:
    """A centred crop to the nearest allowed shape, for pictures outside 0.4–2.5."""
    low, high = LIMITS.image_aspect
    shape = width / height
    if shape > high:
        new_w = int(height * high)
        return Crop((width - new_w) // 2, 0, new_w, height)
    if shape < low:
        new_h = int(width / low)
        return Crop(0, (height - new_h) // 2, width, new_h)
    return None


# ---- what the shot records --------------------------------------------------------------------


@dataclass(frozen=True)
class FitRecord:
    """One fitted reference, kept in the shot: the original, the settings, the file sent."""

    source: str
    fitted: str
    settings: FitSettings
    summary: str = ""  # "3840×2160 60.0 s → 1280×720 0–15 s, H.264 MP4"

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "fitted": self.fitted,
            "settings": self.settings.to_json(),
            "summary": self.summary,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> FitRecord | None:
        source, fitted, settings = data.get("source"), data.get("fitted"), data.get("settings")
        if not isinstance(source, str) or not isinstance(fitted, str):
            return None
        return cls(
            source,
            fitted,
            FitSettings.from_json(settings) if isinstance(settings, Mapping) else FitSettings(),
            str(data.get("summary", "")),
        )

    def with_fitted(self, fitted: str) -> FitRecord:
        return replace(self, fitted=fitted)
