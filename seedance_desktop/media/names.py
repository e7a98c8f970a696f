"""File names: printable ones for messages, and safe ones to write on any system (no media
libraries: cheap to import anywhere)."""

from __future__ import annotations

import os
import re
import unicodedata


def display_name(path: str | os.PathLike[str] | bytes) -> str:
    """A printable name for messages, whatever bytes the file name holds."""
    name = os.path.basename(os.fsdecode(path))  # noqa: PTH119 - bytes paths too
    return name.encode("utf-8", "backslashreplace").decode("utf-8") or "this file"


# The longest file name common file systems take (ext4, APFS, NTFS in UTF-16 units, which
# 255 UTF-8 bytes never exceed), extension included.
MAX_NAME_BYTES = 255

# Characters Windows refuses in a name (macOS Finder refuses ":" too), besides control characters.
_REFUSED = frozenset('<>:"/\\|?*')
# Names Windows reserves for devices, whatever the case and whatever follows the first dot.
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{device}{n}" for device in ("COM", "LPT") for n in "0123456789¹²³"}
)


def safe_file_stem(text: str, *, max_bytes: int, fallback: str = "untitled") -> str:
    """`text` made into a file name stem valid on Linux, Windows and macOS alike: refused and
    control characters become "-", trailing dots and spaces go, device names (CON, NUL, COM1…)
    get a leading "_", and the UTF-8 form is at most `max_bytes` long, never cut inside a
    character."""
    text = unicodedata.normalize("NFC", text)
    cleaned = "".join("-" if _refused(ch) else ch for ch in text)
    cleaned = re.sub(r"-{2,}", "-", cleaned).strip(" .-_")
    if not cleaned:
        cleaned = fallback
    # One byte is kept for the "_" a device name may need.
    cleaned = cleaned.encode("utf-8")[: max(max_bytes - 1, 1)].decode("utf-8", "ignore")
    cleaned = cleaned.rstrip(" .") or fallback
    if cleaned.split(".", 1)[0].rstrip(" ").upper() in _RESERVED:
        cleaned = f"_{cleaned}"
    return cleaned


def _refused(ch: str) -> bool:
    # Cc: control characters; Cf: invisible format characters (bidi overrides can disguise an
    # extension); Cs: lone surrogates, which no file system can store.
    return ch in _REFUSED or unicodedata.category(ch) in ("Cc", "Cf", "Cs")
