"""Opening the product's runtime: paths, database, backend and engine, for the CLI and the app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cached_property

from seedance_desktop.backend import Backend, open_backend
from seedance_desktop.engine.database import Database
from seedance_desktop.engine.engine import Engine
from seedance_desktop.engine.events import EventBus
from seedance_desktop.engine.interface import EngineInterface
from seedance_desktop.engine.ownership import FolderLock, acquire
from seedance_desktop.paths import AppPaths, app_paths

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    engine: Engine
    backend: Backend
    paths: AppPaths
    notice: str | None  # something the person must be told at start (a recovered database)

    @cached_property
    def interface(self) -> EngineInterface:
        """The window's one way to the engine."""
        return EngineInterface(self.engine)


@asynccontextmanager
async def running_engine(
    paths: AppPaths | None = None,
    *,
    backend: Backend | None = None,
    events: EventBus | None = None,
    schedule: bool = True,
    lock: FolderLock | None = None,
) -> AsyncIterator[Runtime]:
    """An engine that has resumed every unfinished job; closed (jobs kept) on the way out.

    The engine owns the data folder: the folder's lock is taken first (raising
    `ownership.FolderBusy` when another process holds it), unless the caller already holds it
    and passes it as `lock`. `schedule=False` opens it to act on one named job only."""
    paths = (paths or app_paths()).ensure()
    own_lock = lock is None
    lock = lock or acquire(paths.data)
    try:
        db = Database.open(paths.database)
        if db.report.message:
            log.warning(db.report.message)
        own_backend = backend is None
        backend = backend or open_backend(paths)
        engine = Engine(
            db, paths, backend.config, events=events, simulated=backend.kind == "simulator"
        )
        try:
            await engine.start(schedule=schedule)
            yield Runtime(engine, backend, paths, db.report.message)
        finally:
            await engine.close()
            if own_backend:
                backend.close()
            db.close()
    finally:
        if own_lock:
            lock.release()
