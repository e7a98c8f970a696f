"""Run as a script by test_workspace_laptop.py on a 1366×768 screen (Xvfb): the real app
(`seedance_desktop.cli.main`) on a fresh data folder. As soon as the window is up it types a
prompt into whatever has the keyboard focus (as a person would, without clicking), then checks
the layout of every compose mode and prints one JSON report; it keeps running (the test kills it).
"""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QPoint, QRect, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QApplication,
    QLabel,
    QScrollBar,
    QWidget,
)

from seedance_desktop.cli.main import main as app_main


def _window() -> QWidget | None:
    for widget in QApplication.topLevelWidgets():
        if type(widget).__name__ == "MainWindow" and getattr(widget, "_built", False):
            return widget
    return None


def _shown(widget: QWidget, window: QWidget) -> bool:
    """Visible and wholly inside the window."""
    if not widget.isVisible() or widget.width() <= 0:
        return False
    top_left = widget.mapTo(window, QPoint(0, 0))
    return window.rect().contains(QRect(top_left, widget.size()))


def _ancestors(widget: QWidget) -> list[QWidget]:
    found = []
    parent = widget.parentWidget()
    while parent is not None:
        found.append(parent)
        parent = parent.parentWidget()
    return found


def _layout_report(window: QWidget) -> dict[str, object]:
    scrollbars = [
        f"{bar.parent().objectName() or type(bar.parent()).__name__}"
        for bar in window.findChildren(QScrollBar)
        if bar.orientation() == Qt.Orientation.Horizontal and bar.isVisible()
    ]
    cut = []
    for button in window.findChildren(QAbstractButton):
        # the text itself (and its icon) must fit; the style's extra padding may shrink
        needed = button.fontMetrics().horizontalAdvance(button.text().replace("&", ""))
        needed += button.iconSize().width() if not button.icon().isNull() else 0
        if button.isVisible() and button.text() and button.width() < needed + 8:
            cut.append(button.text())
    for label in window.findChildren(QLabel):
        text = label.text()
        plain = label.textFormat() != Qt.TextFormat.RichText and "<" not in text
        shown_whole = label.width() >= label.fontMetrics().horizontalAdvance(text)
        if label.isVisible() and plain and not label.wordWrap() and text and not shown_whole:
            cut.append(text)
    outside = []  # controls cut off by the window's edge (not those scrolled out of a view)
    for button in window.findChildren(QAbstractButton):
        scrolled = any(isinstance(a, QAbstractScrollArea) for a in _ancestors(button))
        if button.isVisible() and not scrolled and not _shown(button, window):
            outside.append(button.text() or button.toolTip() or type(button).__name__)
    tabs = window.compose.tabs  # type: ignore[attr-defined]
    tab = tabs.currentWidget()
    return {
        "horizontal_scrollbars": scrollbars,
        "controls_outside": outside,
        "cut_text": cut,
        "queue_button": _shown(tab.queue_button, window),
        "estimate": _shown(tab.estimate, window) and bool(tab.estimate.text()),
        "tab_bar_fits": tabs.tabBar().sizeHint().width() <= tabs.tabBar().width(),
        "status_bar": _shown(window.statusBar(), window),  # type: ignore[attr-defined]
    }


def drive(text: str) -> None:
    window = _window()
    if window is None or getattr(window, "runtime", None) is None:
        QTimer.singleShot(20, lambda: drive(text))
        return
    focus = QApplication.focusWidget() or window.focusWidget()
    prompt = window.compose.current_tab().prompt  # type: ignore[attr-defined]
    QTest.keyClicks(focus, text)  # straight after start: into whatever has the focus
    print("typed", flush=True)
    QTimer.singleShot(800, lambda: report(window, focus is prompt))


def report(window: QWidget, prompt_had_focus: bool) -> None:
    screen = window.screen() or QGuiApplication.primaryScreen()
    area = screen.availableGeometry()
    frame = window.frameGeometry()
    compose = window.compose  # type: ignore[attr-defined]
    modes = {}
    for index in range(compose.tabs.count()):
        compose.tabs.setCurrentIndex(index)
        QApplication.processEvents()
        modes[compose.current_tab().mode.value] = _layout_report(window)
    colour = window.palette().color(window.backgroundRole())
    result = {
        "screen": [area.x(), area.y(), area.width(), area.height()],
        "frame": [frame.x(), frame.y(), frame.width(), frame.height()],
        "fits": area.contains(frame),
        "window_lightness": colour.lightnessF(),
        "text_lightness": window.palette().color(window.foregroundRole()).lightnessF(),
        "prompt_had_focus": prompt_had_focus,
        "modes": modes,
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    app = QApplication(["seedance-desktop"])  # run_window takes this instance
    QTimer.singleShot(0, lambda: drive(sys.argv[1]))
    sys.exit(app_main([]))
