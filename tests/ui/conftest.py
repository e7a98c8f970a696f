"""Widget tests: pytest-qt, with async tests run on a qasync loop driven by the QApplication, so
the real engine (asyncio) and the widgets (Qt) share one loop as they do in the app."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path

os.environ.setdefault("QT_API", "pyside6")

import pytest
from engine_fixtures import EngineHarness, fal_config_for
from PySide6.QtWidgets import QApplication

from seedance_desktop.engine.settings import EngineSettings
from seedance_desktop.paths import AppPaths
from seedance_desktop.ui.event_loop import QtEventLoop


def _qt_app() -> QApplication:
    app = QApplication.instance()
    return app if isinstance(app, QApplication) else QApplication([])


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], QtEventLoop]]:
    return {"qasync": lambda: QtEventLoop(_qt_app())}


@pytest.fixture(autouse=True)
def collect_on_the_qt_thread() -> Iterator[None]:
    """As in the app (ui/main_thread_gc.py): no cyclic collection in a worker thread while a
    widget test runs; what the test left is collected here, on the Qt thread, when it ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        if enabled:
            gc.enable()


@pytest.fixture
def app_paths(tmp_path: Path) -> AppPaths:
    root = tmp_path / "app"
    return AppPaths(root / "data", root / "cache", root / "config", root / "logs").ensure()


@pytest.fixture
async def ui_engine(simulator, app_paths: AppPaths) -> AsyncIterator[EngineHarness]:
    """A real engine on the test's qasync loop, talking to the simulator."""
    harness = EngineHarness(app_paths, fal_config_for(simulator.url), EngineSettings())
    await harness.start()
    yield harness
    await harness.stop()
