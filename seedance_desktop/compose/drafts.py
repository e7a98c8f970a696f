"""Drafts: each tab's shot on disk, saved within a second of the last edit, restored at start.

One JSON file per mode under the data folder (`AppPaths.drafts`), written atomically (a temp file
in the same folder, fsync, `os.replace`, fsync of the folder), so a killed process leaves either the
old draft or the new one, never half of one. A draft holds reference file paths; a file that has
since gone is not an error here: the probe says so, and the tab lists it as a problem.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from seedance_desktop.compose.model import Change, ComposeModel
from seedance_desktop.compose.observable import Event
from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.domain.shot import Shot, shot_from_json, shot_to_json

log = logging.getLogger(__name__)

DRAFT_VERSION = 1
QUIET_S = 0.3  # save this long after the last edit …
LIMIT_S = 1.0  # … but never later than this after the first unsaved one (steady typing)


@dataclass(frozen=True)
class Draft:
    shot: Shot
    variations: int = 1
    history: tuple[Shot, ...] = ()  # shots replaced by loads, for "Undo load"

    def to_json(self) -> dict[str, object]:
        return {
            "version": DRAFT_VERSION,
            "shot": shot_to_json(self.shot),
            "variations": self.variations,
            "history": [shot_to_json(s) for s in self.history],
        }

    @classmethod
    def from_json(cls, data: object) -> Draft:
        """Raises ValueError for anything that is not a draft."""
        if not isinstance(data, dict):
            raise ValueError("not a draft")
        if "shot" not in data:  # the first drafts were a bare shot
            return cls(shot_from_json(data))
        shot = data["shot"]
        history = data.get("history", [])
        variations = data.get("variations", 1)
        if not isinstance(shot, dict) or not isinstance(history, list):
            raise ValueError("not a draft")
        return cls(
            shot_from_json(shot),
            variations if isinstance(variations, int) else 1,
            tuple(shot_from_json(s) for s in history if isinstance(s, dict)),
        )


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a crash at any moment leaves the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        Path(temp).replace(path)  # os.replace: atomic on one file system
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    try:  # the rename itself survives a power cut only once the folder is synced
        folder = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(folder)
    except OSError:
        pass
    finally:
        os.close(folder)


class DraftStore:
    """The draft files: `<mode>.json` per tab and `session.json` for the tab last shown."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, mode: Mode) -> Path:
        return self.folder / f"{mode.value}.json"

    def save(self, mode: Mode, draft: Draft) -> None:
        write_atomically(self.path(mode), json.dumps(draft.to_json(), indent=1))

    def load(self, mode: Mode) -> Draft | None:
        """The saved draft, or None. A damaged file is set aside (never overwritten) and logged."""
        path = self.path(mode)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot read the draft %s: %s", path.name, exc)
            return None
        try:
            draft = Draft.from_json(json.loads(text))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            log.warning("setting aside a damaged draft %s: %s", path.name, exc)
            path.replace(path.with_suffix(".damaged"))
            return None
        if draft.shot.mode is not mode:
            log.warning("ignoring the draft %s: it holds a %s shot", path.name, draft.shot.mode)
            return None
        return draft

    def save_current(self, mode: Mode) -> None:
        write_atomically(self.folder / "session.json", json.dumps({"current": mode.value}))

    def load_current(self) -> Mode | None:
        try:
            data = json.loads((self.folder / "session.json").read_text(encoding="utf-8"))
            return Mode(data["current"])
        except (OSError, ValueError, KeyError, TypeError):
            return None


def save_delay(now: float, first_unsaved: float, last_change: float) -> float:
    """Seconds from `now` until the save: a quiet moment after the last edit, and at most
    LIMIT_S after the first unsaved one, so steady typing is saved too."""
    due = min(last_change + QUIET_S, first_unsaved + LIMIT_S)
    return max(0.0, due - now)


class DraftKeeper:
    """Watches the models and saves their drafts. Qt-free: the caller owns the timer.

    `schedule(seconds)` must (re)arm one timer that calls `flush()` after that long.
    """

    def __init__(
        self,
        store: DraftStore,
        models: Mapping[Mode, ComposeModel],
        schedule: Callable[[float], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.models = dict(models)
        self.schedule = schedule
        self.clock = clock
        self.failed: Event[str] = Event()  # a message for the person
        self._dirty: set[Mode] = set()
        self._first_unsaved: float | None = None
        self._restoring = False
        for mode, model in self.models.items():
            model.changed.connect(self._watcher(mode))

    @property
    def unsaved(self) -> frozenset[Mode]:
        return frozenset(self._dirty)

    def restore(self) -> Mode | None:
        """Fill every model from its draft; returns the tab that was shown last, if known."""
        self._restoring = True
        try:
            for mode, model in self.models.items():
                draft = self.store.load(mode)
                if draft is not None:
                    model.restore(draft.shot, variations=draft.variations, history=draft.history)
        finally:
            self._restoring = False
        return self.store.load_current()

    def flush(self) -> None:
        """Write every unsaved draft now."""
        for mode in sorted(self._dirty):
            model = self.models[mode]
            try:
                self.store.save(mode, Draft(model.shot, model.variations, model.history))
            except OSError as exc:
                log.error("could not save the %s draft: %s", mode.value, exc)
                self.failed.emit(f"The draft could not be saved: {exc.strerror or exc}.")
                return  # stays unsaved; the next edit tries again
            self._dirty.discard(mode)
        self._first_unsaved = None

    def remember_current(self, mode: Mode) -> None:
        try:
            self.store.save_current(mode)
        except OSError as exc:
            log.warning("could not remember the current tab: %s", exc)

    def _watcher(self, mode: Mode) -> Callable[[Change], None]:
        return lambda change: self._changed(mode, change)

    def _changed(self, mode: Mode, change: Change) -> None:
        if self._restoring or not change.edits_the_shot:
            return
        now = self.clock()
        self._dirty.add(mode)
        if self._first_unsaved is None:
            self._first_unsaved = now
        self.schedule(save_delay(now, self._first_unsaved, now))
