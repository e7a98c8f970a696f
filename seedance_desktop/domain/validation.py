"""Validation of a Seedance input payload: every problem at once, tied to its field or slot.

The payload is the exact JSON fal gets. `media` maps a reference (as written in the payload: a URL,
or a local path before upload) to what a probe found; references without an entry are not checked
beyond their type. Only ERROR problems stop a job (and make the simulator answer 422, as fal would);
WARNING problems are shown but do not block. This never raises, whatever the payload holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from seedance_desktop.domain.endpoints import LIMITS, Endpoint, FieldSpec, Mode
from seedance_desktop.domain.media_info import MediaInfo, MediaKind, ProbeFailure, ProbeResult
from seedance_desktop.domain.tokens import Token, token_text, unmatched_tokens


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    field: str  # "prompt", "image_url", "image_urls[2]", "audio_urls", "references"
    severity: Severity
    message: str

    @property
    def loc(self) -> list[str | int]:
        """fal/pydantic style location: `["body", "image_urls", 2]`."""
        name, _, rest = self.field.partition("[")
        return ["body", name, int(rest.rstrip("]"))] if rest else ["body", name]

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "severity": self.severity.value, "message": self.message}


SLOT_LABELS = {"image_urls": "Reference image", "video_urls": "Reference video"}
SLOT_LABELS["audio_urls"] = "Reference audio"
_LIST_KINDS = {
    "image_urls": MediaKind.IMAGE,
    "video_urls": MediaKind.VIDEO,
    "audio_urls": MediaKind.AUDIO,
}
_LIST_MAX = {
    "image_urls": LIMITS.max_images,
    "video_urls": LIMITS.max_videos,
    "audio_urls": LIMITS.max_audios,
}
_MB = 1024 * 1024


def validate_input(
    endpoint: Endpoint,
    payload: Mapping[str, object],
    media: Mapping[str, ProbeResult] | None = None,
) -> list[Problem]:
    if not isinstance(payload, Mapping):
        return [Problem("body", Severity.ERROR, "The request is not a set of named fields.")]
    checker = _Checker(endpoint, payload, media or {})
    return list(checker.run())


def errors_of(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.is_error]


class _Checker:
    def __init__(
        self, endpoint: Endpoint, payload: Mapping[str, object], media: Mapping[str, ProbeResult]
    ) -> None:
        self.endpoint = endpoint
        self.payload = payload
        self.media = media

    def run(self) -> Iterator[Problem]:
        yield from self._unknown_fields()
        for spec in self.endpoint.fields:
            yield from self._field(spec)
        if self.endpoint.mode is Mode.IMAGE_TO_VIDEO:
            yield from self._start_end_frames()
        if self.endpoint.mode is Mode.REFERENCE_TO_VIDEO:
            yield from self._references()
        yield from self._prompt_tokens()

    # Plain fields --------------------------------------------------------------------------

    def _unknown_fields(self) -> Iterator[Problem]:
        known = self.endpoint.field_names
        for name in self.payload:
            if name not in known:
                yield Problem(
                    str(name),
                    Severity.WARNING,
                    f"{self.endpoint.mode.label} has no setting called “{name}”; "
                    "it will be ignored.",
                )

    def _field(self, spec: FieldSpec) -> Iterator[Problem]:
        label = spec.label or spec.name
        if spec.name not in self.payload:
            if spec.required:
                yield Problem(spec.name, Severity.ERROR, f"{label} is required.")
            return
        value = self.payload[spec.name]
        if spec.is_list:
            if not isinstance(value, list):
                yield Problem(spec.name, Severity.ERROR, f"{label}s must be a list of files.")
            return
        if spec.type is bool:
            if not isinstance(value, bool):
                yield Problem(spec.name, Severity.ERROR, f"{label} must be on or off (true/false).")
            return
        if spec.type is int:
            yield from self._integer(spec, value)
            return
        if not isinstance(value, str):
            hint = " written as text, like “5”" if spec.name == "duration" else " text"
            yield Problem(spec.name, Severity.ERROR, f"{label} must be{hint}, not {_shown(value)}.")
            return
        if spec.name == "prompt" and not value.strip():
            yield Problem("prompt", Severity.ERROR, "Describe the shot: the prompt is empty.")
        if spec.choices and value not in spec.choices:
            yield Problem(
                spec.name,
                Severity.ERROR,
                f"{label} “{_clip(value)}” is not available; choose one of: "
                f"{', '.join(spec.choices)}.",
            )
        if spec.name in ("image_url", "end_image_url"):
            yield from self._reference(spec.name, value, MediaKind.IMAGE, label)

    def _integer(self, spec: FieldSpec, value: object) -> Iterator[Problem]:
        label = spec.label or spec.name
        if isinstance(value, bool) or not isinstance(value, int):
            yield Problem(spec.name, Severity.ERROR, f"{label} must be a whole number.")
        elif not 0 <= value <= 2**32 - 1:
            yield Problem(spec.name, Severity.ERROR, f"{label} must be between 0 and 4294967295.")

    # References ----------------------------------------------------------------------------

    def _reference(self, field: str, ref: object, kind: MediaKind, label: str) -> Iterator[Problem]:
        if not isinstance(ref, str) or not ref.strip():
            yield Problem(field, Severity.ERROR, f"{label} must be a file or a link.")
            return
        found = self.media.get(ref)
        if isinstance(found, ProbeFailure):
            yield Problem(field, Severity.ERROR, f"{label}: {found.message}")
        elif isinstance(found, MediaInfo):
            yield from _media_rules(field, label, kind, found, self._formats_for(field))

    def _formats_for(self, field: str) -> tuple[str, ...]:
        if field in ("image_url", "end_image_url"):
            return LIMITS.start_image_formats
        return {
            "image_urls": LIMITS.reference_image_formats,
            "video_urls": LIMITS.video_formats,
            "audio_urls": LIMITS.audio_formats,
        }[field.partition("[")[0]]

    def _info(self, ref: object) -> MediaInfo | None:
        found = self.media.get(ref) if isinstance(ref, str) else None
        return found if isinstance(found, MediaInfo) else None

    def _start_end_frames(self) -> Iterator[Problem]:
        start = self._info(self.payload.get("image_url"))
        end = self._info(self.payload.get("end_image_url"))
        end_ref = self.payload.get("end_image_url")
        if end_ref is not None and end_ref == self.payload.get("image_url"):
            yield Problem(
                "end_image_url",
                Severity.WARNING,
                "The end frame is the same picture as the start frame: the shot may barely move.",
            )
        if start and end and start.width and start.height and end.width and end.height:
            start_shape = start.width / start.height
            end_shape = end.width / end.height
            if abs(start_shape - end_shape) / start_shape > 0.05:
                yield Problem(
                    "end_image_url",
                    Severity.WARNING,
                    "The end frame has a different shape from the start frame; it will be "
                    "cropped or stretched to match.",
                )

    def _lists(self) -> dict[str, list[object]]:
        return {
            name: value
            for name in _LIST_KINDS
            if isinstance(value := self.payload.get(name, []), list)
        }

    def _references(self) -> Iterator[Problem]:
        lists = self._lists()
        for name, items in lists.items():
            label = SLOT_LABELS[name]
            if len(items) > _LIST_MAX[name]:
                yield Problem(
                    name,
                    Severity.ERROR,
                    f"Up to {_LIST_MAX[name]} {label.lower()}s are allowed; "
                    f"there are {len(items)}. Remove {len(items) - _LIST_MAX[name]}.",
                )
            for index, ref in enumerate(items):
                yield from self._reference(
                    f"{name}[{index}]", ref, _LIST_KINDS[name], f"{label} {index + 1}"
                )
        total = sum(len(items) for items in lists.values())
        if total > LIMITS.max_files:
            yield Problem(
                "references",
                Severity.ERROR,
                f"Up to {LIMITS.max_files} files can be used in all; there are {total}. "
                f"Remove {total - LIMITS.max_files}.",
            )
        has_visual = bool(lists.get("image_urls")) or bool(lists.get("video_urls"))
        if lists.get("audio_urls") and not has_visual:
            yield Problem(
                "audio_urls",
                Severity.ERROR,
                "Reference audio needs at least one reference image or video to go with it.",
            )
        yield from self._video_totals(lists.get("video_urls", []))
        yield from self._audio_totals(lists.get("audio_urls", []))

    def _video_totals(self, refs: list[object]) -> Iterator[Problem]:
        infos = [info for ref in refs if (info := self._info(ref))]
        if not infos:
            return
        total_bytes = sum(i.size_bytes for i in infos)
        if total_bytes >= LIMITS.max_total_video_bytes:
            yield Problem(
                "video_urls",
                Severity.ERROR,
                f"Reference videos add up to {total_bytes / _MB:.1f} MB; together they must "
                f"stay under {LIMITS.max_total_video_bytes // _MB} MB.",
            )
        if len(infos) == len(refs):  # only judge the total once every duration is known
            seconds = sum(i.duration_s or 0.0 for i in infos)
            low, high = LIMITS.combined_video_seconds
            if not low <= seconds <= high:
                yield Problem(
                    "video_urls",
                    Severity.ERROR,
                    f"Reference videos last {seconds:.1f} s together; they must add up to "
                    f"between {low:g} and {high:g} s.",
                )

    def _audio_totals(self, refs: list[object]) -> Iterator[Problem]:
        infos = [info for ref in refs if (info := self._info(ref))]
        seconds = sum(i.duration_s or 0.0 for i in infos)
        if seconds > LIMITS.max_combined_audio_seconds:
            yield Problem(
                "audio_urls",
                Severity.ERROR,
                f"Reference audio lasts {seconds:.1f} s together; the limit is "
                f"{LIMITS.max_combined_audio_seconds:g} s.",
            )

    # Prompt tokens -------------------------------------------------------------------------

    def _prompt_tokens(self) -> Iterator[Problem]:
        prompt = self.payload.get("prompt")
        if not isinstance(prompt, str):
            return
        lists = self._lists() if self.endpoint.mode is Mode.REFERENCE_TO_VIDEO else {}
        filled = {kind: len(lists.get(name, [])) for name, kind in _LIST_KINDS.items()}
        seen: set[str] = set()
        for token in unmatched_tokens(prompt, filled):
            if token.canonical in seen:
                continue
            seen.add(token.canonical)
            yield Problem("prompt", Severity.WARNING, _token_message(token, filled, self.endpoint))


def _token_message(token: Token, filled: Mapping[MediaKind, int], endpoint: Endpoint) -> str:
    kind, number = token.kind, token.number
    name = token_text(kind, number)
    if endpoint.mode is not Mode.REFERENCE_TO_VIDEO:
        return f"{name} refers to a reference, but {endpoint.mode.label} takes no references."
    if number is None:
        return f"{name} refers to a {kind.value} that was removed; pick another or delete it."
    count = filled.get(kind, 0)
    have = f"only {count}" if count else "none"
    verb = "is" if count == 1 else "are"
    return f"{name} refers to {kind.value} {number}, but there {verb} {have}."


_MediaRule = Callable[[str, str, MediaInfo], Iterator[Problem]]


def _media_rules(
    field: str, label: str, kind: MediaKind, info: MediaInfo, formats: tuple[str, ...]
) -> Iterator[Problem]:
    if info.kind is not kind:
        yield Problem(
            field,
            Severity.ERROR,
            f"{label} must be {_article(kind.value)} {kind.value}, but this file is "
            f"{_article(info.kind.value)} {info.kind.value} ({info.format}).",
        )
        return
    if info.format not in formats:
        yield Problem(
            field,
            Severity.ERROR,
            f"{label} is {_article(info.format)} {info.format.upper()} file; "
            f"use {', '.join(f.upper() for f in formats)}.",
        )
    rules: dict[MediaKind, _MediaRule] = {
        MediaKind.IMAGE: _image_rules,
        MediaKind.VIDEO: _video_rules,
        MediaKind.AUDIO: _audio_rules,
    }
    yield from rules[kind](field, label, info)


def _image_rules(field: str, label: str, info: MediaInfo) -> Iterator[Problem]:
    if info.size_bytes > LIMITS.max_image_bytes:
        yield Problem(
            field,
            Severity.ERROR,
            f"{label} is {info.size_bytes / _MB:.1f} MB; images can be up to "
            f"{LIMITS.max_image_bytes // _MB} MB.",
        )
    if not info.width or not info.height:
        return
    low, high = LIMITS.image_side_px
    if min(info.width, info.height) < low or max(info.width, info.height) > high:
        yield Problem(
            field,
            Severity.WARNING,
            f"{label} is {info.width}×{info.height}; the model works best with sides between "
            f"{low} and {high} pixels.",
        )
    shape = info.width / info.height
    low_ratio, high_ratio = LIMITS.image_aspect
    if not low_ratio <= shape <= high_ratio:
        yield Problem(
            field,
            Severity.WARNING,
            f"{label} is very {'tall' if shape < low_ratio else 'wide'} "
            f"({info.width}×{info.height}); the model expects width/height between "
            f"{low_ratio:g} and {high_ratio:g}.",
        )


def _video_rules(field: str, label: str, info: MediaInfo) -> Iterator[Problem]:
    pixels = info.pixels
    low, high = LIMITS.video_pixels
    if pixels is not None and not low <= pixels <= high:
        yield Problem(
            field,
            Severity.ERROR,
            f"{label} is {info.width}×{info.height} ({pixels:,} pixels); reference videos must "
            f"have between {low:,} and {high:,} pixels (about 640×640 to 834×1112).",
        )
    yield from _clip_length(field, label, info)


def _audio_rules(field: str, label: str, info: MediaInfo) -> Iterator[Problem]:
    if info.size_bytes > LIMITS.max_audio_bytes:
        yield Problem(
            field,
            Severity.ERROR,
            f"{label} is {info.size_bytes / _MB:.1f} MB; audio files can be up to "
            f"{LIMITS.max_audio_bytes // _MB} MB.",
        )
    yield from _clip_length(field, label, info)


def _clip_length(field: str, label: str, info: MediaInfo) -> Iterator[Problem]:
    low, high = LIMITS.each_clip_seconds
    if info.duration_s is not None and not low <= info.duration_s <= high:
        yield Problem(
            field,
            Severity.WARNING,
            f"{label} lasts {info.duration_s:.1f} s; the model works best with clips of "
            f"{low:g} to {high:g} s.",
        )


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "on/off"
    if isinstance(value, int | float):
        return f"the number {value}"
    return f"a {type(value).__name__}"
