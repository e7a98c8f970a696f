"""The one typed interface from the window to the engine: commands, queries and events.

The window imports from the engine only this module (and the value and event types it names):
never the repositories, the database or the scheduler. Every change the window shows arrives as
an event on `events` — a star or a delete included — so no widget reloads by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from seedance_desktop.domain.plan import Plan
from seedance_desktop.domain.shot import Shot
from seedance_desktop.engine.actions import JobAction, Resolution
from seedance_desktop.engine.engine import ActionRefused, Engine, InvalidShot
from seedance_desktop.engine.events import EventBus, LibraryChanged
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
    "HistoryEntry",
    "InvalidShot",
    "Job",
    "JobAction",
    "LibraryEntry",
    "LibraryFilter",
    "LibrarySort",
    "LogLine",
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

    def _require_entry(self, job_id: int) -> LibraryEntry:
        entry = self.library_entry(job_id)
        if entry is None:
            raise ActionRefused("This result is no longer in the library.")
        return entry
