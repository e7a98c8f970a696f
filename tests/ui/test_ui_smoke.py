"""The loop set-up itself: Qt signals and asyncio tasks interleave on one loop."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from engine_fixtures import EngineHarness, fal_config_for, quick_shot
from PySide6.QtCore import QTimer

from seedance_desktop.engine.settings import EngineSettings
from seedance_desktop.engine.states import JobState
from seedance_desktop.ui.bridge import EngineBridge


async def test_qt_timers_and_asyncio_share_the_loop(qtbot) -> None:
    fired = asyncio.Event()
    QTimer.singleShot(10, fired.set)
    await asyncio.wait_for(fired.wait(), 5)


async def test_the_bridge_relays_engine_events(qtbot, ui_engine) -> None:
    engine = ui_engine.engine
    bridge = EngineBridge(engine.events)
    states: list[JobState] = []
    bridge.jobChanged.connect(lambda job: states.append(job.state))
    (job,) = await engine.enqueue(quick_shot())
    await ui_engine.wait_for(job.id, {JobState.DONE})
    assert states[-1] is JobState.DONE
    bridge.detach()


async def test_finished_jobs_hand_their_connections_back(qtbot, simulator, app_paths) -> None:
    """On the window's loop, a status stream that ended or a finished download gives its
    connection back to the pool: with two connections, more jobs than that still go through.
    (qasync alone closes httpx's abandoned body generators outside any task, which left every
    job's connections checked out until the queue stalled.)"""
    config = replace(fal_config_for(simulator.url), max_connections=2, pool_timeout_s=3.0)
    harness = EngineHarness(app_paths, config, EngineSettings(max_in_flight=1))
    engine = await harness.start()
    try:
        for seed in range(4):
            (job,) = await engine.enqueue(quick_shot(seed=seed))
            await harness.wait_for(job.id, {JobState.DONE}, timeout=20)
    finally:
        await harness.stop()
