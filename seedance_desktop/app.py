"""Wires the application together: settings, key, backend choice, event loop and the window."""

from __future__ import annotations

import os
import sys


def has_display() -> bool:
    return bool(
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
        or sys.platform in ("darwin", "win32")
    )


def run_window() -> int:
    """Open the main window. The full window comes with the desktop issue; this is its shell."""
    if not has_display():
        print(
            "No display found. Run Seedance Desktop in a desktop session, or use the command line:"
            " `seedance-desktop generate --help`.",
            file=sys.stderr,
        )
        return 1
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    from seedance_desktop import __version__

    app = QApplication.instance() or QApplication(sys.argv)
    window = QMainWindow()
    window.setWindowTitle(f"Seedance Desktop {__version__}")
    label = QLabel(
        "Seedance Desktop\n\nThe compose window is on its way. Meanwhile, make videos with\n"
        'seedance-desktop generate --mode text-to-video --prompt "…"'
    )
    label.setMargin(24)
    window.setCentralWidget(label)
    window.resize(640, 360)
    window.show()
    return app.exec()
