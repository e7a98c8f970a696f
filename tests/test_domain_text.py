"""printable(): what is left of server text before it reaches a terminal or the window."""

from __future__ import annotations

import pytest

from seedance_desktop.domain.text import printable


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain words, ünïcode and 日本語", "plain words, ünïcode and 日本語"),
        ("\x1b[31mred\x1b[0m text", "red text"),
        ("\x1b[1;38;5;196mbold\x1b[m", "bold"),
        ("move\x1b[2J\x1b[Hhome", "movehome"),
        ("\x1b]0;new window title\x07after", "after"),
        ("\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("\x9b31mC1 CSI", "C1 CSI"),
        ("bell\x07 back\x08space nul\x00 del\x7f", "bell backspace nul del"),
        ("c1\x85\x8d\x9fend", "c1end"),
        ("\x1b]0;unterminated title", "0;unterminated title"),
        ("tab\tstays\nand newline", "tab\tstays\nand newline"),
        ("windows\r\nline", "windows\nline"),
        ("carriage\rreturn overwrite", "carriagereturn overwrite"),
        ("file\u202egnp.exe", "filegnp.exe"),
        ("lone escape at the end \x1b", "lone escape at the end "),
    ],
)
def test_printable_strips_escapes_and_controls(raw: str, expected: str) -> None:
    assert printable(raw) == expected


def test_one_line_form_turns_newlines_into_spaces() -> None:
    assert printable("first\nsecond\x1b[0m", keep_newlines=False) == "first second"
