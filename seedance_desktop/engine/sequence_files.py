"""What a sequence makes on disk: the film, the editor's timeline, and the reference a
Continue or Extend starts from. Blocking: for a worker thread."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path

from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.domain.shot import Shot
from seedance_desktop.engine.library import continue_shot
from seedance_desktop.engine.references import sha256_of
from seedance_desktop.engine.sequences import FollowUpKind, Sequence, SequenceError, SequenceShot
from seedance_desktop.media.frames import last_frame, poster_frame
from seedance_desktop.media.names import safe_file_stem
from seedance_desktop.media.sequence_export import (
    ExportClip,
    ExportOptions,
    ExportReport,
    Fit,
    SequenceExportError,
    export_mp4,
)
from seedance_desktop.media.sequence_timeline import TimelineClip, write_timeline

__all__ = [
    "ExportOptions",
    "ExportReport",
    "Fit",
    "SequenceExportError",
    "export_sequence",
    "export_sequence_timeline",
    "follow_up_shot",
]

EXTEND_PROMPT = "[Video1] continues: "
# Playing a sequence plays one file made from it: shots follow each other with no gap (switching
# files in a media player always shows one), and the player's time is the sequence's timecode.
PREVIEW_OPTIONS = ExportOptions(crf=30)


def preview_key(sequence: Sequence) -> str:
    """Changes whenever what the preview shows would: takes, files, trims, order."""
    parts = [f"{s.job_id}:{s.path}:{s.in_s}:{s.end_s}:{s.missing}" for s in sequence.shots]
    return f"{sequence.id}-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _path_of(shot: SequenceShot) -> Path:
    """The take's file; the shot's path even when it is gone (the export names it)."""
    if shot.entry is None:
        raise SequenceExportError(
            f"{shot.label}: its result was deleted from the library. Remove the shot or switch "
            "it to another take, then export again."
        )
    return shot.entry.path


def export_sequence(
    sequence: Sequence,
    target: Path,
    options: ExportOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> ExportReport:
    clips = [ExportClip(_path_of(s), s.in_s, s.end_s, s.label) for s in sequence.shots]
    if not clips:
        raise SequenceExportError(
            f"The sequence “{sequence.name}” has no shots yet: add results to it first."
        )
    return export_mp4(clips, target, options, progress=progress, cancel=cancel)


def export_sequence_timeline(sequence: Sequence, target: Path) -> list[Path]:
    clips = [
        TimelineClip(
            _path_of(s),
            s.in_s,
            s.end_s,
            safe_file_stem(
                " ".join((s.entry.prompt if s.entry else "").split()[:6]) or "shot", max_bytes=80
            ),
            s.label,
        )
        for s in sequence.shots
    ]
    if not clips:
        raise SequenceExportError(
            f"The sequence “{sequence.name}” has no shots yet: add results to it first."
        )
    return write_timeline(sequence.name, clips, target)


def follow_up_shot(shot: SequenceShot, kind: FollowUpKind, frames: Path) -> tuple[Shot, str]:
    """The shot to compose after `shot`, and the content hash of the reference it starts from."""
    entry = shot.entry
    if entry is None or shot.missing:
        raise SequenceError(f"{shot.label} has no video file any more to continue from.")
    if kind is FollowUpKind.CONTINUE:
        frames.mkdir(parents=True, exist_ok=True)
        if shot.out_s is None:
            frame = last_frame(entry.path, frames / f"{entry.uid}.png")
        else:  # trimmed: continue from the last frame kept
            at = max(shot.in_s, shot.end_s - 1 / 24)
            frame = poster_frame(
                entry.path, frames / f"{entry.uid}-{round(at * 1000)}.png", max_side=8192, at_s=at
            )
        return continue_shot(frame, entry), sha256_of(frame)
    base = entry.shot
    extend = Shot(
        mode=Mode.REFERENCE_TO_VIDEO,
        fast=base.fast,
        prompt=EXTEND_PROMPT,
        resolution=base.resolution,
        duration=base.duration,
        aspect_ratio=base.aspect_ratio,
        generate_audio=base.generate_audio,
        end_user_id=base.end_user_id,
        videos=(str(entry.path),),
    )
    return extend, sha256_of(entry.path)
