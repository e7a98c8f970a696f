"""The look: Fusion, a dark or light palette, and a small stylesheet.

Dark by default, as the tools creatives use are; the desktop's colour scheme is followed when it
states one, and Settings → Appearance can pin Dark or Light. Qt's own colour-scheme support is told
the choice (QStyleHints.setColorScheme), and the palette is ours so every text colour is known and
keeps a contrast of at least 4.5:1 on its background in both themes (tests/ui/test_theme.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication


class Appearance(StrEnum):
    """The person's choice in Settings → Appearance."""

    SYSTEM = "system"
    DARK = "dark"
    LIGHT = "light"

    @property
    def label(self) -> str:
        return {"system": "System", "dark": "Dark", "light": "Light"}[self.value]

    @classmethod
    def parse(cls, value: object) -> Appearance:
        try:
            return cls(str(value))
        except ValueError:
            return cls.SYSTEM


@dataclass(frozen=True)
class Colours:
    """The colours of one theme; every `*_text` colour is readable on `window` and `base`."""

    dark: bool
    window: str
    base: str
    alternate: str
    raised: str  # buttons, tiles
    border: str
    text: str
    muted_text: str  # secondary lines, placeholders
    disabled_text: str
    accent: str
    accent_text: str  # text on the accent colour
    error_text: str
    warning_text: str
    reference_tag: str  # prompt tokens ([Image1]) with a filled slot


DARK = Colours(
    dark=True,
    window="#1c1d21",
    base="#26282e",  # fields and check boxes a step lighter than the window: they stand out
    alternate="#23252a",
    raised="#30333a",
    border="#4a4e58",
    text="#e8e9ed",
    muted_text="#a4a7b0",
    disabled_text="#7d808a",
    accent="#3b6fe0",
    accent_text="#ffffff",
    error_text="#ff8a80",
    warning_text="#f5c451",
    reference_tag="#8ab4ff",
)
LIGHT = Colours(
    dark=False,
    window="#f2f3f5",
    base="#ffffff",
    alternate="#f6f7f9",
    raised="#e6e8ec",
    border="#c4c8d0",
    text="#1a1b1f",
    muted_text="#5a5e68",
    disabled_text="#8a8e98",
    accent="#2a5fcc",
    accent_text="#ffffff",
    error_text="#b3261e",
    warning_text="#7a4f00",
    reference_tag="#1b5cc4",
)


def effective_dark(choice: Appearance, system: Qt.ColorScheme) -> bool:
    """Dark unless Light is chosen, or System is chosen and the desktop states Light."""
    if choice is Appearance.DARK:
        return True
    if choice is Appearance.LIGHT:
        return False
    return system is not Qt.ColorScheme.Light


def palette_for(colours: Colours) -> QPalette:
    palette = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    pairs = {
        role.Window: colours.window,
        role.WindowText: colours.text,
        role.Base: colours.base,
        role.AlternateBase: colours.alternate,
        role.ToolTipBase: colours.raised,
        role.ToolTipText: colours.text,
        role.PlaceholderText: colours.muted_text,
        role.Text: colours.text,
        role.Button: colours.raised,
        role.ButtonText: colours.text,
        role.BrightText: colours.error_text,
        role.Highlight: colours.accent,
        role.HighlightedText: colours.accent_text,
        role.Link: colours.reference_tag,
        role.LinkVisited: colours.reference_tag,
        role.Light: colours.border,
        role.Midlight: colours.raised,
        role.Mid: colours.border,
        role.Dark: colours.window,
        role.Shadow: "#000000",
    }
    for colour_role, value in pairs.items():
        palette.setColor(colour_role, QColor(value))
    for colour_role in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(group.Disabled, colour_role, QColor(colours.disabled_text))
    palette.setColor(group.Disabled, role.Highlight, QColor(colours.border))
    return palette


def stylesheet_for(colours: Colours) -> str:
    """Only what Fusion and the palette cannot say: tiles, their focus ring, the Queue button."""
    c = colours
    return f"""
QFrame#tile {{ background: {c.alternate}; border: 1px solid {c.border}; border-radius: 6px; }}
QFrame#tile[empty="true"] {{ border-style: dashed; }}
QFrame#tile:focus {{ border: 2px solid {c.accent}; }}
QLabel#tileDetails, QLabel#counters, QLabel#hint {{ color: {c.muted_text}; }}
QLabel#estimate {{ font-weight: 600; }}
QPushButton#queueButton {{
    background: {c.accent}; color: {c.accent_text}; border: 1px solid {c.accent};
    border-radius: 4px; padding: 5px 16px; font-weight: 600;
}}
QPushButton#queueButton:focus {{ border: 2px solid {c.text}; }}
QPushButton#queueButton:disabled {{
    background: {c.raised}; color: {c.disabled_text}; border-color: {c.border};
}}
QFrame#offer {{ background: {c.raised}; border: 1px solid {c.accent}; border-radius: 4px; }}
QSplitter::handle {{ background: {c.window}; }}
QSplitter::handle:hover {{ background: {c.accent}; }}
"""


class Theme(QObject):
    """Applies an Appearance to the application and re-applies it when the desktop's scheme
    changes (for System). One per application."""

    changed = Signal()

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.app = app
        self.choice = Appearance.SYSTEM
        self.colours = DARK
        app.styleHints().colorSchemeChanged.connect(self._scheme_changed)

    def apply(self, choice: Appearance) -> None:
        self.choice = choice
        hints = self.app.styleHints()
        system = Qt.ColorScheme.Unknown
        if choice is Appearance.SYSTEM:
            hints.unsetColorScheme()  # Qt follows the desktop again (and tells us when it changes)
            system = hints.colorScheme()
        dark = effective_dark(choice, system)
        self.colours = DARK if dark else LIGHT
        if choice is not Appearance.SYSTEM or system is Qt.ColorScheme.Unknown:
            # Qt's own support: native dialogs and title bars follow the choice
            hints.setColorScheme(Qt.ColorScheme.Dark if dark else Qt.ColorScheme.Light)
        self.app.setStyle("Fusion")
        self.app.setPalette(palette_for(self.colours))
        self.app.setStyleSheet(stylesheet_for(self.colours))
        self.changed.emit()

    def _scheme_changed(self, scheme: Qt.ColorScheme) -> None:
        """The desktop switched between light and dark (our own requests change nothing)."""
        if self.choice is not Appearance.SYSTEM or scheme is Qt.ColorScheme.Unknown:
            return
        if (scheme is Qt.ColorScheme.Dark) is not self.colours.dark:
            self.apply(Appearance.SYSTEM)


_theme: Theme | None = None


def theme() -> Theme:
    """The application's theme (created, dark, on first use)."""
    global _theme
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    if _theme is None or _theme.app is not app:
        _theme = Theme(app)
    return _theme


def colours() -> Colours:
    """The colours in use (dark before any theme is applied, the default)."""
    return _theme.colours if _theme is not None else DARK


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two colours."""

    def luminance(value: str) -> float:
        colour = QColor(value)
        channels = []
        for c in (colour.redF(), colour.greenF(), colour.blueF()):
            channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
        r, g, b = channels
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)
