"""Cost estimates, from the price rule in the endpoint table. Every figure is an estimate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from seedance_desktop.domain.endpoints import (
    ASPECT_RATIOS,
    AUTO_DURATION_RANGE_S,
    DURATIONS,
    LIMITS,
    OUTPUT_FPS,
    OUTPUT_SIZES,
    REFERENCE_VIDEO_PRICE_FACTOR,
    Endpoint,
    Mode,
)
from seedance_desktop.domain.media_info import MediaInfo, ProbeResult


@dataclass(frozen=True)
class Estimate:
    min_usd: float
    max_usd: float

    @property
    def is_range(self) -> bool:
        return round(self.min_usd, 2) != round(self.max_usd, 2)

    def to_json(self) -> dict[str, float]:
        return {"min": round(self.min_usd, 4), "max": round(self.max_usd, 4)}

    def __str__(self) -> str:
        if self.is_range:
            return f"${self.min_usd:.2f}–${self.max_usd:.2f}"
        return f"${self.max_usd:.2f}"

    def __add__(self, other: Estimate) -> Estimate:
        return Estimate(self.min_usd + other.min_usd, self.max_usd + other.max_usd)


ZERO = Estimate(0.0, 0.0)


def cost_usd(endpoint: Endpoint, pixels: int, seconds: float) -> float:
    """fal's rule: tokens = width × height × seconds × 24 / 1024, priced per 1,000 tokens."""
    tokens = pixels * seconds * OUTPUT_FPS / 1024
    return tokens / 1000 * endpoint.price_per_1k_tokens


def estimate(
    endpoint: Endpoint,
    payload: Mapping[str, object],
    media: Mapping[str, ProbeResult] | None = None,
) -> Estimate:
    """The price range of one request; unknown or invalid values widen the range, never raise."""
    resolution = payload.get("resolution", "720p")
    if not isinstance(resolution, str) or resolution not in OUTPUT_SIZES:
        resolution = "720p"
    sizes = OUTPUT_SIZES[resolution]
    ratio = payload.get("aspect_ratio", "auto")
    if isinstance(ratio, str) and ratio in sizes:
        pixel_counts = [sizes[ratio][0] * sizes[ratio][1]]
    else:  # "auto" (or unknown): any of the listed shapes
        pixel_counts = [w * h for r, (w, h) in sizes.items() if r in ASPECT_RATIOS]
    low_s, high_s = _output_seconds(payload.get("duration", "auto"))
    low_input_s, high_input_s, factor = _reference_video_terms(endpoint, payload, media or {})
    return Estimate(
        cost_usd(endpoint, min(pixel_counts), low_s + low_input_s) * factor,
        cost_usd(endpoint, max(pixel_counts), high_s + high_input_s) * factor,
    )


def _output_seconds(duration: object) -> tuple[float, float]:
    """A listed duration, else (auto or invalid) the whole range the model may pick."""
    if isinstance(duration, str) and duration in DURATIONS and duration != "auto":
        seconds = float(duration)
        return seconds, seconds
    return float(AUTO_DURATION_RANGE_S[0]), float(AUTO_DURATION_RANGE_S[1])


def _reference_video_terms(
    endpoint: Endpoint, payload: Mapping[str, object], media: Mapping[str, ProbeResult]
) -> tuple[float, float, float]:
    """Input video seconds billed on top of the output (lowest, highest) and the discount when
    videos are used. A video not probed (a URL) may be as long as fal accepts for all the
    videos together, so the highest figure assumes that maximum until its length is known."""
    videos = payload.get("video_urls")
    if endpoint.mode is not Mode.REFERENCE_TO_VIDEO or not isinstance(videos, list) or not videos:
        return 0.0, 0.0, 1.0
    known, unknown = 0.0, False
    for ref in videos:
        info = media.get(ref) if isinstance(ref, str) else None
        if isinstance(info, MediaInfo) and info.duration_s is not None:
            known += info.duration_s
        else:
            unknown = True
    highest = max(known, LIMITS.combined_video_seconds[1]) if unknown else known
    return known, highest, REFERENCE_VIDEO_PRICE_FACTOR


def billed_cost(
    endpoint: Endpoint,
    pixels: int,
    output_s: float,
    *,
    input_video_s: float = 0.0,
    with_videos: bool = False,
) -> float:
    """A finished video's cost from its real size and length (still an estimate of the bill)."""
    factor = REFERENCE_VIDEO_PRICE_FACTOR if with_videos else 1.0
    return cost_usd(endpoint, pixels, output_s + input_video_s) * factor
