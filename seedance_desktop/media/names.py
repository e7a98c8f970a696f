"""Printable file names for messages (no media libraries: cheap to import anywhere)."""

from __future__ import annotations

import os


def display_name(path: str | os.PathLike[str] | bytes) -> str:
    """A printable name for messages, whatever bytes the file name holds."""
    name = os.path.basename(os.fsdecode(path))  # noqa: PTH119 - bytes paths too
    return name.encode("utf-8", "backslashreplace").decode("utf-8") or "this file"
