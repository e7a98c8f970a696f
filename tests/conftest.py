"""Test set-up shared by the whole suite: headless Qt, and a private app home per test."""

from __future__ import annotations

import os
from pathlib import Path

import hypothesis  # noqa: F401 - imported before Qt tests run: its plugin otherwise imports it
import pytest  # late, at the summary, which has crashed CPython's compiler after qasync runs

# Fixtures that start the bundled simulator on a real socket.
pytest_plugins = ["sim_fixtures", "engine_fixtures", "trash_fixture"]


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    # Decided here, not at import time: pytest-xvfb sets DISPLAY in its own pytest_configure.
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own SEEDANCE_HOME and never sees a real key or fal host."""
    home = tmp_path / "seedance-home"
    monkeypatch.setenv("SEEDANCE_HOME", str(home))
    for name in (
        "FAL_KEY",
        "SEEDANCE_FAL_QUEUE_URL",
        "SEEDANCE_FAL_REST_URL",
        "SEEDANCE_FAL_CDN_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    return home
