"""Fit one reference file to fal's limits: probe, plan, make the file once, never touch the source.

Fitted files are content-addressed in the app's data (paths.fitted): the key is the source's
SHA-256, the plan (which holds the settings and what is left of the shot's budget) and the
method's version, so the same source with the same settings gives the same file, made once. The
file is written under a temporary name beside its final one and renamed into place only when
complete and only if the source did not change meanwhile; a cancel, a failure or a full disk
leaves nothing behind. Blocking (PyAV, Pillow): run it off the UI thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import av

from seedance_desktop.domain.endpoints import LIMITS
from seedance_desktop.domain.fit import (
    FIT_VERSION,
    Budget,
    FitPlan,
    FitRecord,
    FitRefusal,
    FitSettings,
    plan_fit,
)
from seedance_desktop.domain.media_info import MediaInfo, MediaKind, ProbeFailure
from seedance_desktop.media.fit_audio import fit_audio
from seedance_desktop.media.fit_errors import (
    FitCancelled,
    FitError,
    Progress,
    check_cancel,
    is_no_room,
)
from seedance_desktop.media.fit_image import fit_image
from seedance_desktop.media.fit_video import fit_video
from seedance_desktop.media.names import display_name
from seedance_desktop.media.probe import probe

__all__ = ["FitCancelled", "FitError", "Fitted", "fit_file", "fitted_name", "plan_for_file"]

_HASH_CHUNK = 1024 * 1024
_MB = 1024 * 1024


@dataclass(frozen=True)
class Fitted:
    """A fitted file: where it is, what it was made from, and whether this call made it."""

    source: Path
    path: Path
    plan: FitPlan
    source_info: MediaInfo
    info: MediaInfo
    made: bool

    def summary(self) -> str:
        """ "3840×2160, 60.0 s, HEVC MOV → 1280×720, 0–15 s, H.264 MP4"."""
        return f"{describe_info(self.source_info)} → {self.plan.describe()}"

    def record(self, settings: FitSettings) -> FitRecord:
        return FitRecord(str(self.source), str(self.path), settings, self.summary())


def describe_info(info: MediaInfo, separator: str = ", ") -> str:
    """ "1920×1080, 24.0 s, 0.6 MB MP4": what a file is, in a few words."""
    parts = []
    if info.width and info.height:
        parts.append(f"{info.width}×{info.height}")
    if info.duration_s is not None:
        parts.append(f"{info.duration_s:.1f} s")
    parts.append(f"{info.size_bytes / _MB:.1f} MB {info.format.upper()}")
    return separator.join(parts)


def plan_for_file(
    source: Path,
    settings: FitSettings | None = None,
    budget: Budget | None = None,
    *,
    kind: MediaKind | None = None,
    image_formats: tuple[str, ...] = LIMITS.reference_image_formats,
) -> tuple[MediaInfo, FitPlan]:
    """Probe `source` and plan its fit (as `kind`, the slot's, when given).

    Raises FitError with the reason it cannot be fitted."""
    name = display_name(source)
    info = probe(source)
    if isinstance(info, ProbeFailure):
        raise FitError(info.message)
    if kind is not None and kind is not info.kind:
        return info, _plan_for_slot(name, kind, info, settings, budget)
    outcome = plan_fit(name, info, settings, budget, image_formats=image_formats)
    if isinstance(outcome, FitRefusal):
        raise FitError(outcome.message)
    return info, outcome


def fit_file(
    source: Path,
    folder: Path,
    settings: FitSettings | None = None,
    budget: Budget | None = None,
    *,
    kind: MediaKind | None = None,
    image_formats: tuple[str, ...] = LIMITS.reference_image_formats,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> Fitted:
    """Fit `source` into `folder` (the fitted-files store). Raises FitError (FitCancelled).

    `kind` is the slot's: a video's sound track can fill an audio slot.
    """
    source = Path(source)
    name = display_name(source)
    source_info, plan = plan_for_file(
        source, settings, budget, kind=kind, image_formats=image_formats
    )
    before = _stat(source, name)
    digest = _sha256(source, name, cancel)
    key = fitted_key(digest, plan)
    existing = _existing(folder, key)
    if existing is not None:
        info = probe(existing)
        if isinstance(info, MediaInfo):
            return Fitted(source, existing, plan, source_info, info, made=False)
        existing.unlink(missing_ok=True)  # damaged (a disk error): made again below
    path = _make(source, folder, plan, key, name, progress, cancel)
    try:
        if _stat(source, name) != before:
            raise FitError(
                f"{name} changed while it was being fitted; try again once it has finished "
                "copying or saving."
            )
        info = probe(path)
        if isinstance(info, ProbeFailure):
            raise FitError(f"The fitted copy of {name} could not be read back: {info.message}")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Fitted(source, path, plan, source_info, info, made=True)


def _plan_for_slot(
    name: str,
    kind: MediaKind,
    info: MediaInfo,
    settings: FitSettings | None,
    budget: Budget | None,
) -> FitPlan:
    """A file of another kind than its slot: a video's sound track fits an audio slot;
    nothing else can be made into what the slot needs."""
    if kind is MediaKind.AUDIO and info.kind is MediaKind.VIDEO and info.has_audio:
        sound = MediaInfo(MediaKind.AUDIO, "m4a", info.size_bytes, duration_s=info.duration_s)
        outcome = plan_fit(name, sound, settings, budget)
        if isinstance(outcome, FitRefusal):
            raise FitError(outcome.message)
        return outcome
    if kind is MediaKind.VIDEO:
        raise FitError(f"{name} holds no video picture (it is {_a(info.kind.value)}), so it "
                       "cannot be fitted as a reference video.")  # fmt: skip
    if kind is MediaKind.AUDIO:
        raise FitError(f"{name} holds no sound, so it cannot be fitted as reference audio.")
    raise FitError(f"{name} is {_a(info.kind.value)}, not a picture; it cannot be fitted as one.")


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def fitted_key(source_sha256: str, plan: FitPlan) -> str:
    text = json.dumps(
        {"version": FIT_VERSION, "source": source_sha256, "plan": asdict(plan)},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def fitted_name(source: Path, key: str, extension: str) -> str:
    """`IMG_0042-fit-<key>.mp4`: the person still recognises the file; the key makes it unique."""
    stem = re.sub(r"[^\w.-]+", "_", source.stem, flags=re.ASCII).strip("._")[:40] or "reference"
    return f"{stem}-fit-{key}{extension}"


def _existing(folder: Path, key: str) -> Path | None:
    if not folder.is_dir():
        return None
    marker = f"-fit-{key}."
    return next((p for p in folder.iterdir() if marker in p.name and p.is_file()), None)


def _stat(source: Path, name: str) -> tuple[int, int, int]:
    try:
        found = source.stat()
    except OSError as exc:
        raise FitError(f"{name} can no longer be read ({_reason(exc)}).") from exc
    return found.st_size, found.st_mtime_ns, found.st_ino


def _sha256(source: Path, name: str, cancel: threading.Event | None) -> str:
    digest = hashlib.sha256()
    try:
        with source.open("rb") as handle:
            while chunk := handle.read(_HASH_CHUNK):
                check_cancel(cancel)
                digest.update(chunk)
    except OSError as exc:
        raise FitError(f"{name} cannot be read: {_reason(exc)}.") from exc
    return digest.hexdigest()


def _make(
    source: Path,
    folder: Path,
    plan: FitPlan,
    key: str,
    name: str,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=folder, prefix=".fitting-", suffix=plan.extension)
        os.close(handle)
    except OSError as exc:
        raise _write_error(exc, folder, name) from exc
    temp = Path(temp_name)
    try:
        fmt = plan.out_format
        if plan.kind is MediaKind.VIDEO:
            fit_video(source, temp, plan, name, progress=progress, cancel=cancel)
        elif plan.kind is MediaKind.AUDIO:
            fit_audio(source, temp, plan, name, progress=progress, cancel=cancel)
        else:
            fmt = fit_image(source, temp, plan, name, progress=progress, cancel=cancel)
        check_cancel(cancel)
        size = temp.stat().st_size
        if plan.max_bytes is not None and size > plan.max_bytes:
            raise FitError(
                f"The fitted copy of {name} came out at {size / _MB:.1f} MB, over the "
                f"{plan.max_bytes / _MB:.1f} MB it may take; choose a shorter range."
            )
        with temp.open("rb") as done:
            os.fsync(done.fileno())
        temp.chmod(0o644)
        extension = {"jpeg": ".jpg"}.get(fmt, f".{fmt}")
        final = folder / fitted_name(source, key, extension)
        temp.replace(final)
        return final
    except FitError:
        temp.unlink(missing_ok=True)
        raise
    except (OSError, av.error.FFmpegError) as exc:
        temp.unlink(missing_ok=True)
        if is_no_room(exc) or (isinstance(exc, av.error.FFmpegError) and _errno(exc) in (28, 27)):
            raise _write_error(exc, folder, name) from exc
        if isinstance(exc, av.error.FFmpegError):
            raise FitError(f"{name} could not be decoded: {_clean(exc)}.") from exc
        raise FitError(f"{name} could not be fitted: {_reason(exc)}.") from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _errno(exc: BaseException) -> int | None:
    return getattr(exc, "errno", None)


def _write_error(exc: BaseException, folder: Path, name: str) -> FitError:
    if is_no_room(exc) or _errno(exc) in (28, 27):
        return FitError(
            f"There is not enough free space in {folder} to fit {name}; free some space and try "
            "again."
        )
    return FitError(f"The fitted copy of {name} cannot be written in {folder}: {_reason(exc)}.")


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or type(exc).__name__
    return str(text).lower()


def _clean(exc: BaseException) -> str:
    with contextlib.suppress(Exception):
        return str(getattr(exc, "strerror", "") or exc).splitlines()[0].lower()[:120]
    return "unreadable data"
