"""The compose panel says, at Queue time, that a shot would go over the budget."""

from __future__ import annotations

from engine_fixtures import eventually
from PySide6.QtCore import Qt

from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.paths import AppPaths
from seedance_desktop.ui.compose.panel import ComposePanel
from seedance_desktop.ui.tasks import TaskRunner


async def test_going_over_the_budget_is_said_at_queue_time(
    qtbot, app_paths: AppPaths, ui_engine
) -> None:
    engine = ui_engine.engine
    settings = engine.settings
    settings.budget_month_usd = 0.5
    engine.update_settings(settings)
    panel = ComposePanel(app_paths, TaskRunner())
    qtbot.addWidget(panel)
    panel.attach(engine)
    queued: list = []
    panel.queued.connect(queued.append)
    tab = panel.mode_tabs[Mode.TEXT_TO_VIDEO]
    tab.prompt.setPlainText("Lanterns drift over a dark river")
    tab.parameters.set_values(resolution="480p", duration="4", aspect_ratio="16:9")
    tab.refresh()
    qtbot.keyClick(tab.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    await eventually(lambda: panel.status.text().startswith("Not queued"))
    assert panel.status.text() == (
        "Not queued: This shot could cost up to $0.56; $0.50 budget, $0.00 spent and $0.00 "
        "committed this month — $0.50 left. Raise the budget in Settings."
    )
    assert queued == [] and engine.jobs.all() == []
