"""Fixtures for engine tests: a real engine on a real SQLite file, talking to the real simulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.domain.shot import Shot
from seedance_desktop.engine.database import Database
from seedance_desktop.engine.engine import Engine
from seedance_desktop.engine.events import Event, EventBus
from seedance_desktop.engine.settings import EngineSettings
from seedance_desktop.engine.states import JobState
from seedance_desktop.fal.config import FalConfig
from seedance_desktop.paths import AppPaths

TEST_KEY = "test-key-id:test-key-secret-123"


def fal_config_for(url: str, key: str = TEST_KEY) -> FalConfig:
    return FalConfig(
        queue_url=url,
        rest_url=url,
        cdn_url=url,
        poll_interval_s=0.05,
        poll_max_interval_s=0.2,
    ).with_key(key)


def quick_shot(prompt: str = "A red fox runs through fresh snow", **changes: object) -> Shot:
    values: dict[str, object] = {
        "mode": Mode.TEXT_TO_VIDEO,
        "prompt": prompt,
        "resolution": "480p",
        "duration": "4",
        "aspect_ratio": "16:9",
    }
    values.update(changes)
    return Shot(**values)  # type: ignore[arg-type]


class EngineHarness:
    """One engine plus what tests look at: its events and its database."""

    def __init__(
        self,
        paths: AppPaths,
        config: FalConfig,
        settings: EngineSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock
        self.paths = paths.ensure()
        self.config = config
        self.settings = settings
        self.events: list[Event] = []
        self.engine: Engine | None = None
        self.db: Database | None = None
        self.simulated = False  # start the engine as on the bundled simulator (nothing billed)

    async def start(self) -> Engine:
        self.db = Database.open(self.paths.database)
        bus = EventBus(progress_interval_s=0)
        bus.subscribe(self.events.append)
        self.engine = Engine(
            self.db,
            self.paths,
            self.config,
            events=bus,
            settings=EngineSettings(**vars(self.settings)),
            clock=self.clock,
            probe_delays=(0.05, 0.2),
            requeue_delay_s=0.05,
            simulated=self.simulated,
        )
        await self.engine.start()
        return self.engine

    async def stop(self) -> None:
        if self.engine is not None:
            await self.engine.close()
            self.engine = None
        if self.db is not None:
            self.db.close()
            self.db = None

    async def restart(self) -> Engine:
        await self.stop()
        return await self.start()

    async def wait_for(self, job_id: int, states: set[JobState], timeout: float = 30.0) -> JobState:
        assert self.engine is not None
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            state = self.engine.jobs.get(job_id).state
            if state in states:
                return state
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"job {job_id} stuck in {state}, wanted {states}")
            await asyncio.sleep(0.02)

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.02)


@pytest.fixture
async def harness(simulator, tmp_path: Path) -> AsyncIterator[EngineHarness]:
    root = tmp_path / "app"
    paths = AppPaths(root / "data", root / "cache", root / "config", root / "logs")
    h = EngineHarness(paths, fal_config_for(simulator.url), EngineSettings())
    await h.start()
    yield h
    await h.stop()


async def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the loop run (Qt events included, on a qasync loop) until `condition()` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
