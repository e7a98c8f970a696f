"""Settings kept in the database as JSON values (never a secret: the key lives in the keychain)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

from seedance_desktop.engine.database import Database


class SettingsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, key: str, default: object = None) -> object:
        row = self.db.execute("SELECT value_json FROM settings WHERE key = ?", (key,)).fetchone()
        if row is None:
            return default
        try:
            return json.loads(row[0])
        except ValueError:
            return default

    def set(self, key: str, value: object) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO settings (key, value_json) VALUES (?, ?)",
                (key, json.dumps(value)),
            )


T = TypeVar("T", bound="DataclassInstance")


def _load(cls: type[T], store: SettingsStore, key: str) -> T:
    """A settings dataclass from its saved JSON; unknown or broken values fall back to defaults."""
    saved = store.get(key, {})
    known = {f.name for f in fields(cls)}
    values = {k: v for k, v in saved.items() if k in known} if isinstance(saved, dict) else {}
    try:
        return cls(**values)
    except TypeError:
        return cls()


@dataclass
class EngineSettings:
    max_in_flight: int = 2  # fal's limit of running requests for new accounts
    max_uploads: int = 3
    max_downloads: int = 2
    budget_month_usd: float | None = None
    paused: bool = False
    library_dir: str | None = None  # None: the library folder in the data folder

    @classmethod
    def load(cls, store: SettingsStore) -> EngineSettings:
        return _load(cls, store, "engine")

    def save(self, store: SettingsStore) -> None:
        store.set("engine", asdict(self))


@dataclass
class AppPreferences:
    """What the window remembers besides the engine: the person's choices, no secrets."""

    backend: str = "auto"  # "auto" (fal with a key, else the simulator) or "simulator"
    export_template: str = "{date}_{mode}_{seed}_{prompt}"
    export_sidecar: bool = True
    notifications: bool = True

    @classmethod
    def load(cls, store: SettingsStore) -> AppPreferences:
        return _load(cls, store, "app")

    def save(self, store: SettingsStore) -> None:
        store.set("app", asdict(self))
