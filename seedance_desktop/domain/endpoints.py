"""Seedance 2.0 on fal as one data table.

Everything fal could change (endpoint ids, fields, enums, defaults, limits, prices) lives here, so
such a change is a one-line edit. Nothing in this module does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Mode(StrEnum):
    TEXT_TO_VIDEO = "text-to-video"
    IMAGE_TO_VIDEO = "image-to-video"
    REFERENCE_TO_VIDEO = "reference-to-video"

    @property
    def label(self) -> str:
        return {
            Mode.TEXT_TO_VIDEO: "Text to video",
            Mode.IMAGE_TO_VIDEO: "Image to video",
            Mode.REFERENCE_TO_VIDEO: "Reference to video",
        }[self]


class Tier(StrEnum):
    STANDARD = "standard"
    FAST = "fast"


@dataclass(frozen=True)
class FieldSpec:
    """One input field of an endpoint, as fal names and types it."""

    name: str
    type: type
    required: bool = False
    default: object = None
    choices: tuple[str, ...] = ()
    label: str = ""
    is_list: bool = False


RESOLUTIONS: tuple[str, ...] = ("480p", "720p")
DURATIONS: tuple[str, ...] = ("auto", *(str(s) for s in range(4, 16)))
ASPECT_RATIOS: tuple[str, ...] = ("auto", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16")
AUTO_DURATION_RANGE_S: tuple[int, int] = (4, 15)
OUTPUT_FPS = 24

# Output size in pixels, by resolution and aspect ratio.
OUTPUT_SIZES: dict[str, dict[str, tuple[int, int]]] = {
    "480p": {
        "21:9": (992, 432),
        "16:9": (864, 496),
        "4:3": (752, 560),
        "1:1": (640, 640),
        "3:4": (560, 752),
        "9:16": (496, 864),
    },
    "720p": {
        "21:9": (1470, 630),
        "16:9": (1280, 720),
        "4:3": (1112, 834),
        "1:1": (960, 960),
        "3:4": (834, 1112),
        "9:16": (720, 1280),
    },
}

_COMMON_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("prompt", str, required=True, label="Prompt"),
    FieldSpec("resolution", str, default="720p", choices=RESOLUTIONS, label="Resolution"),
    FieldSpec("duration", str, default="auto", choices=DURATIONS, label="Duration"),
    FieldSpec("aspect_ratio", str, default="auto", choices=ASPECT_RATIOS, label="Aspect ratio"),
    FieldSpec("generate_audio", bool, default=True, label="Audio"),
    FieldSpec("seed", int, label="Seed"),
    FieldSpec("end_user_id", str, label="End user id"),
)

_MODE_FIELDS: dict[Mode, tuple[FieldSpec, ...]] = {
    Mode.TEXT_TO_VIDEO: (),
    Mode.IMAGE_TO_VIDEO: (
        FieldSpec("image_url", str, required=True, label="Start frame"),
        FieldSpec("end_image_url", str, label="End frame"),
    ),
    Mode.REFERENCE_TO_VIDEO: (
        FieldSpec("image_urls", str, is_list=True, label="Reference image"),
        FieldSpec("video_urls", str, is_list=True, label="Reference video"),
        FieldSpec("audio_urls", str, is_list=True, label="Reference audio"),
    ),
}

# USD per 1,000 tokens; tokens = width × height × seconds × 24 / 1024.
PRICE_PER_1K_TOKENS: dict[Tier, float] = {Tier.STANDARD: 0.014, Tier.FAST: 0.0112}
# Reference to video with video inputs: the input seconds count too, and the total is discounted.
REFERENCE_VIDEO_PRICE_FACTOR = 0.6


@dataclass(frozen=True)
class Limits:
    """Reference limits from fal's page (hard) and the upstream model (soft, warn only)."""

    max_images: int = 9
    max_videos: int = 3
    max_audios: int = 3
    max_files: int = 12
    start_image_formats: tuple[str, ...] = ("jpeg", "png", "webp", "gif", "avif")
    reference_image_formats: tuple[str, ...] = ("jpeg", "png", "webp")
    video_formats: tuple[str, ...] = ("mp4", "mov")
    audio_formats: tuple[str, ...] = ("mp3", "wav")
    max_image_bytes: int = 30 * 1024 * 1024
    max_total_video_bytes: int = 50 * 1024 * 1024  # strictly less than
    max_audio_bytes: int = 15 * 1024 * 1024
    video_pixels: tuple[int, int] = (409_600, 927_408)
    combined_video_seconds: tuple[float, float] = (2.0, 15.0)
    max_combined_audio_seconds: float = 15.0
    # Soft limits (warnings).
    image_aspect: tuple[float, float] = (0.4, 2.5)
    image_side_px: tuple[int, int] = (300, 6000)
    each_clip_seconds: tuple[float, float] = (2.0, 15.0)


LIMITS = Limits()


@dataclass(frozen=True)
class Endpoint:
    mode: Mode
    tier: Tier
    model_id: str
    fields: tuple[FieldSpec, ...]

    @property
    def label(self) -> str:
        return f"{self.mode.label} ({self.tier.value})"

    @property
    def price_per_1k_tokens(self) -> float:
        return PRICE_PER_1K_TOKENS[self.tier]

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


def _model_id(mode: Mode, tier: Tier) -> str:
    middle = "fast/" if tier is Tier.FAST else ""
    return f"bytedance/seedance-2.0/{middle}{mode.value}"


ENDPOINTS: dict[str, Endpoint] = {
    _model_id(mode, tier): Endpoint(
        mode, tier, _model_id(mode, tier), _COMMON_FIELDS + _MODE_FIELDS[mode]
    )
    for mode in Mode
    for tier in Tier
}


def endpoint_for(mode: Mode | str, fast: bool = False) -> Endpoint:
    return ENDPOINTS[_model_id(Mode(mode), Tier.FAST if fast else Tier.STANDARD)]


def output_size(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    """Output pixels for a concrete aspect ratio (not "auto")."""
    return OUTPUT_SIZES[resolution][aspect_ratio]


def closest_aspect_ratio(width: int, height: int) -> str:
    """The listed aspect ratio nearest to a picture's shape (what "auto" follows)."""
    shape = width / height
    ratios = [r for r in ASPECT_RATIOS if r != "auto"]

    def distance(ratio: str) -> float:
        w, h = (int(x) for x in ratio.split(":"))
        return abs(w / h - shape) / (w / h)

    return min(ratios, key=distance)
