"""Run as a script by test_fit_quit.py: start a fit in the window, then quit the app. Prints
"quit" once the process is ending; a fit in progress must stop, not be waited for."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.paths import AppPaths
from seedance_desktop.ui.compose.panel import ComposePanel
from seedance_desktop.ui.event_loop import QtEventLoop
from seedance_desktop.ui.tasks import TaskRunner


async def fit_then_quit(app: QApplication, paths: AppPaths, clip: Path) -> None:
    panel = ComposePanel(paths, TaskRunner())
    panel.show()
    tab = panel.mode_tabs[Mode.REFERENCE_TO_VIDEO]
    panel.tabs.setCurrentWidget(tab)
    tab.model.add_references("video_urls", [str(clip)])
    for _ in range(200):
        if tab.fit_all_button.isVisible():
            break
        await asyncio.sleep(0.05)
    else:
        raise SystemExit("Fit all was never offered")
    tab.fit_all_button.click()
    for _ in range(400):
        if "%" in panel.status.text() and not panel.status.text().endswith(" 0%"):
            break
        await asyncio.sleep(0.05)
    else:
        raise SystemExit("the fit never started")
    app.aboutToQuit.emit()  # what QApplication.quit() sends, before the loop ends
    print("quit", flush=True)


def main() -> None:
    root, clip = Path(sys.argv[1]), Path(sys.argv[2])
    paths = AppPaths(root / "data", root / "cache", root / "config", root / "logs").ensure()
    app = QApplication([])
    app.setQuitOnLastWindowClosed(False)
    with asyncio.Runner(loop_factory=lambda: QtEventLoop(app)) as runner:
        runner.run(fit_then_quit(app, paths, clip))


if __name__ == "__main__":
    main()
