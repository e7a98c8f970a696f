"""A timeline for editors (DaVinci Resolve, Premiere, Final Cut) through OpenTimelineIO.

The shots' files are copied beside the timeline ("<name> media/01 ….mp4") and each clip points at
its copy with the shot's in/out as its source range, so the editor gets the full takes with handles
and the cut as made here. The format follows the extension: `.otio`, `.xml` (FCP 7 XML, which
Resolve and Premiere import) or `.edl` (CMX 3600). Everything is written under temporary names and
moved into place at the end: a failure leaves nothing half-written.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import opentimelineio as otio

from seedance_desktop.media.names import safe_file_stem
from seedance_desktop.media.sequence_export import SequenceExportError, write_failure_message

ADAPTERS = {".otio": "otio_json", ".xml": "fcp_xml", ".edl": "cmx_3600"}


@dataclass(frozen=True)
class TimelineClip:
    path: Path
    in_s: float
    out_s: float
    name: str  # a short name for the clip (the editor shows it)
    label: str  # "Shot 2 (…)", for messages


def media_folder(target: Path) -> Path:
    return target.with_name(f"{target.stem} media")


def write_timeline(
    title: str, clips: Sequence[TimelineClip], target: Path, *, fps: int = 24
) -> list[Path]:
    """Write the timeline and copy its media; returns the media files written."""
    adapter = ADAPTERS.get(target.suffix.lower())
    if adapter is None:
        raise SequenceExportError(
            f"A timeline can be written as .otio, .xml (FCP XML) or .edl, not “{target.suffix}”."
        )
    if not clips:
        raise SequenceExportError("The sequence has no shots yet: add results to it first.")
    for clip in clips:
        if not clip.path.exists():
            raise SequenceExportError(
                f"{clip.label}: its video file is gone ({clip.path}). Remove the shot or switch "
                "it to another take, then export again."
            )
    if not target.parent.is_dir():
        raise SequenceExportError(f"The folder {target.parent} does not exist.")
    folder = media_folder(target)
    made_folder = not folder.exists()
    written: list[Path] = []
    temp: Path | None = None
    try:
        folder.mkdir(exist_ok=True)
        names = []
        for number, clip in enumerate(clips, start=1):
            stem = safe_file_stem(
                f"{number:02d} {clip.name}", max_bytes=120, fallback=f"{number:02d}"
            )
            copy = folder / f"{stem}{clip.path.suffix or '.mp4'}"
            _copy(clip.path, copy)
            written.append(copy)
            names.append(copy)
        timeline = _timeline(title, clips, names, fps)
        handle, temp_name = tempfile.mkstemp(
            dir=target.parent, prefix=".timeline-", suffix=target.suffix
        )
        os.close(handle)
        temp = Path(temp_name)
        otio.adapters.write_to_file(timeline, str(temp), adapter_name=adapter)
        temp.replace(target)
    except BaseException as exc:
        if temp is not None:
            temp.unlink(missing_ok=True)
        for path in written:
            path.unlink(missing_ok=True)
        if made_folder:
            with contextlib.suppress(OSError):
                folder.rmdir()
        if isinstance(exc, OSError):
            raise SequenceExportError(write_failure_message(target, exc)) from exc
        if isinstance(exc, otio.exceptions.OTIOError):
            raise SequenceExportError(f"The timeline could not be written: {exc}") from exc
        raise
    return written


def _timeline(
    title: str, clips: Sequence[TimelineClip], media: Sequence[Path], fps: int
) -> otio.schema.Timeline:
    timeline = otio.schema.Timeline(name=title)
    video = otio.schema.Track(name="Video 1", kind=otio.schema.TrackKind.Video)
    audio = otio.schema.Track(name="Audio 1", kind=otio.schema.TrackKind.Audio)
    for clip, path in zip(clips, media, strict=True):
        rate, length_s = _rate_and_length(path, fps)
        first = round(clip.in_s * rate)
        frames = max(1, round(clip.out_s * rate) - first)
        available = otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, rate),
            otio.opentime.RationalTime(max(round(length_s * rate), first + frames), rate),
        )
        source = otio.opentime.TimeRange(
            otio.opentime.RationalTime(first, rate), otio.opentime.RationalTime(frames, rate)
        )
        for track in (video, audio):
            reference = otio.schema.ExternalReference(
                target_url=path.resolve().as_uri(), available_range=available
            )
            track.append(
                otio.schema.Clip(name=path.stem, media_reference=reference, source_range=source)
            )
    timeline.tracks.append(video)
    timeline.tracks.append(audio)
    return timeline


def _rate_and_length(path: Path, fps: int) -> tuple[float, float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or fps)
        if stream.duration is not None and stream.time_base is not None:
            length = float(stream.duration * stream.time_base)
        else:
            length = float(container.duration or 0) / 1_000_000
    return round(rate, 3), length


def _copy(source: Path, target: Path) -> None:
    handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".copy-")
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out, 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        temp.chmod(0o644)
        temp.replace(target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
