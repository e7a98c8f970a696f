"""A composed shot and the exact fal input built from it.

A `Shot` is what the person composed: a mode, a tier, the settings they chose and their references
(local paths or URLs) in slot order. `build_input` turns it into the JSON fal expects: duration as a
string, unset optional fields left out, references in slot order, each replaced by its uploaded URL
when one is known.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

from seedance_desktop.domain.endpoints import ENDPOINTS, Endpoint, Mode, Tier, endpoint_for
from seedance_desktop.domain.fit import FitRecord
from seedance_desktop.domain.media_info import MediaKind

REFERENCE_FIELDS: dict[str, MediaKind] = {
    "image_url": MediaKind.IMAGE,
    "end_image_url": MediaKind.IMAGE,
    "image_urls": MediaKind.IMAGE,
    "video_urls": MediaKind.VIDEO,
    "audio_urls": MediaKind.AUDIO,
}


@dataclass(frozen=True)
class Shot:
    mode: Mode
    fast: bool = False
    prompt: str = ""
    resolution: str | None = None
    duration: str | int | None = None
    aspect_ratio: str | None = None
    generate_audio: bool | None = None
    seed: int | None = None
    end_user_id: str | None = None
    start_image: str | None = None
    end_image: str | None = None
    images: tuple[str, ...] = field(default_factory=tuple)
    videos: tuple[str, ...] = field(default_factory=tuple)
    audios: tuple[str, ...] = field(default_factory=tuple)
    # References fitted to fal's limits: each names its original, range and transform.
    fits: tuple[FitRecord, ...] = field(default_factory=tuple)

    @property
    def endpoint(self) -> Endpoint:
        return endpoint_for(self.mode, self.fast)

    def with_seed(self, seed: int | None) -> Shot:
        return replace(self, seed=seed)

    def fit_of(self, reference: str) -> FitRecord | None:
        """How `reference` was made, when it is a fitted file."""
        return next((f for f in self.fits if f.fitted == reference), None)

    def with_fit(self, record: FitRecord, *, replacing: str) -> Shot:
        """The shot with `replacing` swapped for the fitted file in every slot, and its record
        kept (a reference fitted again replaces its old record)."""
        swapped = replace_references(self, {replacing: record.fitted})
        kept = tuple(f for f in swapped.fits if f.fitted not in (replacing, record.fitted))
        return replace(swapped, fits=(*kept, record))

    def references(self) -> Iterator[tuple[str, str]]:
        """(field, reference) pairs this mode sends, in slot order; field as in validation."""
        if self.mode is Mode.IMAGE_TO_VIDEO:
            if self.start_image:
                yield "image_url", self.start_image
            if self.end_image:
                yield "end_image_url", self.end_image
        elif self.mode is Mode.REFERENCE_TO_VIDEO:
            for name, refs in (
                ("image_urls", self.images),
                ("video_urls", self.videos),
                ("audio_urls", self.audios),
            ):
                for index, ref in enumerate(refs):
                    yield f"{name}[{index}]", ref


def build_input(shot: Shot, uploaded: Mapping[str, str] | None = None) -> dict[str, object]:
    """The exact JSON for fal. `uploaded` maps a local reference to its uploaded URL."""
    urls = uploaded or {}

    def url(ref: str) -> str:
        return urls.get(ref, ref)

    payload: dict[str, object] = {"prompt": shot.prompt}
    duration = str(shot.duration) if isinstance(shot.duration, int) else shot.duration
    optional = {
        "resolution": shot.resolution,
        "duration": duration,
        "aspect_ratio": shot.aspect_ratio,
        "generate_audio": shot.generate_audio,
        "seed": shot.seed,
        "end_user_id": shot.end_user_id or None,
    }
    payload.update({k: v for k, v in optional.items() if v is not None})
    if shot.mode is Mode.IMAGE_TO_VIDEO:
        if shot.start_image:
            payload["image_url"] = url(shot.start_image)
        if shot.end_image:
            payload["end_image_url"] = url(shot.end_image)
    elif shot.mode is Mode.REFERENCE_TO_VIDEO:
        for name, refs in (
            ("image_urls", shot.images),
            ("video_urls", shot.videos),
            ("audio_urls", shot.audios),
        ):
            if refs:
                payload[name] = [url(r) for r in refs]
    return payload


def shot_from_input(model_id: str, payload: Mapping[str, object]) -> Shot:
    """The inverse of `build_input`, for batch files and "reuse these settings".

    Raises KeyError for an unknown model id; values of the wrong type are kept as they are, so
    validation can explain them.
    """
    endpoint = ENDPOINTS[model_id]
    data: dict[str, object] = {
        "mode": endpoint.mode.value,
        "fast": endpoint.tier is Tier.FAST,
        "prompt": payload.get("prompt", ""),
    }
    for name in ("resolution", "duration", "aspect_ratio", "generate_audio", "seed", "end_user_id"):
        if name in payload:
            data[name] = payload[name]
    renamed = {
        "image_url": "start_image",
        "end_image_url": "end_image",
        "image_urls": "images",
        "video_urls": "videos",
        "audio_urls": "audios",
    }
    data.update({ours: payload[theirs] for theirs, ours in renamed.items() if theirs in payload})
    return shot_from_json(data)


def shot_to_json(shot: Shot) -> dict[str, object]:
    """A plain-JSON form of a shot, for drafts, the job table and export sidecars."""
    data: dict[str, object] = {"mode": shot.mode.value, "fast": shot.fast, "prompt": shot.prompt}
    for name in ("resolution", "duration", "aspect_ratio", "generate_audio", "seed"):
        value = getattr(shot, name)
        if value is not None:
            data[name] = value
    for name in ("end_user_id", "start_image", "end_image"):
        if getattr(shot, name):
            data[name] = getattr(shot, name)
    for name in ("images", "videos", "audios"):
        if getattr(shot, name):
            data[name] = list(getattr(shot, name))
    if shot.fits:
        data["fits"] = [record.to_json() for record in shot.fits]
    return data


def shot_from_json(data: Mapping[str, object]) -> Shot:
    """The inverse of `shot_to_json`. Raises ValueError on a missing or unknown mode."""
    try:
        mode = Mode(str(data["mode"]))
    except (KeyError, ValueError) as exc:
        raise ValueError("not a saved shot: the mode is missing or unknown") from exc

    def refs(name: str) -> tuple[str, ...]:
        value = data.get(name)
        return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()

    def optional_text(name: str) -> str | None:
        value = data.get(name)
        return value if isinstance(value, str) else None

    return Shot(
        mode=mode,
        fast=bool(data.get("fast", False)),
        prompt=str(data.get("prompt", "")),
        resolution=optional_text("resolution"),
        duration=_duration(data.get("duration")),
        aspect_ratio=optional_text("aspect_ratio"),
        generate_audio=_flag(data.get("generate_audio")),
        seed=_whole(data.get("seed")),
        end_user_id=optional_text("end_user_id"),
        start_image=optional_text("start_image"),
        end_image=optional_text("end_image"),
        images=refs("images"),
        videos=refs("videos"),
        audios=refs("audios"),
        fits=_fits(data.get("fits")),
    )


def _fits(value: object) -> tuple[FitRecord, ...]:
    if not isinstance(value, list):
        return ()
    records = (FitRecord.from_json(item) for item in value if isinstance(item, Mapping))
    return tuple(record for record in records if record is not None)


def replace_references(shot: Shot, mapping: Mapping[str, str]) -> Shot:
    """The same shot with references swapped (e.g. originals for their copies in the store)."""

    def swap(ref: str | None) -> str | None:
        return mapping.get(ref, ref) if ref else ref

    return replace(
        shot,
        start_image=swap(shot.start_image),
        end_image=swap(shot.end_image),
        images=tuple(mapping.get(r, r) for r in shot.images),
        videos=tuple(mapping.get(r, r) for r in shot.videos),
        audios=tuple(mapping.get(r, r) for r in shot.audios),
        fits=tuple(f.with_fitted(mapping.get(f.fitted, f.fitted)) for f in shot.fits),
    )


def _duration(value: object) -> str | int | None:
    return value if isinstance(value, str | int) and not isinstance(value, bool) else None


def _flag(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _whole(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
