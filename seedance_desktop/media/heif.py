"""HEIC/HEIF pictures (what phones take photos in) through pillow-heif, registered once."""

from __future__ import annotations

import threading

_lock = threading.Lock()
_registered = False


def register_heif() -> bool:
    """Let Pillow open HEIC/HEIF. False when pillow-heif is not installed."""
    global _registered
    with _lock:
        if not _registered:
            try:
                from pillow_heif import register_heif_opener
            except ImportError:
                return False
            register_heif_opener()
            _registered = True
    return True
