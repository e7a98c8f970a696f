"""Wires the application together: paths, key, backend, engine, the asyncio-in-Qt loop, the window.

The window is shown first (a fast first paint); the database, the backend (the bundled simulator
when there is no key) and the engine open right after, without blocking it. Closing the window
stops the engine cleanly: every job is persisted and resumes on the next start.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)


def has_display() -> bool:
    return bool(
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
        or sys.platform in ("darwin", "win32")
    )


def run_window(argv: Sequence[str] | None = None) -> int:
    if not has_display():
        print(
            "No display found. Run Seedance Desktop in a desktop session, or use the command line:"
            " `seedance-desktop generate --help`.",
            file=sys.stderr,
        )
        return 1
    from PySide6.QtWidgets import QApplication

    from seedance_desktop import __version__

    app = QApplication.instance() or QApplication(list(argv or sys.argv))
    app.setApplicationName("Seedance Desktop")
    app.setOrganizationName("Seedance Desktop")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("io.github.seedance_desktop.SeedanceDesktop")
    from PySide6.QtGui import QIcon

    app.setWindowIcon(QIcon(str(Path(__file__).parent / "resources" / "icon.svg")))
    # The window closing ends `_main` (which stops the engine cleanly), not Qt's loop directly.
    app.setQuitOnLastWindowClosed(False)
    from seedance_desktop.ui.event_loop import QtEventLoop
    from seedance_desktop.ui.main_thread_gc import MainThreadCollector

    collector = MainThreadCollector()
    try:
        with asyncio.Runner(loop_factory=lambda: QtEventLoop(app)) as runner:
            return runner.run(_main(app))
    finally:
        collector.stop()


async def _main(app: object) -> int:
    from PySide6.QtWidgets import QApplication

    from seedance_desktop.paths import app_paths
    from seedance_desktop.ui.main_window import MainWindow

    assert isinstance(app, QApplication)
    paths = app_paths().ensure()
    window = MainWindow(paths)
    window.show()
    quit_after = os.environ.get("SEEDANCE_QUIT_AFTER_MS")
    if quit_after and quit_after.isdigit():  # smoke tests and start-up benchmarks
        from PySide6.QtCore import QTimer

        QTimer.singleShot(int(quit_after), window.close)
    await asyncio.sleep(0.05)  # the first frame goes out before the engine's imports
    from seedance_desktop.runtime import running_engine

    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    window.closed.connect(closed.set)
    async with running_engine(paths, events=window.events) as runtime:
        window.attach(runtime)
        await closed.wait()
        await window.detach()
    return 0
