"""The loop set-up itself: Qt signals and asyncio tasks interleave on one loop."""

from __future__ import annotations

import asyncio

from engine_fixtures import quick_shot
from PySide6.QtCore import QTimer

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
