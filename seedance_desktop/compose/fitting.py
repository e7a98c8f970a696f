"""Fitting the references of a compose model, without Qt: which need it, with what budget, and a
runner that does the work off the event loop's thread with progress and cancel.

The runner has one worker thread of its own (not the engine's executor, so probes and uploads
never wait behind a long encode), and hands progress back to the loop's thread. A fitted file
replaces its original in every slot that held it and the shot keeps the record (source, range,
transform), so "Reuse settings" and the export sidecar know what was sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from seedance_desktop.compose.model import ComposeModel
from seedance_desktop.domain.endpoints import LIMITS, Mode
from seedance_desktop.domain.fit import (
    Budget,
    FitPlan,
    FitSettings,
    budget_for,
    needs_fit,
    plan_fit,
)
from seedance_desktop.domain.media_info import MediaInfo, MediaKind
from seedance_desktop.domain.shot import REFERENCE_FIELDS
from seedance_desktop.media.references import is_remote

if TYPE_CHECKING:  # PyAV loads when the first fit starts, not with the window
    from seedance_desktop.media.fit import Fitted


@dataclass(frozen=True)
class FitTarget:
    """One reference to fit: where it sits, what it is, and what is left for it."""

    field: str
    reference: str
    kind: MediaKind
    info: MediaInfo
    budget: Budget
    image_formats: tuple[str, ...]


def image_formats_for(mode: Mode, field: str) -> tuple[str, ...]:
    if field in ("image_url", "end_image_url"):
        return LIMITS.start_image_formats
    return LIMITS.reference_image_formats


def fit_target(
    model: ComposeModel, field: str, reference: str, before: list[MediaInfo] | None = None
) -> FitTarget | None:
    """The target for one slot's file (None while it is unprobed, remote or unreadable).

    Its budget is what `before` leaves of the shot's combined limits; by default, what every
    other reference of the shot leaves."""
    info = model.media.get(reference)
    if not isinstance(info, MediaInfo) or is_remote(reference):
        return None
    kind = REFERENCE_FIELDS[field]
    if before is None:
        before = [
            other
            for _, ref in model.shot.references()
            if ref != reference and isinstance(other := model.media.get(ref), MediaInfo)
        ]
    return FitTarget(
        field,
        reference,
        kind,
        info,
        budget_for([o for o in before if o.kind is kind]),
        image_formats_for(model.mode, field),
    )


def can_fit(model: ComposeModel, field: str, reference: str) -> bool:
    """True when fitting would mend a problem of this file (what "Fit…" is offered for): one of
    its own, or going over what the references before it left of the combined limits."""
    return any(t.reference == reference for t in targets_to_fit(model))


def _mends(target: FitTarget) -> bool:
    info = target.info
    if info.kind is not target.kind:
        return target.kind is MediaKind.AUDIO and info.kind is MediaKind.VIDEO and info.has_audio
    if needs_fit(info, image_formats=target.image_formats):
        return True
    seconds = info.duration_s or 0.0
    if target.kind is MediaKind.VIDEO:
        return seconds > target.budget.video_seconds or info.size_bytes >= target.budget.video_bytes
    if target.kind is MediaKind.AUDIO:
        return seconds > target.budget.audio_seconds
    return False


def targets_to_fit(model: ComposeModel) -> list[FitTarget]:
    """Every reference "Fit all" fits, in slot order, each budgeted after the ones before it
    (a clip kept or fitted first leaves the rest of the 15 s to the next)."""
    found: list[FitTarget] = []
    before: list[MediaInfo] = []
    for field in model.fields:
        for reference in model.references(field):
            target = fit_target(model, field, reference, before)
            if target is None or any(t.reference == reference for t in found):
                continue
            if not _mends(target):
                before.append(target.info)
                continue
            found.append(target)
            outcome = plan_fit(reference, target.info, None, target.budget)
            if isinstance(outcome, FitPlan):  # what the fitted file will take of the limits
                before.append(
                    MediaInfo(
                        target.kind,
                        outcome.out_format,
                        outcome.max_bytes or 0,
                        duration_s=outcome.seconds,
                    )
                )
    return found


def apply_fitted(
    model: ComposeModel, target: FitTarget, fitted: Fitted, settings: FitSettings
) -> None:
    """Swap the original for its fitted file in every slot; the shot keeps how it was made."""
    model.set_media(str(fitted.path), fitted.info)
    model.apply_fit(fitted.record(settings), replacing=target.reference)


Progress = Callable[[float], None]
_NICENESS = 10


def _background_priority() -> None:
    """Lower this worker thread's priority (Linux: per thread; the encoder's threads, started
    from it, inherit it), so the window's thread wins the CPU while a fit runs."""
    if hasattr(os, "setpriority") and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            if current < _NICENESS:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _NICENESS)


class FitRunner:
    """Runs fits one at a time on a worker thread; `cancel()` stops the current one."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fit")
        self._cancel = threading.Event()

    async def fit(
        self,
        target: FitTarget,
        settings: FitSettings | None = None,
        progress: Progress | None = None,
    ) -> Fitted:
        """The fitted file; raises FitError (FitCancelled when cancelled)."""
        from seedance_desktop.media.fit import fit_file

        loop = asyncio.get_running_loop()
        self._cancel = cancel = threading.Event()

        def report(done: float) -> None:  # on the worker thread: hand it to the loop's
            if progress is not None:
                loop.call_soon_threadsafe(progress, done)

        def work() -> Fitted:
            _background_priority()
            return fit_file(
                Path(target.reference),
                self.folder,
                settings,
                target.budget,
                kind=target.kind,
                image_formats=target.image_formats,
                progress=report,
                cancel=cancel,
            )

        try:
            return await loop.run_in_executor(self._pool, work)
        except asyncio.CancelledError:
            cancel.set()
            raise

    def cancel(self) -> None:
        self._cancel.set()

    def shutdown(self) -> None:
        """Stop the current fit and let the thread go without waiting (quit must not hang)."""
        self._cancel.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
