"""Where Seedance Desktop keeps things. The one module that knows every path.

platformdirs gives the usual per-user folders; `SEEDANCE_HOME` puts everything under one folder
instead (tests, portable installs).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "seedance-desktop"


@dataclass(frozen=True)
class AppPaths:
    data: Path
    cache: Path
    config: Path
    logs: Path

    @property
    def database(self) -> Path:
        return self.data / "seedance.sqlite3"

    @property
    def library(self) -> Path:
        return self.data / "library"

    @property
    def reference_store(self) -> Path:
        return self.data / "references"

    @property
    def fitted(self) -> Path:
        """Reference files fitted to fal's limits, named by source and settings (media/fit.py)."""
        return self.data / "fitted"

    @property
    def drafts(self) -> Path:
        """What each compose tab holds, saved as it is edited (see compose/drafts.py)."""
        return self.data / "drafts"

    @property
    def pasted(self) -> Path:
        """Pictures pasted into compose as image data, kept as PNGs (drafts refer to them)."""
        return self.data / "pasted"

    @property
    def thumbnails(self) -> Path:
        return self.cache / "thumbnails"

    @property
    def simulator_data(self) -> Path:
        return self.cache / "simulator"

    def ensure(self) -> AppPaths:
        for folder in (self.data, self.cache, self.config, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def app_paths() -> AppPaths:
    home = os.environ.get("SEEDANCE_HOME")
    if home:
        root = Path(home).expanduser()
        return AppPaths(root / "data", root / "cache", root / "config", root / "logs")
    return AppPaths(
        Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )
