"""Jobs as rows: the read model the UI sees, and every write, each one committed durably."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from seedance_desktop.domain.pricing import Estimate
from seedance_desktop.domain.shot import Shot, shot_from_json, shot_to_json
from seedance_desktop.engine.actions import ErrorKind
from seedance_desktop.engine.database import Database
from seedance_desktop.engine.states import JobState, can_move

SIMULATOR = "simulator"
FAL = "fal"


def variation_label(variation: int, variations: int, seed: int | None) -> str | None:
    """ "#2 of 3 · seed 123" for one of several variations; None for a shot queued on its own."""
    if variations <= 1:
        return None
    seed_text = f" · seed {seed}" if seed is not None else ""
    return f"#{variation} of {variations}{seed_text}"


class TransitionError(Exception):
    """A state change the state machine does not allow (a bug, or a stale action from the UI)."""


@dataclass(frozen=True)
class Job:
    """One job as its row holds it. The shot, input and result stay JSON text until first read:
    the queue of a long history is read at start, and most rows are only ever a caption."""

    id: int
    uid: str
    position: float
    state: JobState
    endpoint: str
    shot_json: str
    input_json: str | None
    attempt: int
    request_id: str | None
    status_url: str | None
    response_url: str | None
    cancel_url: str | None
    estimate: Estimate
    final_cost: float | None
    seed: int | None
    result_json: str | None
    error: str | None
    error_kind: ErrorKind | None
    retryable: bool | None
    cancel_requested: bool
    result_path: str | None
    created_at: float
    updated_at: float
    submitted_at: float | None
    completed_at: float | None
    finished_at: float | None
    batch: str | None = None  # variations queued together share it
    variation: int = 1  # this job's number among them, from 1
    variations: int = 1
    backend: str = "fal"  # "simulator" for the bundled simulator: never billed

    @cached_property
    def shot(self) -> Shot:
        return shot_from_json(json.loads(self.shot_json))

    @cached_property
    def input(self) -> dict[str, Any] | None:
        """The exact input sent to fal (once the references are uploaded)."""
        return json.loads(self.input_json) if self.input_json else None

    @cached_property
    def result(self) -> dict[str, Any] | None:
        """fal's result answer."""
        return json.loads(self.result_json) if self.result_json else None

    @property
    def simulated(self) -> bool:
        return self.backend == SIMULATOR

    @property
    def prompt(self) -> str:
        return self.shot.prompt

    @property
    def variation_label(self) -> str | None:
        return variation_label(self.variation, self.variations, self.seed)

    @classmethod
    def from_row(cls, row: Any) -> Job:
        return cls(
            id=row["id"],
            uid=row["uid"],
            position=row["position"],
            state=JobState(row["state"]),
            endpoint=row["endpoint"],
            shot_json=row["shot_json"],
            input_json=row["input_json"],
            attempt=row["attempt"],
            request_id=row["request_id"],
            status_url=row["status_url"],
            response_url=row["response_url"],
            cancel_url=row["cancel_url"],
            estimate=Estimate(row["estimate_min"], row["estimate_max"]),
            final_cost=row["final_cost"],
            seed=row["seed"],
            result_json=row["result_json"],
            error=row["error"],
            error_kind=ErrorKind.of(row["error_kind"]),
            retryable=None if row["retryable"] is None else bool(row["retryable"]),
            cancel_requested=bool(row["cancel_requested"]),
            result_path=row["result_path"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            submitted_at=row["submitted_at"],
            completed_at=row["completed_at"],
            finished_at=row["finished_at"],
            batch=row["batch"],
            variation=row["variation"],
            variations=row["variations"],
            backend=row["backend"],
        )


@dataclass(frozen=True)
class HistoryEntry:
    attempt: int
    at: float
    state: JobState
    detail: str | None


@dataclass(frozen=True)
class LogLine:
    attempt: int
    at: float
    level: str
    source: str | None
    message: str


# Columns a transition may set besides the state.
_UPDATABLE = frozenset(
    {
        "input_json",
        "request_id",
        "status_url",
        "response_url",
        "cancel_url",
        "final_cost",
        "seed",
        "result_json",
        "error",
        "error_kind",
        "retryable",
        "cancel_requested",
        "result_path",
        "submitted_at",
        "completed_at",
        "finished_at",
        "attempt",
        "position",
    }
)


class JobRepository:
    def __init__(
        self, db: Database, clock: Callable[[], float] = time.time, *, backend: str = FAL
    ) -> None:
        self.db = db
        self.clock = clock
        self.backend = backend  # recorded on every job queued or submitted through this one

    def add(
        self,
        shot: Shot,
        estimate: Estimate,
        references: Iterable[tuple[str, str, str]],
        *,
        batch: tuple[str, int, int] | None = None,
    ) -> Job:
        """Persist a new queued job; `references` are (field, sha256, original name) triples;
        `batch` is (batch id, variation number, variations) for one of several variations."""
        now = self.clock()
        batch_id, variation, variations = batch or (None, 1, 1)
        with self.db.transaction() as tx:
            last = tx.execute("SELECT max(position) FROM jobs").fetchone()[0]
            cursor = tx.execute(
                """INSERT INTO jobs (uid, position, state, endpoint, shot_json, estimate_min,
                   estimate_max, seed, created_at, updated_at, batch, variation, variations,
                   backend)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    uuid.uuid4().hex,
                    (last or 0) + 1,
                    JobState.QUEUED.value,
                    shot.endpoint.model_id,
                    json.dumps(shot_to_json(shot)),
                    estimate.min_usd,
                    estimate.max_usd,
                    shot.seed,
                    now,
                    now,
                    batch_id,
                    variation,
                    variations,
                    self.backend,
                ),
            )
            job_id = int(cursor.lastrowid or 0)
            tx.executemany(
                "INSERT INTO job_references (job_id, field, sha256, original) VALUES (?, ?, ?, ?)",
                [(job_id, field, sha, original) for field, sha, original in references],
            )
            self._history(tx, job_id, 1, JobState.QUEUED, None, now)
        return self.get(job_id)

    def get(self, job_id: int) -> Job:
        row = self.db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise KeyError(job_id)
        return Job.from_row(row)

    def find(self, job_id: int) -> Job | None:
        try:
            return self.get(job_id)
        except KeyError:
            return None

    def all(self, states: Iterable[JobState] | None = None) -> list[Job]:
        if states is None:
            rows = self.db.execute("SELECT * FROM jobs ORDER BY position").fetchall()
        else:
            wanted = [s.value for s in states]
            marks = ",".join("?" * len(wanted))
            rows = self.db.execute(
                f"SELECT * FROM jobs WHERE state IN ({marks}) ORDER BY position",  # noqa: S608
                wanted,
            ).fetchall()
        return [Job.from_row(r) for r in rows]

    def move(self, job: Job, target: JobState, *, detail: str | None = None, **changes: Any) -> Job:
        """Change a job's state (and columns) durably; the caller acts only after this returns."""
        if target is not job.state and not can_move(job.state, target):
            raise TransitionError(f"a job cannot go from {job.state} to {target}")
        unknown = set(changes) - _UPDATABLE
        if unknown:
            raise ValueError(f"not job columns: {sorted(unknown)}")
        now = self.clock()
        columns = {"state": target.value, "updated_at": now, **changes}
        if target is JobState.SUBMITTING:  # the backend that gets the request is the one to bill
            columns["backend"] = self.backend
        assignments = ", ".join(f"{name} = :{name}" for name in columns)
        with self.db.transaction() as tx:
            updated = tx.execute(
                f"UPDATE jobs SET {assignments} WHERE id = :id AND state = :expected",  # noqa: S608
                {**columns, "id": job.id, "expected": job.state.value},
            ).rowcount
            if updated != 1:
                raise TransitionError(f"job {job.id} changed underneath (expected {job.state})")
            if target is not job.state:
                attempt = int(changes.get("attempt", job.attempt))
                self._history(tx, job.id, attempt, target, detail, now)
                _record_charge(tx, job, target, changes, attempt, now)
        return self.get(job.id)

    def update(self, job: Job, **changes: Any) -> Job:
        """Change columns without a state change."""
        return self.move(job, job.state, **changes)

    def remove(self, job_id: int) -> None:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def reorder(self, ordered_ids: list[int]) -> None:
        with self.db.transaction() as tx:
            tx.executemany(
                "UPDATE jobs SET position = ? WHERE id = ?",
                [(index + 1, job_id) for index, job_id in enumerate(ordered_ids)],
            )

    def add_logs(self, job: Job, lines: Iterable[tuple[str, str | None, str]]) -> None:
        """Append (level, source, message) lines to a job's log."""
        now = self.clock()
        with self.db.transaction() as tx:
            tx.executemany(
                "INSERT INTO job_logs (job_id, attempt, at, level, source, message) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(job.id, job.attempt, now, lvl, src, msg) for lvl, src, msg in lines],
            )

    def logs(self, job_id: int) -> list[LogLine]:
        rows = self.db.execute(
            "SELECT attempt, at, level, source, message FROM job_logs WHERE job_id = ? ORDER BY id",
            (job_id,),
        ).fetchall()
        return [LogLine(*row) for row in rows]

    def history(self, job_id: int) -> list[HistoryEntry]:
        rows = self.db.execute(
            "SELECT attempt, at, state, detail FROM job_history WHERE job_id = ? ORDER BY id",
            (job_id,),
        ).fetchall()
        return [HistoryEntry(r[0], r[1], JobState(r[2]), r[3]) for r in rows]

    def references(self, job_id: int) -> list[tuple[str, str, str]]:
        """(field, sha256, original name) of a job's references."""
        rows = self.db.execute(
            "SELECT field, sha256, original FROM job_references WHERE job_id = ?", (job_id,)
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    @staticmethod
    def _history(
        tx: Any, job_id: int, attempt: int, state: JobState, detail: str | None, at: float
    ) -> None:
        tx.execute(
            "INSERT INTO job_history (job_id, attempt, at, state, detail) VALUES (?, ?, ?, ?, ?)",
            (job_id, attempt, at, state.value, detail),
        )


def _record_charge(
    tx: Any, job: Job, target: JobState, changes: dict[str, object], attempt: int, now: float
) -> None:
    """What an attempt cost, in the same transaction as its final state. A finished video counts
    at its final cost; a job that fal ran to the end (it reported COMPLETED) and that then failed
    counts at its highest estimate, since fal may have billed it. A later download of the same
    attempt replaces that estimate with the final cost."""
    final_cost = changes.get("final_cost")
    if target is JobState.DONE and isinstance(final_cost, int | float):
        usd, kind = float(final_cost), "final"
    elif target is JobState.FAILED and changes.get("completed_at", job.completed_at) is not None:
        usd, kind = job.estimate.max_usd, "failed_after_run"
    else:
        return
    at = changes.get("finished_at") or now
    tx.execute(
        "INSERT OR REPLACE INTO spend_ledger (job_id, attempt, at, usd, kind, simulated) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (job.id, attempt, at, usd, kind, int(job.simulated)),
    )
