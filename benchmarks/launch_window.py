"""Child process of the start-up and memory benchmarks: start a window, say when it is ready.

    launch_window.py bare   an empty PySide6 QMainWindow (the baseline)
    launch_window.py app    Seedance Desktop exactly as `seedance-desktop` starts it (app.py)
    launch_window.py idle   the app, left running once the engine is attached

Markers on stdout, each printed from a zero timer queued right after a paint event (so the paint
is done and the event loop is taking input again):
    PAINTED  the first frame of the main window
    PANELS   the first frame with the panels built (app only)
    ATTACHED the engine is attached and the panels are built (idle only)
`bare` and `app` exit at once after their last marker; `idle` runs until stdin closes.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow


def say(marker: str) -> None:
    print(marker, flush=True)


class Watcher(QObject):
    """Sees every event first (installed on the application), so nothing in the app is changed."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode
        self.window: QMainWindow | None = None
        self.painted = False
        self.panels = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt's name
        if event.type() == QEvent.Type.Paint and isinstance(watched, QMainWindow):
            self.window = watched
            if not self.painted:
                self.painted = True
                QTimer.singleShot(0, self._painted)
            elif self.mode == "app" and not self.panels and getattr(watched, "_built", False):
                self.panels = True
                QTimer.singleShot(0, self._panels)
        return False

    def _painted(self) -> None:
        say("PAINTED")
        if self.mode == "bare":
            os._exit(0)
        if self.mode == "idle":
            self._wait_attached()

    def _panels(self) -> None:
        say("PANELS")
        os._exit(0)

    def _wait_attached(self) -> None:
        window = self.window
        if window is not None and getattr(window, "runtime", None) and window._built:  # type: ignore[attr-defined]
            say("ATTACHED")
            return
        QTimer.singleShot(20, self._wait_attached)


def main() -> int:
    mode = sys.argv[1]
    app = QApplication(sys.argv[:1])
    watcher = Watcher(mode)
    app.installEventFilter(watcher)
    if mode == "bare":
        window = QMainWindow()
        window.resize(1400, 860)
        window.show()
        return app.exec()
    if mode == "idle":  # the parent ends the run by closing our stdin
        threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    from seedance_desktop.app import run_window

    return run_window(sys.argv[:1])


if __name__ == "__main__":
    sys.exit(main())
