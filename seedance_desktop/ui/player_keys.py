"""The player's keys as window-level shortcuts: Space, J/K/L, ←/→, `,`/`.`, Home/End, I/O and F
work whatever panel has focus — except while typing text, where the keys are the text's.

Text fields claim their keys before shortcuts (Qt's ShortcutOverride), so typing a space in the
prompt never plays the video. Lists, tables, sliders and tab bars keep ←/→ and Home/End for
moving through their items; there the key is handed back to them.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QLineEdit,
    QPlainTextEdit,
    QTabBar,
    QTextEdit,
    QWidget,
)

from seedance_desktop.ui.player import PlayerWidget

PLAYER_KEYS = {
    "Space": Qt.Key.Key_Space,
    "J": Qt.Key.Key_J,
    "K": Qt.Key.Key_K,
    "L": Qt.Key.Key_L,
    ",": Qt.Key.Key_Comma,
    ".": Qt.Key.Key_Period,
    "I": Qt.Key.Key_I,
    "O": Qt.Key.Key_O,
    "F": Qt.Key.Key_F,
    "Left": Qt.Key.Key_Left,
    "Right": Qt.Key.Key_Right,
    "Home": Qt.Key.Key_Home,
    "End": Qt.Key.Key_End,
}
_NAVIGATION = {Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Home, Qt.Key.Key_End}


def is_typing(widget: QWidget | None) -> bool:
    """Whether keys pressed in `widget` are text being typed."""
    if isinstance(widget, QLineEdit):
        return not widget.isReadOnly()
    if isinstance(widget, QTextEdit | QPlainTextEdit):
        return not widget.isReadOnly()
    return isinstance(widget, QAbstractSpinBox)


def install_player_shortcuts(window: QWidget, player: PlayerWidget) -> list[QShortcut]:
    """Make the player's keys work anywhere in `window`; returns the shortcuts made."""
    made = []
    for sequence, key in PLAYER_KEYS.items():
        shortcut = QShortcut(QKeySequence(sequence), window)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.setAutoRepeat(key in _NAVIGATION or key in (Qt.Key.Key_Comma, Qt.Key.Key_Period))
        shortcut.activated.connect(lambda k=key: _press(player, k))
        made.append(shortcut)
    return made


def _press(player: PlayerWidget, key: Qt.Key) -> None:
    focus = QApplication.focusWidget()
    navigates = isinstance(focus, QAbstractItemView | QAbstractSlider | QTabBar)
    keeps_key = is_typing(focus) or (navigates and key in _NAVIGATION)
    if focus is not None and keeps_key:
        # Straight to the widget's handler: sending the event would find this shortcut again.
        text = " " if key == Qt.Key.Key_Space else ""
        press = QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier, text)
        focus.keyPressEvent(press)
        release = QKeyEvent(QEvent.Type.KeyRelease, key, Qt.KeyboardModifier.NoModifier, text)
        focus.keyReleaseEvent(release)
        return
    player.handle_key(key)
