"""The local library: every finished video with its thumbnail and metadata, searchable.

Database reads and writes happen on the engine's thread; copying files (export) is a separate,
blocking step that takes no database, for a worker thread.
"""

from __future__ import annotations

import builtins
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Any

from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.domain.shot import Shot, shot_from_json
from seedance_desktop.engine.database import Database
from seedance_desktop.engine.jobs import variation_label
from seedance_desktop.media.names import MAX_NAME_BYTES, safe_file_stem


@dataclass(frozen=True)
class LibraryEntry:
    """One library row. The settings stay JSON text until first read: a grid page of entries is
    built on the UI path, and most entries are only ever shown as a caption and a thumbnail."""

    job_id: int
    uid: str
    path: Path
    thumbnail: Path | None
    created_at: float
    mode: Mode
    endpoint: str
    prompt: str
    input_json: str
    shot_json: str
    seed: int | None
    cost_usd: float | None
    request_id: str | None
    timings_json: str
    width: int | None
    height: int | None
    duration_s: float | None
    size_bytes: int | None
    starred: bool
    batch: str | None = None  # variations queued together share it
    variation: int = 1
    variations: int = 1
    stack_size: int = 1  # results of this batch in the list (stacked listings only)

    @classmethod
    def from_row(cls, row: Any) -> LibraryEntry:
        return cls(
            job_id=row["job_id"],
            uid=row["uid"],
            path=Path(row["path"]),
            thumbnail=Path(row["thumbnail"]) if row["thumbnail"] else None,
            created_at=row["created_at"],
            mode=Mode(row["mode"]),
            endpoint=row["endpoint"],
            prompt=row["prompt"],
            input_json=row["input_json"],
            shot_json=row["shot_json"],
            seed=row["seed"],
            cost_usd=row["cost"],
            request_id=row["request_id"],
            timings_json=row["timings_json"],
            width=row["width"],
            height=row["height"],
            duration_s=row["duration_s"],
            size_bytes=row["size_bytes"],
            starred=bool(row["starred"]),
            batch=row["batch"],
            variation=row["variation"],
            variations=row["variations"],
            # sqlite3.Row: `in` looks at the values, keys() at the names
            stack_size=row["stack_size"] if "stack_size" in row.keys() else 1,  # noqa: SIM118
        )

    @property
    def variation_label(self) -> str | None:
        return variation_label(self.variation, self.variations, self.seed)

    @cached_property
    def input(self) -> dict[str, Any]:
        """The exact input sent to fal."""
        return dict(json.loads(self.input_json))

    @cached_property
    def shot(self) -> Shot:
        return shot_from_json(json.loads(self.shot_json))

    @cached_property
    def timings(self) -> dict[str, float]:
        return dict(json.loads(self.timings_json))

    def to_json(self) -> dict[str, object]:
        """Metadata for listings, exports and sidecars (no secret is ever part of an entry)."""
        return {
            "id": self.job_id,
            "path": str(self.path),
            "created_at": datetime.fromtimestamp(self.created_at).isoformat(timespec="seconds"),
            "mode": self.mode.value,
            "endpoint": self.endpoint,
            "prompt": self.prompt,
            "input": self.input,
            "seed": self.seed,
            "cost_usd": self.cost_usd,
            "request_id": self.request_id,
            "width": self.width,
            "height": self.height,
            "duration_s": self.duration_s,
            "starred": self.starred,
        }


class LibrarySort(Enum):
    DATE = "date"  # newest first
    DURATION = "duration"  # longest first
    COST = "cost"  # dearest first

    @property
    def label(self) -> str:
        return {"date": "Newest", "duration": "Longest", "cost": "Dearest"}[self.value]


_ORDER = {
    LibrarySort.DATE: "created_at DESC, job_id DESC",
    LibrarySort.DURATION: "duration_s DESC, created_at DESC, job_id DESC",  # unknown last
    LibrarySort.COST: "cost DESC, created_at DESC, job_id DESC",
}


@dataclass(frozen=True)
class LibraryFilter:
    search: str | None = None
    mode: Mode | None = None
    starred: bool | None = None
    since: float | None = None
    until: float | None = None
    limit: int | None = None
    offset: int = 0
    sort: LibrarySort = LibrarySort.DATE
    stacks: bool = False  # one entry per batch of variations (its first), with stack_size
    batch: str | None = None  # only this batch's variations


def fts_query(text: str) -> str | None:
    """Turn what a person typed into a safe FTS5 query: every word must match, as a prefix.

    Words are runs of letters and digits, as the FTS tokenizer sees them (punctuation and "_"
    separate words), so every quoted term holds at least one token. None when the text has no
    word at all; `Library.list` then matches nothing: a search of only punctuation finds
    nothing, like any search that no prompt contains."""
    words = re.findall(r"[^\W_]+", text)
    return " ".join(f'"{w}"*' for w in words) or None


class Library:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def add(self, tx: Any, entry: dict[str, Any]) -> None:
        """Insert one entry inside the caller's transaction (the job's `done` is the same one)."""
        tx.execute(
            """INSERT OR REPLACE INTO library (job_id, uid, path, thumbnail, created_at, mode,
               endpoint, prompt, input_json, shot_json, seed, cost, request_id, timings_json,
               width, height, duration_s, size_bytes, batch, variation, variations)
               VALUES (:job_id, :uid, :path, :thumbnail, :created_at, :mode, :endpoint, :prompt,
               :input_json, :shot_json, :seed, :cost, :request_id, :timings_json, :width, :height,
               :duration_s, :size_bytes,
               (SELECT batch FROM jobs WHERE id = :job_id),
               coalesce((SELECT variation FROM jobs WHERE id = :job_id), 1),
               coalesce((SELECT variations FROM jobs WHERE id = :job_id), 1))""",
            entry,
        )

    def get(self, job_id: int) -> LibraryEntry | None:
        row = self.db.execute(
            "SELECT * FROM library WHERE job_id = ? AND deleted_at IS NULL", (job_id,)
        ).fetchone()
        return LibraryEntry.from_row(row) if row else None

    def list(self, where: LibraryFilter | None = None) -> list[LibraryEntry]:
        where = where or LibraryFilter()
        clauses: list[str] = ["deleted_at IS NULL"]
        params: list[Any] = []
        if where.search and where.search.strip():
            query = fts_query(where.search)
            if query is None:  # only punctuation: no prompt can match it
                return []
            # "+job_id": walk the sort order's index and stop at a page of hits, rather than
            # fetch and sort every hit (a common word in 100,000 prompts: 10,000 rows).
            clauses.append("+job_id IN (SELECT rowid FROM library_fts WHERE library_fts MATCH ?)")
            params.append(query)
        if where.mode is not None:
            clauses.append("mode = ?")
            params.append(where.mode.value)
        if where.starred is not None:
            clauses.append("starred = ?")
            params.append(int(where.starred))
        if where.since is not None:
            clauses.append("created_at >= ?")
            params.append(where.since)
        if where.until is not None:
            clauses.append("created_at < ?")
            params.append(where.until)
        if where.batch is not None:
            clauses.append("batch = ?")
            params.append(where.batch)
        columns = "*"
        if where.stacks:
            # The first variation left stands for its batch; the others are counted in it.
            same_batch = "FROM library AS v WHERE v.batch = library.batch AND v.deleted_at IS NULL"
            clauses.append(f"(batch IS NULL OR variation = (SELECT min(v.variation) {same_batch}))")
            columns = f"*, CASE WHEN batch IS NULL THEN 1 ELSE (SELECT count(*) {same_batch}) END"
            columns += " AS stack_size"
        where_sql = " AND ".join(clauses)  # fixed text; every value is a parameter
        sql = f"SELECT {columns} FROM library WHERE {where_sql}"  # noqa: S608
        sql += " ORDER BY " + _ORDER[where.sort]
        if where.limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [where.limit, where.offset]
        return [LibraryEntry.from_row(r) for r in self.db.execute(sql, tuple(params)).fetchall()]

    def count(self) -> int:
        query = "SELECT count(*) FROM library WHERE deleted_at IS NULL"
        return int(self.db.execute(query).fetchone()[0])

    def star(self, job_id: int, starred: bool = True) -> None:
        with self.db.transaction() as tx:
            tx.execute("UPDATE library SET starred = ? WHERE job_id = ?", (int(starred), job_id))

    def delete(self, job_id: int) -> None:
        """Remove the entry and its files (the UI asks for confirmation first)."""
        entry = self.get(job_id)
        if entry is None:
            return
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM library WHERE job_id = ?", (job_id,))
        for path in (entry.path, entry.thumbnail):
            if path is not None:
                path.unlink(missing_ok=True)

    def hide(self, job_ids: Sequence[int]) -> builtins.list[int]:
        """Take results out of every listing at once, files kept until `purge` (an undoable
        delete). Returns the ids that were shown."""
        now = self.clock()
        hidden: builtins.list[int] = []
        with self.db.transaction() as tx:
            for job_id in job_ids:
                cursor = tx.execute(
                    "UPDATE library SET deleted_at = ? WHERE job_id = ? AND deleted_at IS NULL",
                    (now, job_id),
                )
                if cursor.rowcount:
                    hidden.append(job_id)
        return hidden

    def unhide(self, job_ids: Sequence[int]) -> None:
        with self.db.transaction() as tx:
            for job_id in job_ids:
                tx.execute("UPDATE library SET deleted_at = NULL WHERE job_id = ?", (job_id,))

    def hidden(self) -> builtins.list[LibraryEntry]:
        rows = self.db.execute("SELECT * FROM library WHERE deleted_at IS NOT NULL").fetchall()
        return [LibraryEntry.from_row(r) for r in rows]

    def purge(self, trash: Callable[[Path], None]) -> builtins.list[Path]:
        """Send hidden results' videos to the system trash (`trash`) and forget them; their
        thumbnails and filmstrips are our cache and are just removed. Blocking. A video the
        trash refuses stays hidden, to try again at the next purge."""
        trashed: builtins.list[Path] = []
        for entry in self.hidden():
            try:
                if entry.path.exists():
                    trash(entry.path)
                    trashed.append(entry.path)
            except OSError:
                continue
            for extra in (entry.thumbnail, filmstrip_path(entry)):
                if extra is not None:
                    extra.unlink(missing_ok=True)
            with self.db.transaction() as tx:
                tx.execute("DELETE FROM library WHERE job_id = ?", (entry.job_id,))
        return trashed

    def reuse(self, job_id: int) -> Shot:
        """The entry's settings as a ready shot, references taken from the reference store."""
        entry = self.get(job_id)
        if entry is None:
            raise KeyError(job_id)
        return entry.shot

    def references(self, job_id: int) -> builtins.list[dict[str, str]]:
        rows = self.db.execute(
            """SELECT r.field, r.original, b.path FROM job_references r
               LEFT JOIN blobs b ON b.sha256 = r.sha256 WHERE r.job_id = ?""",
            (job_id,),
        ).fetchall()
        return [{"field": r[0], "original": r[1], "stored": r[2] or ""} for r in rows]


def move_to_trash(path: Path) -> None:
    """The system trash (the desktop's own, where the person can restore from)."""
    from send2trash import send2trash

    send2trash(str(path))


def filmstrip_path(entry: LibraryEntry) -> Path | None:
    """Where a result's hover-scrub filmstrip is kept: beside its thumbnail."""
    if entry.thumbnail is None:
        return None
    return entry.thumbnail.with_name(entry.thumbnail.stem + ".strip.jpg")


def continue_shot(last_frame: Path, source: LibraryEntry) -> Shot:
    """An image-to-video shot that starts where `source` ended."""
    base = source.shot
    return Shot(
        mode=Mode.IMAGE_TO_VIDEO,
        fast=base.fast,
        prompt="",
        resolution=base.resolution,
        duration=base.duration,
        aspect_ratio=base.aspect_ratio,
        generate_audio=base.generate_audio,
        end_user_id=base.end_user_id,
        start_image=str(last_frame),
    )


# --- export --------------------------------------------------------------------------------------

DEFAULT_TEMPLATE = "{date}_{mode}_{seed}_{prompt}"
# Room left in a name for the longest counter _claim adds (" (9999)") and the longer of the two
# extensions written (".json" for the sidecar, ".mp4" for the video).
EXPORT_STEM_BYTES = MAX_NAME_BYTES - len(" (9999)") - len(".json")
_TEMPLATE_FIELDS = ("date", "time", "mode", "tier", "seed", "prompt", "id", "resolution")


class TemplateError(ValueError):
    pass


def export_name(entry: LibraryEntry, template: str = DEFAULT_TEMPLATE) -> str:
    """A file name (without extension) from a naming template; safe on every file system."""
    moment = datetime.fromtimestamp(entry.created_at)
    words = re.findall(r"\w+", entry.prompt)[:6]
    values = {
        "date": moment.strftime("%Y-%m-%d"),
        "time": moment.strftime("%H%M%S"),
        "mode": entry.mode.value,
        "tier": "fast" if "/fast/" in entry.endpoint else "standard",
        "seed": "" if entry.seed is None else str(entry.seed),
        "prompt": "-".join(words).lower() or "untitled",
        "id": entry.uid[:8],
        "resolution": str(entry.input.get("resolution", "720p")),
    }
    try:
        name = template.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        raise TemplateError(
            f"The naming template “{template}” is not valid; it can use "
            + ", ".join("{" + f + "}" for f in _TEMPLATE_FIELDS)
        ) from exc
    return safe_file_stem(name, max_bytes=EXPORT_STEM_BYTES, fallback=f"seedance-{entry.uid[:8]}")


def sidecar(entry: LibraryEntry, references: Sequence[dict[str, str]]) -> dict[str, object]:
    data = {**entry.to_json(), "references": [r["original"] for r in references]}
    fits = entry.shot.fits
    if fits:  # what was sent was made from these originals: the range and transform of each
        data["fitted"] = [record.to_json() for record in fits]
    return data


@dataclass(frozen=True)
class ExportItem:
    source: Path
    name: str
    sidecar: dict[str, object] | None


def export_files(items: Sequence[ExportItem], folder: Path) -> list[Path]:
    """Copy each video into `folder` under its name, never overwriting. Blocking."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for item in items:
        target = _claim(folder, item.name, item.source.suffix or ".mp4")
        try:
            with item.source.open("rb") as src, target.open("r+b") as out:
                shutil.copyfileobj(src, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
            if item.sidecar is not None:
                side = target.with_suffix(".json")
                with side.open("x", encoding="utf-8") as out:
                    json.dump(item.sidecar, out, indent=2, ensure_ascii=False)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        written.append(target)
    return written


def _claim(folder: Path, name: str, suffix: str) -> Path:
    """Create an empty file with a name nobody has (exclusive create: no race, no overwrite)."""
    for counter in range(1, 10_000):
        stem = name if counter == 1 else f"{name} ({counter})"
        candidate = folder / f"{stem}{suffix}"
        if candidate.with_suffix(".json").exists():
            continue
        try:
            candidate.open("xb").close()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"too many files named {name} in {folder}")
