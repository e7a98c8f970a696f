"""Running a scenario the way the app runs: a QApplication with asyncio on a qasync loop (as
app.py does), the main window, and the engine opened with `running_engine`."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

if TYPE_CHECKING:
    from seedance_desktop.runtime import Runtime
    from seedance_desktop.ui.main_window import MainWindow

T = TypeVar("T")


def run_qt(scenario: Callable[[], Awaitable[T]]) -> T:
    from PySide6.QtWidgets import QApplication

    from seedance_desktop.ui.event_loop import QtEventLoop

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    with asyncio.Runner(loop_factory=lambda: QtEventLoop(app)) as runner:
        return runner.run(scenario())


def use_home(home: Path, fal_url: str | None) -> None:
    """Point the app at a private home and, when given, at a fal-compatible server."""
    from common import fal_env

    os.environ["SEEDANCE_HOME"] = str(home)
    for name, value in fal_env(fal_url or "").items():
        if fal_url:
            os.environ[name] = value
        else:
            os.environ.pop(name, None)


@asynccontextmanager
async def open_window() -> AsyncIterator[tuple[MainWindow, Runtime]]:
    """The main window with its panels, attached to a running engine (as app.py wires it)."""
    from seedance_desktop.paths import app_paths
    from seedance_desktop.runtime import running_engine
    from seedance_desktop.ui.main_window import MainWindow

    paths = app_paths().ensure()
    window = MainWindow(paths)
    window.show()
    window.build_panels()
    await asyncio.sleep(0.05)
    try:
        async with running_engine(paths, events=window.events) as runtime:
            window.attach(runtime)
            try:
                yield window, runtime
            finally:
                await window.detach()
    finally:
        window.close()
