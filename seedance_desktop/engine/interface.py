"""The one typed interface from the window to the engine: commands, queries and events.

The window imports from the engine only this module (and the value and event types it names):
never the repositories, the database or the scheduler. Every change the window shows arrives as
an event on `events` — a star or a delete included — so no widget reloads by hand.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from seedance_desktop.domain.plan import Plan
from seedance_desktop.domain.shot import Shot
from seedance_desktop.engine.actions import JobAction, Resolution
from seedance_desktop.engine.engine import ActionRefused, Engine, InvalidShot
from seedance_desktop.engine.events import EventBus, LibraryChanged, SequencesChanged
from seedance_desktop.engine.jobs import HistoryEntry, Job, LogLine
from seedance_desktop.engine.library import (
    ExportItem,
    LibraryEntry,
    LibraryFilter,
    LibrarySort,
    TemplateError,
    continue_shot,
    export_files,
    export_name,
    filmstrip_path,
    move_to_trash,
    sidecar,
)
from seedance_desktop.engine.sequence_files import (
    PREVIEW_OPTIONS,
    ExportOptions,
    ExportReport,
    Fit,
    SequenceExportError,
    export_sequence,
    export_sequence_timeline,
    follow_up_shot,
    preview_key,
)
from seedance_desktop.engine.sequences import (
    FollowUpKind,
    SequenceError,
    SequenceShot,
)
from seedance_desktop.engine.sequences import Sequence as ShotSequence
from seedance_desktop.engine.settings import AppPreferences, EngineSettings
from seedance_desktop.engine.spend import BudgetExceeded, SpendTotals, spend_line
from seedance_desktop.engine.waits import Wait
from seedance_desktop.fal.config import FalConfig

__all__ = [
    "ActionRefused",
    "AppPreferences",
    "BudgetExceeded",
    "EngineInterface",
    "EngineSettings",
    "ExportOptions",
    "ExportReport",
    "Fit",
    "FollowUpKind",
    "HistoryEntry",
    "InvalidShot",
    "Job",
    "JobAction",
    "LibraryEntry",
    "LibraryFilter",
    "LibrarySort",
    "LogLine",
    "SequenceError",
    "SequenceExportError",
    "SequenceShot",
    "ShotSequence",
    "SpendTotals",
    "TemplateError",
    "Wait",
    "spend_line",
]


class EngineInterface:
    """What the window may ask of the engine. Runs on the engine's loop (the window's, under
    qasync); blocking work goes to the engine's executor."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def events(self) -> EventBus:
        return self._engine.events

    # Composing and queueing --------------------------------------------------------------------

    async def plan(self, shot: Shot) -> Plan:
        return await self._engine.plan(shot)

    async def enqueue(self, shot: Shot, *, variations: int = 1) -> list[Job]:
        """Queue a shot (InvalidShot when it has problems). Works offline."""
        return await self._engine.enqueue(shot, variations=variations)

    # Jobs --------------------------------------------------------------------------------------

    def jobs(self) -> list[Job]:
        """Every job, in queue order."""
        return self._engine.jobs.all()

    def job(self, job_id: int) -> Job | None:
        return self._engine.jobs.find(job_id)

    def history(self, job_id: int) -> list[HistoryEntry]:
        return self._engine.jobs.history(job_id)

    def logs(self, job_id: int) -> list[LogLine]:
        return self._engine.jobs.logs(job_id)

    def thumbnail_path(self, job: Job) -> Path:
        """Where a finished job's thumbnail is kept (computed, not looked up)."""
        return self._engine.thumbnail_path(job)

    def wait_reason(self, job_id: int) -> Wait | None:
        return self._engine.wait_reason(job_id)

    @property
    def queue_block(self) -> str | None:
        return self._engine.queue_block

    async def perform(self, action: JobAction, job_id: int) -> Job | None:
        """Carry out one of the actions table's actions (ActionRefused where it does not apply).
        Returns the job as it is afterwards, or None once it is removed."""
        engine = self._engine
        if action is JobAction.CANCEL:
            return await engine.cancel(job_id)
        if action is JobAction.RETRY:
            return await engine.retry(job_id)
        if action is JobAction.FETCH_AGAIN:
            return await engine.fetch_again(job_id)
        if action is JobAction.RESUBMIT:
            return await engine.resolve_unknown(job_id, Resolution.RESUBMIT)
        if action is JobAction.DROP:
            return await engine.resolve_unknown(job_id, Resolution.DROP)
        await engine.remove(job_id)
        return None

    @property
    def paused(self) -> bool:
        return self._engine.settings.paused

    def set_paused(self, paused: bool) -> None:
        if paused:
            self._engine.pause()
        else:
            self._engine.resume()

    # Money and settings ------------------------------------------------------------------------

    def spend(self) -> SpendTotals:
        return self._engine.spend()

    def engine_settings(self) -> EngineSettings:
        """A copy: changing it changes nothing until `save_settings`."""
        return replace(self._engine.settings)

    def preferences(self) -> AppPreferences:
        return AppPreferences.load(self._engine.settings_store)

    def save_settings(self, settings: EngineSettings, preferences: AppPreferences) -> None:
        preferences.save(self._engine.settings_store)
        self._engine.update_settings(settings)  # tells the window through SpendChanged

    @property
    def fal_config(self) -> FalConfig:
        return self._engine.fal_config

    # The library -------------------------------------------------------------------------------

    def library_page(self, where: LibraryFilter) -> list[LibraryEntry]:
        """One page of results (the filter's limit and offset), newest first."""
        return self._engine.library.list(where)

    def library_entry(self, job_id: int) -> LibraryEntry | None:
        return self._engine.library.get(job_id)

    def references(self, job_id: int) -> list[dict[str, str]]:
        """The references a result was made from: field, original name, stored path."""
        return self._engine.library.references(job_id)

    def reuse(self, job_id: int) -> Shot:
        """A result's settings as a shot, its references from the reference store."""
        return self._engine.library.reuse(job_id)

    async def continue_from(self, job_id: int) -> Shot:
        """An image-to-video shot starting on the result's last frame."""
        from seedance_desktop.media.frames import last_frame

        entry = self._require_entry(job_id)
        target = self._engine.paths.data / "frames" / f"{entry.uid}.png"
        frame = await self._engine.run_blocking(last_frame, entry.path, target)
        return continue_shot(frame, entry)

    def star(self, job_ids: Sequence[int], starred: bool) -> None:
        for job_id in job_ids:
            self._engine.library.star(job_id, starred)
            self.events.emit(LibraryChanged(job_id))

    async def delete(self, job_ids: Sequence[int]) -> list[int]:
        """Take results out of the library at once, undoably (`undo_delete`); their videos go
        to the system trash at the next delete or the next start (`finish_deletes`). Returns
        the ids deleted."""
        await self.finish_deletes()  # only the latest delete can be undone
        hidden = self._engine.library.hide(job_ids)
        for job_id in hidden:
            self.events.emit(LibraryChanged(job_id))
        return hidden

    def undo_delete(self, job_ids: Sequence[int]) -> None:
        """Bring back results of the latest delete (their files are still in place)."""
        self._engine.library.unhide(job_ids)
        for job_id in job_ids:
            self.events.emit(LibraryChanged(job_id))

    async def finish_deletes(self) -> list[Path]:
        """Send the videos of deleted results to the system trash; returns where they were."""
        return await self._engine.run_blocking(self._engine.library.purge, move_to_trash)

    async def export(
        self, job_ids: Sequence[int], folder: Path, template: str | None = None
    ) -> list[Path]:
        """Copy results into `folder` under the naming template (TemplateError when it is not
        valid; OSError when the disk refuses). Nothing existing is overwritten."""
        preferences = self.preferences()
        items = []
        for job_id in job_ids:
            entry = self.library_entry(job_id)
            if entry is None:
                continue
            name = export_name(entry, template or preferences.export_template)
            extra = sidecar(entry, self.references(job_id)) if preferences.export_sidecar else None
            items.append(ExportItem(entry.path, name, extra))
        return await asyncio.to_thread(export_files, items, folder)

    def filmstrip_path(self, entry: LibraryEntry) -> Path | None:
        """Where the hover-scrub filmstrip of a result is kept (it may not exist yet)."""
        return filmstrip_path(entry)

    # Sequences ---------------------------------------------------------------------------------
    # Every change is announced with SequencesChanged; SequenceError carries the person's message.

    def sequences(self) -> list[ShotSequence]:
        return self._engine.sequences.all()

    def sequence(self, sequence_id: int) -> ShotSequence | None:
        return self._engine.sequences.get(sequence_id)

    def create_sequence(self, name: str, job_ids: Sequence[int] = ()) -> ShotSequence:
        made = self._engine.sequences.create(name, list(job_ids))
        self.events.emit(SequencesChanged(made.id))
        return made

    def rename_sequence(self, sequence_id: int, name: str) -> ShotSequence:
        renamed = self._engine.sequences.rename(sequence_id, name)
        self.events.emit(SequencesChanged(sequence_id))
        return renamed

    def delete_sequence(self, sequence_id: int) -> None:
        self._engine.sequences.delete(sequence_id)
        self.events.emit(SequencesChanged(sequence_id))

    def add_to_sequence(
        self, sequence_id: int, job_id: int, index: int | None = None
    ) -> SequenceShot:
        shot = self._engine.sequences.add_shot(sequence_id, job_id, index)
        self.events.emit(SequencesChanged(sequence_id))
        return shot

    def move_shot(self, shot_id: int, index: int) -> ShotSequence:
        return self._changed(self._engine.sequences.move_shot(shot_id, index))

    def remove_shot(self, shot_id: int) -> ShotSequence:
        return self._changed(self._engine.sequences.remove_shot(shot_id))

    def trim_shot(self, shot_id: int, in_s: float, out_s: float | None) -> SequenceShot:
        shot = self._engine.sequences.trim(shot_id, in_s, out_s)
        self.events.emit(SequencesChanged(self._engine.sequences.sequence_of(shot_id).id))
        return shot

    def use_take(self, shot_id: int, job_id: int) -> SequenceShot:
        """Switch a shot to another of its alternates (the others stay)."""
        shot = self._engine.sequences.use_take(shot_id, job_id)
        self.events.emit(SequencesChanged(self._engine.sequences.sequence_of(shot_id).id))
        return shot

    async def follow_up(self, shot_id: int, kind: FollowUpKind) -> Shot:
        """The shot to compose next from a sequence's shot: Continue (image to video from its
        last frame) or Extend (reference to video with it as [Video1]). Whatever is made from
        it lands in the sequence right after `shot_id`."""
        sequences = self._engine.sequences
        shot = sequences.sequence_of(shot_id).shot(shot_id)
        assert shot is not None
        frames = self._engine.paths.data / "frames"
        made, sha256 = await self._engine.run_blocking(follow_up_shot, shot, kind, frames)
        sequences.expect_follow_up(shot_id, kind, sha256)
        return made

    async def export_sequence(
        self,
        sequence_id: int,
        target: Path,
        options: ExportOptions | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> ExportReport:
        """The sequence as one MP4, made in a worker thread (SequenceExportError, or
        ExportCancelled when `cancel` is set; nothing is left behind either way). `progress`
        is called from that thread."""
        sequence = self._engine.sequences.require(sequence_id)
        return await self._engine.run_blocking(
            export_sequence, sequence, target, options, progress, cancel
        )

    async def sequence_preview(
        self,
        sequence_id: int,
        *,
        progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Path:
        """The whole sequence as one quick-to-make file the player plays through without a gap
        between shots, its time the sequence's. Kept in the cache until the cut changes."""
        sequence = self._engine.sequences.require(sequence_id)
        target = self._engine.paths.cache / "sequence-previews" / f"{preview_key(sequence)}.mp4"
        if target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        await self._engine.run_blocking(
            export_sequence, sequence, target, PREVIEW_OPTIONS, progress, cancel
        )
        return target

    async def export_timeline(self, sequence_id: int, target: Path) -> list[Path]:
        """An .otio, .xml (FCP XML) or .edl timeline with copies of the shots beside it."""
        sequence = self._engine.sequences.require(sequence_id)
        return await self._engine.run_blocking(export_sequence_timeline, sequence, target)

    def _changed(self, sequence: ShotSequence) -> ShotSequence:
        self.events.emit(SequencesChanged(sequence.id))
        return sequence

    def _require_entry(self, job_id: int) -> LibraryEntry:
        entry = self.library_entry(job_id)
        if entry is None:
            raise ActionRefused("This result is no longer in the library.")
        return entry
