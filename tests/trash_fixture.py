"""A private system trash for tests: Send2Trash writes to $XDG_DATA_HOME/Trash, read once at
its import, so the test points it at a temporary folder (on the same disk as the test's files,
so nothing lands in a volume's shared trash)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def private_trash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from send2trash import plat_other

    data = tmp_path / "xdg-data"
    data.mkdir()
    monkeypatch.setattr(plat_other, "XDG_DATA_HOME", bytes(data))
    monkeypatch.setattr(plat_other, "HOMETRASH_B", bytes(data / "Trash"))
    monkeypatch.setattr(plat_other, "HOMETRASH", str(data / "Trash"))
    return data / "Trash" / "files"
