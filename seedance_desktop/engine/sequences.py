"""Sequences: named, ordered strips of shots that make a scene, persisted in the database.

A shot is one library result (its current take) among alternates (the variations made with it, or
later takes from the same Continue/Extend), trimmed with in/out points. A result deleted from the
library stays in its sequence as a shot "whose file is gone", so the person sees what is missing
instead of a sequence that silently got shorter.

A follow-up is a Continue or Extend made from a shot: it remembers the content hash of the
reference it starts from (the shot's last frame, or the shot's video). Any result later made
from that exact reference lands right after the shot (the first one becomes a new shot, the next
ones its alternates), whatever path it took through compose, the queue or the command line.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from seedance_desktop.engine.database import Database
from seedance_desktop.engine.events import Event, EventBus, LibraryChanged, SequencesChanged
from seedance_desktop.engine.library import Library, LibraryEntry

MAX_NAME_CHARS = 80


class SequenceError(ValueError):
    """A request about sequences that cannot be done; the message is meant for the person."""


class FollowUpKind(StrEnum):
    CONTINUE = "continue"  # image to video from the shot's last frame
    EXTEND = "extend"  # reference to video with the shot as [Video1]


@dataclass(frozen=True)
class SequenceShot:
    """One shot of a sequence as it is now: its take, trim and alternates."""

    id: int
    index: int  # 0-based place in the sequence
    job_id: int  # the take in use
    takes: tuple[int, ...]  # every alternate, the one in use included, oldest first
    in_s: float
    out_s: float | None  # None: to the end of the take
    entry: LibraryEntry | None  # None when the result was deleted from the library

    @property
    def path(self) -> Path | None:
        return None if self.entry is None else self.entry.path

    @property
    def missing(self) -> bool:
        """The take's file is gone (deleted from the library, or from the disk)."""
        return self.entry is None or not self.entry.path.exists()

    @property
    def source_duration_s(self) -> float:
        return (self.entry.duration_s or 0.0) if self.entry is not None else 0.0

    @property
    def end_s(self) -> float:
        """The out point, the end of the take when none is set."""
        end = self.source_duration_s if self.out_s is None else self.out_s
        return max(self.in_s, min(end, self.source_duration_s or end))

    @property
    def duration_s(self) -> float:
        return max(0.0, self.end_s - self.in_s)

    @property
    def label(self) -> str:
        """ "Shot 2 · a fox in the snow…" for messages."""
        prompt = "" if self.entry is None else " ".join(self.entry.prompt.split())
        short = prompt if len(prompt) <= 40 else prompt[:39] + "…"
        return f"Shot {self.index + 1}" + (f" ({short})" if short else "")


@dataclass(frozen=True)
class Sequence:
    id: int
    name: str
    created_at: float
    updated_at: float
    shots: tuple[SequenceShot, ...] = field(default_factory=tuple)

    @property
    def duration_s(self) -> float:
        return sum(shot.duration_s for shot in self.shots)

    def shot(self, shot_id: int) -> SequenceShot | None:
        return next((s for s in self.shots if s.id == shot_id), None)

    def starts_s(self) -> list[float]:
        """Where each shot starts on the sequence's timeline."""
        starts, at = [], 0.0
        for shot in self.shots:
            starts.append(at)
            at += shot.duration_s
        return starts

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "duration_s": round(self.duration_s, 3),
            "shots": [
                {
                    "shot_id": s.id,
                    "result_id": s.job_id,
                    "alternates": list(s.takes),
                    "in_s": s.in_s,
                    "out_s": round(s.end_s, 3),
                    "path": None if s.path is None else str(s.path),
                    "missing": s.missing,
                }
                for s in self.shots
            ],
        }


def clean_name(name: str) -> str:
    """A sequence name as kept: spaces collapsed, not empty, not too long."""
    text = " ".join(name.split())
    if not text:
        raise SequenceError("A sequence needs a name.")
    if len(text) > MAX_NAME_CHARS:
        raise SequenceError(f"A sequence name can have at most {MAX_NAME_CHARS} characters.")
    return text


class Sequences:
    """The sequences of one library. Used on the engine's thread, like the library."""

    def __init__(
        self, db: Database, library: Library, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.library = library
        self.clock = clock

    # Reading -----------------------------------------------------------------------------------

    def all(self) -> list[Sequence]:
        rows = self.db.execute("SELECT * FROM sequences ORDER BY name COLLATE NOCASE").fetchall()
        return [self._build(row) for row in rows]

    def get(self, sequence_id: int) -> Sequence | None:
        row = self.db.execute("SELECT * FROM sequences WHERE id = ?", (sequence_id,)).fetchone()
        return self._build(row) if row else None

    def named(self, name: str) -> Sequence | None:
        row = self.db.execute(
            "SELECT * FROM sequences WHERE name = ? COLLATE NOCASE", (" ".join(name.split()),)
        ).fetchone()
        return self._build(row) if row else None

    def require(self, sequence_id: int) -> Sequence:
        sequence = self.get(sequence_id)
        if sequence is None:
            raise SequenceError("This sequence no longer exists.")
        return sequence

    def sequence_of(self, shot_id: int) -> Sequence:
        row = self.db.execute(
            "SELECT sequence_id FROM sequence_shots WHERE id = ?", (shot_id,)
        ).fetchone()
        if row is None:
            raise SequenceError("This shot is no longer in a sequence.")
        return self.require(int(row[0]))

    def _build(self, row: Any) -> Sequence:
        shots = []
        rows = self.db.execute(
            "SELECT * FROM sequence_shots WHERE sequence_id = ? ORDER BY position, id", (row["id"],)
        ).fetchall()
        for index, shot in enumerate(rows):
            takes = tuple(
                int(t[0])
                for t in self.db.execute(
                    "SELECT job_id FROM sequence_takes WHERE shot_id = ? ORDER BY added_at, job_id",
                    (shot["id"],),
                ).fetchall()
            )
            shots.append(
                SequenceShot(
                    id=shot["id"],
                    index=index,
                    job_id=shot["job_id"],
                    takes=takes or (shot["job_id"],),
                    in_s=shot["in_s"],
                    out_s=shot["out_s"],
                    entry=self.library.get(shot["job_id"]),
                )
            )
        return Sequence(row["id"], row["name"], row["created_at"], row["updated_at"], tuple(shots))

    # Sequences ---------------------------------------------------------------------------------

    def create(self, name: str, job_ids: list[int] | None = None) -> Sequence:
        """A new sequence, optionally with results in order (all or nothing)."""
        text = clean_name(name)
        if self.named(text) is not None:
            raise SequenceError(f"There is already a sequence named “{text}”.")
        for job_id in job_ids or []:
            self._require_result(job_id)
        now = self.clock()
        with self.db.transaction() as tx:
            cursor = tx.execute(
                "INSERT INTO sequences (name, created_at, updated_at) VALUES (?, ?, ?)",
                (text, now, now),
            )
            sequence_id = int(cursor.lastrowid or 0)
            for job_id in job_ids or []:
                self._insert_shot(tx, sequence_id, job_id, None)
        return self.require(sequence_id)

    def rename(self, sequence_id: int, name: str) -> Sequence:
        text = clean_name(name)
        other = self.named(text)
        if other is not None and other.id != sequence_id:
            raise SequenceError(f"There is already a sequence named “{text}”.")
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE sequences SET name = ?, updated_at = ? WHERE id = ?",
                (text, self.clock(), sequence_id),
            )
        return self.require(sequence_id)

    def delete(self, sequence_id: int) -> None:
        """Forget the sequence; its results stay in the library."""
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM sequences WHERE id = ?", (sequence_id,))

    # Shots -------------------------------------------------------------------------------------

    def add_shot(self, sequence_id: int, job_id: int, index: int | None = None) -> SequenceShot:
        """Put a library result in the sequence at `index` (the end when None). Its variations
        already in the library come along as alternates."""
        self.require(sequence_id)
        self._require_result(job_id)
        with self.db.transaction() as tx:
            shot_id = self._insert_shot(tx, sequence_id, job_id, index)
        shot = self.require(sequence_id).shot(shot_id)
        assert shot is not None
        return shot

    def move_shot(self, shot_id: int, index: int) -> Sequence:
        sequence = self.sequence_of(shot_id)
        order = [s.id for s in sequence.shots if s.id != shot_id]
        order.insert(max(0, min(index, len(order))), shot_id)
        with self.db.transaction() as tx:
            self._renumber(tx, sequence.id, order)
        return self.require(sequence.id)

    def remove_shot(self, shot_id: int) -> Sequence:
        sequence = self.sequence_of(shot_id)
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM sequence_shots WHERE id = ?", (shot_id,))
            self._touch(tx, sequence.id)
        return self.require(sequence.id)

    def trim(self, shot_id: int, in_s: float, out_s: float | None) -> SequenceShot:
        """Set a shot's in and out points (seconds in its take; out None is the end)."""
        sequence = self.sequence_of(shot_id)
        shot = sequence.shot(shot_id)
        assert shot is not None
        length = shot.source_duration_s
        end = length if out_s is None else out_s
        if in_s < 0 or (length and end > length + 1e-6) or end - in_s < 1 / 24 - 1e-9:
            raise SequenceError(
                f"In and out must lie within the shot ({length:.2f} s), out after in by at least "
                "one frame."
            )
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE sequence_shots SET in_s = ?, out_s = ? WHERE id = ?",
                (in_s, out_s, shot_id),
            )
            self._touch(tx, sequence.id)
        updated = self.require(sequence.id).shot(shot_id)
        assert updated is not None
        return updated

    def use_take(self, shot_id: int, job_id: int) -> SequenceShot:
        """Switch the shot to another of its alternates; the others stay. The trim is kept
        where it still fits the new take, else reset."""
        sequence = self.sequence_of(shot_id)
        shot = sequence.shot(shot_id)
        assert shot is not None
        if job_id not in shot.takes:
            raise SequenceError("That result is not one of this shot's alternates.")
        entry = self.library.get(job_id)
        length = (entry.duration_s or 0.0) if entry is not None else 0.0
        keep = shot.out_s is None or shot.out_s <= length
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE sequence_shots SET job_id = ?, in_s = ?, out_s = ? WHERE id = ?",
                (job_id, shot.in_s if keep else 0.0, shot.out_s if keep else None, shot_id),
            )
            self._touch(tx, sequence.id)
        updated = self.require(sequence.id).shot(shot_id)
        assert updated is not None
        return updated

    # Follow-ups (Continue / Extend) ------------------------------------------------------------

    def expect_follow_up(self, shot_id: int, kind: FollowUpKind, sha256: str) -> None:
        """Results made from the reference with this hash land right after `shot_id`."""
        sequence = self.sequence_of(shot_id)
        with self.db.transaction() as tx:
            tx.execute(
                """INSERT INTO sequence_follow_ups (sequence_id, after_shot_id, sha256, kind,
                   created_at) VALUES (?, ?, ?, ?, ?)""",
                (sequence.id, shot_id, sha256, kind.value, self.clock()),
            )

    def place_result(self, job_id: int) -> list[int]:
        """A result just landed in the library: place it where a follow-up or a batch of
        variations says it belongs. Returns the sequences changed (idempotent)."""
        if self.library.get(job_id) is None:
            return []
        changed: list[int] = []
        with self.db.transaction() as tx:
            follow_ups = tx.execute(
                """SELECT DISTINCT f.* FROM sequence_follow_ups f
                   JOIN job_references r ON r.sha256 = f.sha256 WHERE r.job_id = ?
                   ORDER BY f.id""",
                (job_id,),
            ).fetchall()
            for follow in follow_ups:
                if self._placed_in(tx, follow["sequence_id"], job_id):
                    continue
                target = follow["placed_shot_id"]
                alive = target is not None and self._shot_exists(tx, target)
                if alive:
                    self._add_take(tx, target, job_id)
                else:
                    index = self._index_after(tx, follow["sequence_id"], follow["after_shot_id"])
                    target = self._insert_shot(tx, follow["sequence_id"], job_id, index)
                    tx.execute(
                        "UPDATE sequence_follow_ups SET placed_shot_id = ? WHERE id = ?",
                        (target, follow["id"]),
                    )
                self._touch(tx, follow["sequence_id"])
                changed.append(int(follow["sequence_id"]))
            for shot_id, sequence_id in self._shots_of_batch(tx, job_id):
                if not self._placed_in(tx, sequence_id, job_id):
                    self._add_take(tx, shot_id, job_id)
                    changed.append(sequence_id)
        return sorted(set(changed))

    def place_landed(self) -> list[int]:
        """Place every result that landed while no window was watching (at start)."""
        rows = self.db.execute(
            """SELECT DISTINCT r.job_id FROM sequence_follow_ups f
               JOIN job_references r ON r.sha256 = f.sha256
               JOIN library l ON l.job_id = r.job_id"""
        ).fetchall()
        changed: set[int] = set()
        for row in rows:
            changed.update(self.place_result(int(row[0])))
        return sorted(changed)

    # Internals ---------------------------------------------------------------------------------

    def _require_result(self, job_id: int) -> LibraryEntry:
        entry = self.library.get(job_id)
        if entry is None:
            raise SequenceError(f"There is no result {job_id} in the library.")
        return entry

    def _insert_shot(self, tx: Any, sequence_id: int, job_id: int, index: int | None) -> int:
        order = [
            int(r[0])
            for r in tx.execute(
                "SELECT id FROM sequence_shots WHERE sequence_id = ? ORDER BY position, id",
                (sequence_id,),
            ).fetchall()
        ]
        cursor = tx.execute(
            "INSERT INTO sequence_shots (sequence_id, position, job_id) VALUES (?, ?, ?)",
            (sequence_id, len(order), job_id),
        )
        shot_id = int(cursor.lastrowid or 0)
        order.insert(len(order) if index is None else max(0, min(index, len(order))), shot_id)
        self._renumber(tx, sequence_id, order)
        for take in [job_id, *self._batch_results(tx, job_id)]:
            self._add_take(tx, shot_id, take)
        return shot_id

    def _add_take(self, tx: Any, shot_id: int, job_id: int) -> None:
        tx.execute(
            "INSERT OR IGNORE INTO sequence_takes (shot_id, job_id, added_at) VALUES (?, ?, ?)",
            (shot_id, job_id, self.clock()),
        )

    def _renumber(self, tx: Any, sequence_id: int, order: list[int]) -> None:
        for position, shot_id in enumerate(order):
            tx.execute("UPDATE sequence_shots SET position = ? WHERE id = ?", (position, shot_id))
        self._touch(tx, sequence_id)

    def _touch(self, tx: Any, sequence_id: int) -> None:
        tx.execute("UPDATE sequences SET updated_at = ? WHERE id = ?", (self.clock(), sequence_id))

    def _batch_results(self, tx: Any, job_id: int) -> list[int]:
        """The other results queued as variations together with `job_id`."""
        rows = tx.execute(
            """SELECT l.job_id FROM library l JOIN jobs j ON j.id = l.job_id
               WHERE j.batch IS NOT NULL AND j.batch = (SELECT batch FROM jobs WHERE id = ?)
               AND l.job_id != ? ORDER BY j.variation""",
            (job_id, job_id),
        ).fetchall()
        return [int(r[0]) for r in rows]

    def _shots_of_batch(self, tx: Any, job_id: int) -> list[tuple[int, int]]:
        """(shot, sequence) of shots holding a variation from the same batch as `job_id`."""
        rows = tx.execute(
            """SELECT DISTINCT s.id, s.sequence_id FROM sequence_takes t
               JOIN sequence_shots s ON s.id = t.shot_id JOIN jobs j ON j.id = t.job_id
               WHERE j.batch IS NOT NULL AND j.batch = (SELECT batch FROM jobs WHERE id = ?)""",
            (job_id,),
        ).fetchall()
        return [(int(r[0]), int(r[1])) for r in rows]

    def _placed_in(self, tx: Any, sequence_id: int, job_id: int) -> bool:
        row = tx.execute(
            """SELECT 1 FROM sequence_takes t JOIN sequence_shots s ON s.id = t.shot_id
               WHERE s.sequence_id = ? AND t.job_id = ?""",
            (sequence_id, job_id),
        ).fetchone()
        return row is not None

    def _shot_exists(self, tx: Any, shot_id: int) -> bool:
        row = tx.execute("SELECT 1 FROM sequence_shots WHERE id = ?", (shot_id,)).fetchone()
        return row is not None

    def _index_after(self, tx: Any, sequence_id: int, after_shot_id: int | None) -> int | None:
        ids = [
            int(r[0])
            for r in tx.execute(
                "SELECT id FROM sequence_shots WHERE sequence_id = ? ORDER BY position, id",
                (sequence_id,),
            ).fetchall()
        ]
        if after_shot_id in ids:
            return ids.index(after_shot_id) + 1
        return None  # the source shot was removed since: at the end


def place_results_as_they_land(sequences: Sequences, events: EventBus) -> Callable[[], None]:
    """Keep sequences up to date with the library: every result that lands is placed where a
    follow-up or its batch says; results that landed while nobody watched are placed now."""

    def on_event(event: Event) -> None:
        if isinstance(event, LibraryChanged) and event.job_id is not None:
            for sequence_id in sequences.place_result(event.job_id):
                events.emit(SequencesChanged(sequence_id))

    sequences.place_landed()
    return events.subscribe(on_event)
