"""Fitting on the command line: `--video clip.mp4#t=3,9` ranges and `--fit` for everything.

A reference with a media-fragment range is always fitted to that range (there is no other way to
send part of a file). With `--fit`, every local reference that breaks a limit fitting can mend is
fitted with the defaults, in slot order, each within what the ones before it left of the shot's
combined limits. Fitting is local (no network), so `--dry-run` does it too and its input JSON
names the fitted files.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from seedance_desktop.domain.endpoints import LIMITS, Mode
from seedance_desktop.domain.fit import (
    Budget,
    FitSettings,
    FragmentError,
    TimeRange,
    budget_for,
    needs_fit,
    split_fragment,
)
from seedance_desktop.domain.media_info import MediaInfo, MediaKind
from seedance_desktop.domain.shot import REFERENCE_FIELDS, Shot
from seedance_desktop.domain.validation import Problem, Severity
from seedance_desktop.media.references import is_remote


@dataclass(frozen=True)
class FittedLine:
    """One fitted reference, as `--dry-run` reports it."""

    field: str
    source: str
    fitted: str
    summary: str

    def to_json(self) -> dict[str, str]:
        return {
            "field": self.field,
            "from": self.source,
            "to": self.fitted,
            "summary": self.summary,
        }


def fit_shot(
    shot: Shot, *, fit_all: bool, folder: Path, quiet: bool = False
) -> tuple[Shot, list[FittedLine], list[Problem]]:
    """The shot with its references fitted as asked, what was fitted, and what could not be."""
    from seedance_desktop.media.fit import FitError, fit_file
    from seedance_desktop.media.probe import probe

    lines: list[FittedLine] = []
    problems: list[Problem] = []
    kept: list[MediaInfo] = []
    for field, ref in list(shot.references()):
        if is_remote(ref):
            continue
        try:
            source, wanted = split_fragment(ref)
        except FragmentError as exc:
            problems.append(Problem(field, Severity.ERROR, str(exc)))
            continue
        kind = REFERENCE_FIELDS[field.partition("[")[0]]
        info = probe(source)
        if not isinstance(info, MediaInfo):
            if wanted is not None:  # validation cannot see the file under its fragment name
                problems.append(Problem(field, Severity.ERROR, info.message))
            continue
        formats = _image_formats(shot)
        budget = budget_for(kept)
        if wanted is None and not (fit_all and _needs_fit(info, kind, formats, budget)):
            kept.append(info)  # sent as it is: it counts toward the totals of the next ones
            continue
        settings = FitSettings(time_range=wanted or TimeRange())
        if not quiet:
            print(f"Fitting {Path(source).name}…", file=sys.stderr, flush=True)
        try:
            fitted = fit_file(
                Path(source), folder, settings, budget, kind=kind, image_formats=formats
            )
        except FitError as exc:
            problems.append(Problem(field, Severity.ERROR, exc.message))
            continue
        kept.append(fitted.info)
        record = fitted.record(settings)
        shot = shot.with_fit(record, replacing=ref)
        lines.append(FittedLine(field, ref, str(fitted.path), record.summary))
    return shot, lines, problems


def _image_formats(shot: Shot) -> tuple[str, ...]:
    if shot.mode is Mode.IMAGE_TO_VIDEO:
        return LIMITS.start_image_formats
    return LIMITS.reference_image_formats


def _needs_fit(info: MediaInfo, kind: MediaKind, formats: tuple[str, ...], budget: Budget) -> bool:
    """The file breaks a limit alone, or does not fit in what the references before it left."""
    if info.kind is not kind:
        return kind is MediaKind.AUDIO and info.kind is MediaKind.VIDEO and info.has_audio
    if needs_fit(info, image_formats=formats):
        return True
    seconds = info.duration_s or 0.0
    if kind is MediaKind.VIDEO:
        return seconds > budget.video_seconds or info.size_bytes >= budget.video_bytes
    if kind is MediaKind.AUDIO:
        return seconds > budget.audio_seconds
    return False
