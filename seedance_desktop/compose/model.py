"""The compose model of one mode: the shot being composed, its references per field in slot order,
the probe results handed to it, and what follows from them (problems, the estimate × variations).

Observable without Qt: one `changed` event carries the set of aspects that changed, so a widget
redraws only what concerns it. Every edit goes through a method here; no widget rebuilds a Shot.
Moving or removing a reference renumbers the prompt's `[Image1]`-style tokens (domain/tokens).
Loading a result ("Reuse settings", "Continue from last frame") keeps the replaced shot in a small
undo history, so unsaved work is never silently lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from seedance_desktop.compose.observable import Event
from seedance_desktop.domain.endpoints import LIMITS, Mode
from seedance_desktop.domain.fit import FitRecord
from seedance_desktop.domain.media_info import MediaKind, ProbeResult
from seedance_desktop.domain.plan import Plan, plan_shot
from seedance_desktop.domain.pricing import Estimate
from seedance_desktop.domain.shot import REFERENCE_FIELDS, Shot
from seedance_desktop.domain.tokens import moves_for_order, renumber
from seedance_desktop.domain.validation import Problem
from seedance_desktop.media.references import is_remote

MODE_FIELDS: dict[Mode, tuple[str, ...]] = {
    Mode.TEXT_TO_VIDEO: (),
    Mode.IMAGE_TO_VIDEO: ("image_url", "end_image_url"),
    Mode.REFERENCE_TO_VIDEO: ("image_urls", "video_urls", "audio_urls"),
}
CAPACITY: dict[str, int] = {
    "image_url": 1,
    "end_image_url": 1,
    "image_urls": LIMITS.max_images,
    "video_urls": LIMITS.max_videos,
    "audio_urls": LIMITS.max_audios,
}
# Fields whose slots are named by prompt tokens (`[Image2]` is the second entry of image_urls).
TOKEN_FIELDS = ("image_urls", "video_urls", "audio_urls")
PARAMETER_NAMES = (
    "resolution",
    "duration",
    "aspect_ratio",
    "generate_audio",
    "seed",
    "end_user_id",
)
MAX_VARIATIONS = 8
HISTORY_DEPTH = 20


class Aspect(StrEnum):
    """What a change touched."""

    PROMPT = "prompt"
    TIER = "tier"
    PARAMETERS = "parameters"
    REFERENCES = "references"
    MEDIA = "media"
    VARIATIONS = "variations"
    LOADED = "loaded"  # the whole shot was replaced (a load, an undo of a load, a restore)
    HISTORY = "history"  # the undo history of loads changed


@dataclass(frozen=True)
class Change:
    aspects: frozenset[Aspect]

    def __contains__(self, aspect: object) -> bool:
        return aspect in self.aspects

    @property
    def edits_the_shot(self) -> bool:
        """A change worth saving (probe results are not part of a draft)."""
        return bool(self.aspects - {Aspect.MEDIA})


def blank_shot(mode: Mode) -> Shot:
    """What a fresh tab shows: the defaults the parameter widgets start on."""
    return Shot(mode, resolution="720p", duration="auto", aspect_ratio="auto")


def _get(shot: Shot, field: str) -> tuple[str, ...]:
    if field == "image_url":
        return (shot.start_image,) if shot.start_image else ()
    if field == "end_image_url":
        return (shot.end_image,) if shot.end_image else ()
    return {"image_urls": shot.images, "video_urls": shot.videos, "audio_urls": shot.audios}[field]


def _set(shot: Shot, field: str, refs: tuple[str, ...]) -> Shot:
    if field == "image_url":
        return replace(shot, start_image=refs[0] if refs else None)
    if field == "end_image_url":
        return replace(shot, end_image=refs[0] if refs else None)
    if field == "image_urls":
        return replace(shot, images=refs)
    if field == "video_urls":
        return replace(shot, videos=refs)
    if field == "audio_urls":
        return replace(shot, audios=refs)
    raise KeyError(field)


class ComposeModel:
    """The shot of one mode's tab, and everything derived from it."""

    def __init__(self, mode: Mode, shot: Shot | None = None, *, variations: int = 1) -> None:
        self.mode = mode
        self.changed: Event[Change] = Event()
        self._shot = self._checked(shot) if shot is not None else blank_shot(mode)
        self._variations = self._clamped(variations)
        self._media: dict[str, ProbeResult] = {}
        self._plan: Plan | None = None
        self._history: list[Shot] = []

    # Reading -----------------------------------------------------------------------------------

    @property
    def shot(self) -> Shot:
        return self._shot

    @property
    def prompt(self) -> str:
        return self._shot.prompt

    @property
    def fast(self) -> bool:
        return self._shot.fast

    @property
    def variations(self) -> int:
        return self._variations

    @property
    def fields(self) -> tuple[str, ...]:
        """The reference fields this mode has slots for, in the order they are shown."""
        return MODE_FIELDS[self.mode]

    def references(self, field: str) -> tuple[str, ...]:
        return _get(self._shot, field)

    @property
    def media(self) -> Mapping[str, ProbeResult]:
        """Probe results of the references in the shot."""
        refs = {ref for _, ref in self._shot.references()}
        return {ref: info for ref, info in self._media.items() if ref in refs}

    def awaiting_probe(self) -> list[str]:
        """Local references with no probe result yet (links are checked by fal, not probed)."""
        seen: list[str] = []
        for _, ref in self._shot.references():
            if not is_remote(ref) and ref not in self._media and ref not in seen:
                seen.append(ref)
        return seen

    def filled(self) -> dict[MediaKind, int]:
        """How many slots of each token kind are filled, for the prompt's token checks."""
        if self.mode is not Mode.REFERENCE_TO_VIDEO:
            return {}
        return {REFERENCE_FIELDS[f]: len(self.references(f)) for f in TOKEN_FIELDS}

    @property
    def plan(self) -> Plan:
        if self._plan is None:
            self._plan = plan_shot(self._shot, self.media)
        return self._plan

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.plan.problems

    @property
    def estimate(self) -> Estimate:
        """The estimate of one job."""
        return self.plan.estimate

    @property
    def total_estimate(self) -> Estimate:
        """The estimate of everything Queue would queue: one job per variation."""
        one = self.plan.estimate
        return Estimate(one.min_usd * self._variations, one.max_usd * self._variations)

    @property
    def ready(self) -> bool:
        """Queue may be pressed: a prompt, no error, and every local file checked."""
        return bool(self.prompt.strip()) and self.plan.ok and not self.awaiting_probe()

    # Editing -----------------------------------------------------------------------------------

    def set_prompt(self, text: str) -> None:
        if text != self._shot.prompt:
            self._update(replace(self._shot, prompt=text), Aspect.PROMPT)

    def set_fast(self, fast: bool) -> None:
        if fast != self._shot.fast:
            self._update(replace(self._shot, fast=fast), Aspect.TIER)

    def set_parameters(self, **values: object) -> None:
        """Set any of resolution, duration, aspect_ratio, generate_audio, seed, end_user_id."""
        unknown = set(values) - set(PARAMETER_NAMES)
        if unknown:
            raise TypeError(f"not a shot parameter: {', '.join(sorted(unknown))}")
        shot = replace(self._shot, **values)  # type: ignore[arg-type]
        if shot != self._shot:
            self._update(shot, Aspect.PARAMETERS)

    def set_variations(self, count: int) -> None:
        count = self._clamped(count)
        if count != self._variations:
            self._variations = count
            self._emit(Aspect.VARIATIONS)

    def add_references(self, field: str, refs: Iterable[str], at: int | None = None) -> list[str]:
        """Put references into the next free slots of `field` (or before slot `at`).

        Returns those that did not fit. Later slots move along and the prompt's tokens follow.
        """
        current = list(self.references(field))
        free = CAPACITY[field] - len(current)
        wanted = list(refs)
        taken, left = wanted[: max(free, 0)], wanted[max(free, 0) :]
        if not taken:
            return left
        position = len(current) if at is None else max(0, min(at, len(current)))
        old_order = list(range(1, len(current) + 1))
        new_refs = current[:position] + taken + current[position:]
        order = old_order[:position] + [0] * len(taken) + old_order[position:]
        self._reorder(field, tuple(new_refs), order, len(current))
        return left

    def move_reference(self, field: str, index: int, to: int) -> None:
        """Move slot `index` to `to` (0-based); tokens are renumbered to follow their files."""
        refs = list(self.references(field))
        if not (0 <= index < len(refs) and 0 <= to < len(refs)) or index == to:
            return
        order = list(range(1, len(refs) + 1))
        order.insert(to, order.pop(index))
        refs.insert(to, refs.pop(index))
        self._reorder(field, tuple(refs), order, len(order))

    def remove_reference(self, field: str, index: int) -> None:
        """Clear slot `index`: its tokens become `[Image?]` (flagged), later slots move up."""
        refs = list(self.references(field))
        if not 0 <= index < len(refs):
            return
        order = list(range(1, len(refs) + 1))
        del order[index]
        del refs[index]
        self._reorder(field, tuple(refs), order, len(refs) + 1)

    def replace_reference(self, field: str, index: int, ref: str) -> None:
        """Put `ref` in slot `index` instead of what is there (a moved file, located again): the
        slot keeps its place, so the prompt's tokens stay as they are."""
        refs = list(self.references(field))
        if not 0 <= index < len(refs) or refs[index] == ref:
            return
        refs[index] = ref
        self._update(_set(self._shot, field, tuple(refs)), Aspect.REFERENCES)

    def discard_reference(self, ref: str) -> None:
        """Remove a file from every slot that holds it (e.g. a probe found it is the wrong kind)."""
        for field in self.fields:
            while ref in self.references(field):
                self.remove_reference(field, self.references(field).index(ref))

    def clear_references(self, field: str) -> None:
        count = len(self.references(field))
        if count:
            self._reorder(field, (), [], count)

    def apply_fit(self, record: FitRecord, *, replacing: str) -> None:
        """Put a fitted file where `replacing` was, in every slot; the shot keeps the record."""
        shot = self._shot.with_fit(record, replacing=replacing)
        if shot != self._shot:
            self._update(shot, Aspect.REFERENCES)

    def set_media(self, ref: str, info: ProbeResult) -> None:
        """A probe result for a reference (probing is I/O: the widget layer does it)."""
        if self._media.get(ref) != info:
            self._media[ref] = info
            self._plan = None
            self._emit(Aspect.MEDIA)

    def forget_media(self, refs: Iterable[str] | None = None) -> None:
        """Drop probe results (all, or those given) so the files are checked again."""
        for ref in list(self._media) if refs is None else list(refs):
            self._media.pop(ref, None)
        self._plan = None
        self._emit(Aspect.MEDIA)

    # Loading and its undo ----------------------------------------------------------------------

    def load(self, shot: Shot) -> None:
        """Replace the shot (a result's settings); the replaced work goes to the undo history."""
        shot = self._checked(shot)
        if shot == self._shot:
            return
        aspects = {Aspect.LOADED}
        if self._shot != blank_shot(self.mode):
            self._history.append(self._shot)
            del self._history[:-HISTORY_DEPTH]
            aspects.add(Aspect.HISTORY)
        self._update(shot, *aspects)

    @property
    def can_undo_load(self) -> bool:
        return bool(self._history)

    def undo_load(self) -> bool:
        """Bring back the shot the last load replaced. False when there is none."""
        if not self._history:
            return False
        self._update(self._history.pop(), Aspect.LOADED, Aspect.HISTORY)
        return True

    @property
    def history(self) -> tuple[Shot, ...]:
        """Shots replaced by loads, oldest first (kept in the draft, so they survive a restart)."""
        return tuple(self._history)

    def restore(self, shot: Shot, *, variations: int = 1, history: Iterable[Shot] = ()) -> None:
        """Set everything from a saved draft, without touching the undo history's meaning."""
        self._shot = self._checked(shot)
        self._variations = self._clamped(variations)
        self._history = [s for s in history if s.mode is self.mode][-HISTORY_DEPTH:]
        self._plan = None
        self._emit(*Aspect)

    # Internals ---------------------------------------------------------------------------------

    def _checked(self, shot: Shot) -> Shot:
        if shot.mode is not self.mode:
            raise ValueError(f"a {shot.mode.label} shot cannot go into the {self.mode.label} tab")
        return shot

    @staticmethod
    def _clamped(count: int) -> int:
        return max(1, min(MAX_VARIATIONS, int(count)))

    def _reorder(self, field: str, refs: tuple[str, ...], order: list[int], old_count: int) -> None:
        """Set `field` to `refs`; `order` gives, per new slot, its old 1-based position (0: new)."""
        shot = _set(self._shot, field, refs)
        aspects = [Aspect.REFERENCES]
        if field in TOKEN_FIELDS and old_count:
            mapping: dict[int, int | None]
            if 0 in order:  # files inserted before others: each old slot goes where it now is
                mapping = {old: new for new, old in enumerate(order, start=1) if old}
            else:
                mapping = moves_for_order(order, old_count)
            prompt = renumber(shot.prompt, REFERENCE_FIELDS[field], mapping)
            if prompt != shot.prompt:
                shot = replace(shot, prompt=prompt)
                aspects.append(Aspect.PROMPT)
        self._update(shot, *aspects)

    def _update(self, shot: Shot, *aspects: Aspect) -> None:
        self._shot = shot
        self._plan = None
        self._emit(*aspects)

    def _emit(self, *aspects: Aspect) -> None:
        self.changed.emit(Change(frozenset(aspects)))
