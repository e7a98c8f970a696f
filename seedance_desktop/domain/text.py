"""Text that came from a server, made safe to show: no terminal escapes, no control characters.

A log line or an error detail from fal (or anything pretending to be fal) could otherwise recolour
the terminal, move the cursor, rewrite the window title or reverse the reading order of a line.
Pure: no I/O.
"""

from __future__ import annotations

import re

# ESC sequences: CSI (ESC [ … final byte), OSC/DCS/PM/APC/SOS strings (ended by BEL or ESC \), and
# the two-byte forms (ESC plus one character). Their 8-bit C1 spellings (CSI = \x9b, OSC = \x9d, …)
# are caught the same way. An unterminated string loses only its introducer, not the text after.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[\x20-\x7e]?"
)
# C0 controls except tab and newline, DEL, C1 controls, and the bidirectional overrides/isolates
# that make a line read differently from what it holds.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str, *, keep_newlines: bool = True) -> str:
    """`text` without escape sequences or control characters; tabs stay, newlines stay unless
    `keep_newlines` is False (then each becomes a space, for one-line messages)."""
    cleaned = _CONTROLS.sub("", _ESCAPES.sub("", text.replace("\r\n", "\n")))
    if not keep_newlines:
        cleaned = cleaned.replace("\n", " ")
    return cleaned
