"""Binding the Qt-free compose model's events to widgets (krita-ai-diffusion's `bind()` idea)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QObject

from seedance_desktop.compose.observable import Event

T = TypeVar("T")


def bind(event: Event[T], receiver: QObject, callback: Callable[[T], None]) -> None:
    """Call `callback` on every `event` while `receiver` lives; disconnect when it is destroyed,
    so a model that outlives its widgets never calls into a deleted one."""
    disconnect = event.connect(callback)
    receiver.destroyed.connect(lambda *_: disconnect())
