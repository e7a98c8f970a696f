"""Child process for the start-up benchmark: show a window and print READY when it has been
painted and the event loop is taking input, then quit. `app` is Seedance Desktop's main window
(as app.py builds it), `bare` an empty QMainWindow, measured the same way."""

from __future__ import annotations

import os
import sys
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("SEEDANCE_HOME", tempfile.mkdtemp(prefix="seedance-bench-"))

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow


class FirstPaint(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt's name
        if event.type() == QEvent.Type.Paint and not getattr(self, "seen", False):
            self.seen = True
            # The paint is done once the loop comes back: the window then takes input.
            QTimer.singleShot(0, lambda: (print("READY", flush=True), app.quit()))
        return False


app = QApplication(sys.argv[:1])
if sys.argv[1] == "app":
    from seedance_desktop.paths import app_paths
    from seedance_desktop.ui.main_window import MainWindow

    window: QMainWindow = MainWindow(app_paths().ensure())
else:
    window = QMainWindow()
    window.resize(1400, 860)
watcher = FirstPaint()
window.installEventFilter(watcher)
window.show()
app.exec()
