"""Prompt reference tokens: `[Image1]`, `[Video2]`, `[Audio1]` (and fal's newer `@Image1` spelling).

A token names a reference by its position in its list, so reordering or removing slots must renumber
the prompt. A token whose slot was removed becomes `[Image?]`, which stays visible and is flagged,
rather than silently pointing at whatever slot now has that number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from seedance_desktop.domain.media_info import MediaKind

_KIND_WORDS = {MediaKind.IMAGE: "Image", MediaKind.VIDEO: "Video", MediaKind.AUDIO: "Audio"}
_WORD_KINDS = {word.lower(): kind for kind, word in _KIND_WORDS.items()}

TOKEN_PATTERN = re.compile(
    r"\[(?P<bkind>image|video|audio)(?P<bnum>\d{1,3}|\?)\]"
    r"|(?<![\w])@(?P<akind>image|video|audio)(?P<anum>\d{1,3})(?![\w])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Token:
    kind: MediaKind
    number: int | None  # 1-based; None for an orphan `[Image?]`
    start: int
    end: int
    text: str

    @property
    def canonical(self) -> str:
        return token_text(self.kind, self.number)


def token_text(kind: MediaKind, number: int | None) -> str:
    """The bracket form the app writes: `[Image1]`, or `[Image?]` for a removed slot."""
    return f"[{_KIND_WORDS[kind]}{'?' if number is None else number}]"


def find_tokens(prompt: str) -> list[Token]:
    tokens = []
    for match in TOKEN_PATTERN.finditer(prompt):
        word = match.group("bkind") or match.group("akind")
        digits = match.group("bnum") or match.group("anum")
        number = None if digits == "?" else int(digits)
        tokens.append(
            Token(_WORD_KINDS[word.lower()], number, match.start(), match.end(), match.group(0))
        )
    return tokens


def unmatched_tokens(prompt: str, filled: Mapping[MediaKind, int]) -> list[Token]:
    """Tokens that name no filled slot (`filled` counts the filled slots of each kind)."""
    return [
        t
        for t in find_tokens(prompt)
        if t.number is None or not 1 <= t.number <= filled.get(t.kind, 0)
    ]


def renumber(prompt: str, kind: MediaKind, new_numbers: Mapping[int, int | None]) -> str:
    """Rewrite the tokens of one kind after its slots moved.

    `new_numbers` maps an old 1-based position to its new one, or to None when that slot was
    removed. Positions not in the mapping keep their number. Rewritten tokens use the bracket form.
    """
    pieces: list[str] = []
    cursor = 0
    for token in find_tokens(prompt):
        if token.kind is not kind or token.number is None or token.number not in new_numbers:
            continue
        pieces.append(prompt[cursor : token.start])
        pieces.append(token_text(kind, new_numbers[token.number]))
        cursor = token.end
    pieces.append(prompt[cursor:])
    return "".join(pieces)


def moves_for_order(old_order: list[int], old_count: int) -> dict[int, int | None]:
    """Mapping for `renumber` from a new slot order given as old 1-based positions.

    With `old_count=3`, `[3, 1]` means: the old third slot is now first, the old first is second,
    and the old second was removed.
    """
    mapping: dict[int, int | None] = dict.fromkeys(range(1, old_count + 1))
    mapping.update({old: new for new, old in enumerate(old_order, start=1)})
    return mapping
