"""The SQLite database: the one module that owns the schema and its migrations.

WAL mode with `synchronous=NORMAL`: a commit is in the write-ahead log when it returns, so a
killed or crashed process loses no committed transition, and the commit itself never waits for
the disk on the window's loop. What must also survive a power cut (a job about to be submitted:
that is what keeps a paid job from being submitted twice) is made durable with `sync_to_disk()`
in a worker thread before the engine acts on it. Foreign keys on. A database file that SQLite
cannot read is moved aside with a timestamp and a new one is created, with a message for the
person; it never becomes a crash loop.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SCHEMA_VERSION = 5

_V1 = """
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    position REAL NOT NULL,
    state TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    shot_json TEXT NOT NULL,
    input_json TEXT,
    attempt INTEGER NOT NULL DEFAULT 1,
    request_id TEXT,
    status_url TEXT,
    response_url TEXT,
    cancel_url TEXT,
    estimate_min REAL NOT NULL,
    estimate_max REAL NOT NULL,
    final_cost REAL,
    seed INTEGER,
    result_json TEXT,
    error TEXT,
    error_kind TEXT,
    retryable INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    result_path TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    submitted_at REAL,
    completed_at REAL,
    finished_at REAL
);
CREATE INDEX jobs_by_state ON jobs (state, position);

CREATE TABLE job_history (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    at REAL NOT NULL,
    state TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX job_history_by_job ON job_history (job_id, id);

CREATE TABLE job_logs (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    at REAL NOT NULL,
    level TEXT NOT NULL,
    source TEXT,
    message TEXT NOT NULL
);
CREATE INDEX job_logs_by_job ON job_logs (job_id, id);

CREATE TABLE job_references (
    job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    field TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES blobs (sha256),
    original TEXT NOT NULL,
    PRIMARY KEY (job_id, field)
);

CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    added_at REAL NOT NULL
);

CREATE TABLE uploads (
    sha256 TEXT NOT NULL,
    origin TEXT NOT NULL,
    url TEXT NOT NULL,
    uploaded_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (sha256, origin)
);

CREATE TABLE library (
    job_id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL,
    path TEXT NOT NULL,
    thumbnail TEXT,
    created_at REAL NOT NULL,
    mode TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    prompt TEXT NOT NULL,
    input_json TEXT NOT NULL,
    shot_json TEXT NOT NULL,
    seed INTEGER,
    cost REAL,
    request_id TEXT,
    timings_json TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    duration_s REAL,
    size_bytes INTEGER,
    starred INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX library_by_date ON library (created_at);

CREATE VIRTUAL TABLE library_fts USING fts5 (
    prompt, content = 'library', content_rowid = 'job_id', tokenize = 'unicode61'
);
CREATE TRIGGER library_fts_insert AFTER INSERT ON library BEGIN
    INSERT INTO library_fts (rowid, prompt) VALUES (new.job_id, new.prompt);
END;
CREATE TRIGGER library_fts_delete AFTER DELETE ON library BEGIN
    INSERT INTO library_fts (library_fts, rowid, prompt) VALUES ('delete', old.job_id, old.prompt);
END;

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value_json TEXT NOT NULL
);
"""

# Which backend ran each job ("fal" for fal and compatible servers, "simulator" for the bundled
# one: never billed), and a ledger of what each attempt cost. The ledger has no foreign key on
# purpose: removing a job from the queue, or retrying it, does not take back money spent.
_V2 = """
ALTER TABLE jobs ADD COLUMN backend TEXT NOT NULL DEFAULT 'fal';

CREATE TABLE spend_ledger (
    job_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    at REAL NOT NULL,
    usd REAL NOT NULL,
    kind TEXT NOT NULL,
    simulated INTEGER NOT NULL,
    PRIMARY KEY (job_id, attempt)
);
CREATE INDEX spend_ledger_by_time ON spend_ledger (at);

INSERT INTO spend_ledger (job_id, attempt, at, usd, kind, simulated)
    SELECT id, attempt, finished_at, final_cost, 'final', 0 FROM jobs
    WHERE final_cost IS NOT NULL AND finished_at IS NOT NULL;
"""

# Variations of one queued shot share a batch: the queue and the library show "#2 of 3".
_V3 = """
ALTER TABLE jobs ADD COLUMN batch TEXT;
ALTER TABLE jobs ADD COLUMN variation INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN variations INTEGER NOT NULL DEFAULT 1;
"""

# The library groups the variations of one queued shot as a stack (the batch copied from the
# job, which may be removed from the queue), sorts by length and cost, and hides deleted results
# until their files are in the system trash (so a delete can be undone).
_V4 = """
ALTER TABLE library ADD COLUMN batch TEXT;
ALTER TABLE library ADD COLUMN variation INTEGER NOT NULL DEFAULT 1;
ALTER TABLE library ADD COLUMN variations INTEGER NOT NULL DEFAULT 1;
ALTER TABLE library ADD COLUMN deleted_at REAL;
UPDATE library SET
    batch = (SELECT batch FROM jobs WHERE jobs.id = library.job_id),
    variation = coalesce((SELECT variation FROM jobs WHERE jobs.id = library.job_id), 1),
    variations = coalesce((SELECT variations FROM jobs WHERE jobs.id = library.job_id), 1);
CREATE INDEX library_by_batch ON library (batch, variation);
CREATE INDEX library_by_duration ON library (duration_s);
CREATE INDEX library_by_cost ON library (cost);
"""

# Sequences: named, ordered strips of shots. Each shot uses one take (a library result) among its
# alternates, trimmed with in/out points in seconds (out NULL: to the end). A follow-up is a
# Continue or Extend made from a shot: the result whose reference (the shot's last frame, or
# the shot itself) has that content hash lands right after it. Results are referenced by job id
# with no foreign key: a deleted result stays in its sequence and is reported, never dropped.
_V5 = """
CREATE TABLE sequences (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);

CREATE TABLE sequence_shots (
    id INTEGER PRIMARY KEY,
    sequence_id INTEGER NOT NULL REFERENCES sequences (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    job_id INTEGER NOT NULL,
    in_s REAL NOT NULL DEFAULT 0,
    out_s REAL
);
CREATE INDEX sequence_shots_by_sequence ON sequence_shots (sequence_id, position);

CREATE TABLE sequence_takes (
    shot_id INTEGER NOT NULL REFERENCES sequence_shots (id) ON DELETE CASCADE,
    job_id INTEGER NOT NULL,
    added_at REAL NOT NULL,
    PRIMARY KEY (shot_id, job_id)
);

CREATE TABLE sequence_follow_ups (
    id INTEGER PRIMARY KEY,
    sequence_id INTEGER NOT NULL REFERENCES sequences (id) ON DELETE CASCADE,
    after_shot_id INTEGER,
    sha256 TEXT NOT NULL,
    kind TEXT NOT NULL,
    placed_shot_id INTEGER,
    created_at REAL NOT NULL
);
"""

# Migration n takes the schema from version n - 1 to n. Append, never edit a released one.
MIGRATIONS: dict[int, str] = {1: _V1, 2: _V2, 3: _V3, 4: _V4, 5: _V5}


class DatabaseError(Exception):
    """The database could not be opened or written; the message is meant for the person."""


@dataclass(frozen=True)
class OpenReport:
    """What opening found: where a damaged file was moved, if it was."""

    recovered_from: Path | None = None

    @property
    def message(self) -> str | None:
        if self.recovered_from is None:
            return None
        return (
            "The job database was damaged and could not be read. It was kept as "
            f"{self.recovered_from.name} and a new, empty one was created. Videos already in the "
            "library folder are still there."
        )


class Database:
    """A connection used from one thread (the engine's event loop thread)."""

    def __init__(self, connection: sqlite3.Connection, path: Path, report: OpenReport) -> None:
        self.connection = connection
        self.path = path
        self.report = report

    @classmethod
    def open(cls, path: Path, *, clock: Callable[[], float] = time.time) -> Database:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = _connect_and_migrate(path)
            return cls(connection, path, OpenReport())
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and not _looks_damaged(exc):
                raise DatabaseError(f"The job database could not be opened: {exc}.") from exc
            aside = _move_aside(path, clock())
            log.warning("damaged database moved to %s: %s", aside.name, exc)
            connection = _connect_and_migrate(path)
            return cls(connection, path, OpenReport(recovered_from=aside))

    @classmethod
    def open_read_only(cls, path: Path) -> Database | None:
        """For commands that only read (`queue list`, `library list/export`): no migration, no
        writes, no moving a damaged file aside under the owner's feet. None when there is no
        database yet (nothing was ever queued)."""
        if not path.exists():
            return None
        try:
            connection = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
            )
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA busy_timeout=5000")
            version = connection.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"The job database could not be read: {exc}.") from exc
        if version != SCHEMA_VERSION:
            connection.close()
            raise DatabaseError(
                "The job database is from another version of Seedance Desktop; open the app "
                "once to bring it up to date."
            )
        return cls(connection, path, OpenReport())

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic, durable write. Nested use joins the outer transaction."""
        if self.connection.in_transaction:
            yield self.connection
            return
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield self.connection
        except BaseException:
            self.connection.rollback()
            raise
        self.connection.commit()

    def execute(
        self, sql: str, params: Sequence[object] | Mapping[str, object] = ()
    ) -> sqlite3.Cursor:
        return self.connection.execute(sql, params)

    def sync_to_disk(self) -> None:
        """Make every transaction committed so far survive a power cut. Blocking (it waits for the
        disk): call it from a worker thread. Under `synchronous=NORMAL` commits reach the disk only
        at the next checkpoint; fsyncing the write-ahead log is what `synchronous=FULL` would do
        at every commit. With no log file everything is already in the checkpointed database."""
        try:
            fd = os.open(self.path.with_name(self.path.name + "-wal"), os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def close(self) -> None:
        self.connection.close()


def _connect_and_migrate(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA busy_timeout=5000")
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise DatabaseError(
                "The job database was written by a newer version of Seedance Desktop; "
                "update the app to open it."
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            connection.execute("BEGIN IMMEDIATE")
            for statement in _statements(MIGRATIONS[target]):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version={target}")
            connection.commit()
        connection.execute("SELECT count(*) FROM jobs").fetchone()
        return connection
    except BaseException:
        connection.close()
        raise


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (sqlite3.complete_statement knows triggers)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return [s for s in statements if s]


def _looks_damaged(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return any(w in text for w in ("malformed", "not a database", "corrupt", "disk image"))


def _move_aside(path: Path, now: float) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    counter = 1
    while aside.exists():
        counter += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{counter}")
    path.replace(aside)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.replace(aside.with_name(aside.name + suffix))
    return aside
