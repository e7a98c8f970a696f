"""The content-addressed reference store and the upload cache.

Every reference a job uses is copied into the data folder under its SHA-256, so a job (and "reuse
these settings") keeps working after the original was moved or deleted, and each distinct file is
uploaded once. Hashing and copying are blocking: call them from a worker thread.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from seedance_desktop.domain.media_info import MediaInfo
from seedance_desktop.engine.database import Database
from seedance_desktop.fal.storage import content_type_for

_CHUNK = 1024 * 1024

_EXTENSIONS = {"jpeg": ".jpg", "mov": ".mov"}


@dataclass(frozen=True)
class Blob:
    sha256: str
    path: Path
    size_bytes: int
    content_type: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def copy_into_store(source: Path, root: Path, info: MediaInfo) -> Blob:
    """Hash `source` and copy it into the store (once). Blocking."""
    sha = sha256_of(source)
    extension = _EXTENSIONS.get(info.format, f".{info.format}")
    target = root / sha[:2] / f"{sha}{extension}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out, source.open("rb") as src:
                shutil.copyfileobj(src, out, _CHUNK)
                out.flush()
                os.fsync(out.fileno())
            # A file changed while it was copied would not match its name: check before keeping it.
            if sha256_of(Path(temp_name)) != sha:
                raise OSError(f"{source.name} changed while it was being copied; try again")
            Path(temp_name).replace(target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
    return Blob(sha, target, target.stat().st_size, content_type_for(target, info))


class BlobIndex:
    """Rows of the reference store, keyed by hash."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def record(self, blob: Blob) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO blobs (sha256, path, size_bytes, content_type, added_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (blob.sha256, str(blob.path), blob.size_bytes, blob.content_type, self.clock()),
            )

    def get(self, sha256: str) -> Blob | None:
        row = self.db.execute(
            "SELECT sha256, path, size_bytes, content_type FROM blobs WHERE sha256 = ?", (sha256,)
        ).fetchone()
        return Blob(row[0], Path(row[1]), row[2], row[3]) if row else None


class UploadCache:
    """Uploaded URLs by content hash and storage origin, reused while fresh."""

    def __init__(
        self, db: Database, ttl_s: float = 6 * 3600, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.ttl_s = ttl_s
        self.clock = clock

    def get(self, sha256: str, origin: str) -> str | None:
        now = self.clock()
        row = self.db.execute(
            "SELECT url, uploaded_at, expires_at FROM uploads WHERE sha256 = ? AND origin = ?",
            (sha256, origin),
        ).fetchone()
        # A clock that jumped backwards (uploaded "in the future") makes the entry suspect too.
        if row is None or row[2] <= now or row[1] > now + 60:
            return None
        return str(row[0])

    def put(self, sha256: str, origin: str, url: str) -> None:
        now = self.clock()
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO uploads (sha256, origin, url, uploaded_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (sha256, origin, url, now, now + self.ttl_s),
            )
