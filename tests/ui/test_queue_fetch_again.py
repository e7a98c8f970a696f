"""The queue panel offers Fetch again for a paid job lost to bad answers, from the actions table,
and it brings the video home with no new submit (real engine, proxy and simulator)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from engine_fixtures import EngineHarness, eventually, fal_config_for, quick_shot
from fal_proxy import Answer, running_proxy

from seedance_desktop.engine.actions import JobAction
from seedance_desktop.engine.interface import EngineInterface
from seedance_desktop.engine.settings import EngineSettings
from seedance_desktop.engine.states import JobState
from seedance_desktop.paths import AppPaths
from seedance_desktop.ui.bridge import EngineBridge
from seedance_desktop.ui.queue_panel import QueuePanel
from seedance_desktop.ui.tasks import TaskRunner

RESULT = r"/requests/[^/]+$"
GARBLED = Answer(200, b"<html>502 Bad Gateway</html>", content_type="text/html")


@pytest.fixture
async def proxied(simulator, tmp_path: Path) -> AsyncIterator[tuple[EngineHarness, object]]:
    with running_proxy(simulator.url) as proxy:
        root = tmp_path / "app"
        paths = AppPaths(root / "data", root / "cache", root / "config", root / "logs")
        fal = replace(fal_config_for(proxy.url), use_stream=False)
        harness = EngineHarness(paths, fal, EngineSettings())
        await harness.start()
        yield harness, proxy
        await harness.stop()


async def test_fetch_again_from_the_queue_panel(qtbot, proxied, simulator) -> None:
    harness, proxy = proxied
    engine = harness.engine
    garbled = proxy.script("GET", RESULT, GARBLED, repeat=True)
    panel = QueuePanel(EngineBridge(engine.events), TaskRunner())
    qtbot.addWidget(panel)
    panel.attach(EngineInterface(engine))
    panel.show()
    (job,) = await engine.enqueue(quick_shot("A lighthouse in a storm"))
    await harness.wait_for(job.id, {JobState.FAILED})
    await eventually(lambda: panel.model.job_at(0).state is JobState.FAILED)
    panel.select(job.id)
    fetch, retry = panel.job_actions[JobAction.FETCH_AGAIN], panel.job_actions[JobAction.RETRY]
    assert fetch.isEnabled() and retry.isEnabled()
    assert panel.buttons[JobAction.FETCH_AGAIN].isVisible()
    assert not panel.buttons[JobAction.RESUBMIT].isVisible()  # only what applies is shown
    assert "no new charge" in fetch.toolTip()

    garbled.repeat = False  # fal answers properly again
    fetch.trigger()
    await harness.wait_for(job.id, {JobState.DONE})
    submits = [e for e in simulator.log if e.method == "POST" and e.model_id]
    assert len(submits) == 1, "fetch again sends no new submit"
    await eventually(lambda: panel.model.job_at(0).state is JobState.DONE)
    assert not panel.buttons[JobAction.FETCH_AGAIN].isVisible()
