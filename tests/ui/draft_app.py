"""Run as a script by test_ui_drafts_process.py: the real app (`seedance_desktop.cli.main`), driven
through its real widgets once the compose panel is built.

    draft_app.py type TEXT   types TEXT into the current tab's prompt editor with QTest, prints
                             "typed", and keeps running (the test kills it).
    draft_app.py show        prints the current tab's mode and each tab's prompt as JSON, then
                             closes the window (the app then quits as it does for a person).
"""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from seedance_desktop.cli.main import main as app_main


def _window() -> object | None:
    for widget in QApplication.topLevelWidgets():
        if type(widget).__name__ == "MainWindow" and getattr(widget, "_built", False):
            return widget
    return None


def drive(action: str, text: str) -> None:
    window = _window()
    if window is None or getattr(window, "runtime", None) is None:
        QTimer.singleShot(50, lambda: drive(action, text))
        return
    compose = window.compose  # type: ignore[attr-defined]
    if action == "type":
        editor = compose.tabs.currentWidget().prompt
        editor.setFocus()
        QTest.keyClicks(editor, text)
        print("typed", flush=True)
    else:
        report = {
            "current": compose.tabs.currentWidget().mode.value,
            "prompts": {m.value: t.prompt.toPlainText() for m, t in compose.mode_tabs.items()},
        }
        print(json.dumps(report), flush=True)
        window.close()  # type: ignore[attr-defined]


if __name__ == "__main__":
    action, text = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "")
    app = QApplication(["seedance-desktop"])  # run_window takes this instance
    QTimer.singleShot(0, lambda: drive(action, text))
    sys.exit(app_main([]))
