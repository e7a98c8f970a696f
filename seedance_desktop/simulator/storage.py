"""The simulator's CDN: uploaded reference files and rendered videos, served back by URL.

Files live under `data_dir` by an id the server chose; the client's file name is only ever shown in
URLs (sanitised), never used as a path. Thread-safe: tests expire files from their own thread.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Literal
from urllib.parse import quote, unquote, urlsplit

Origin = Literal["upload", "output"]

_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+$")
_SUFFIX = re.compile(r"^\.[a-z0-9]{1,8}$")
_FILE_PATH = re.compile(r"^/files/(?P<id>[0-9a-f]{32})/(?P<name>[^/]+)$")


class UploadTooLarge(Exception):
    """The body went past the size cap; nothing was kept."""


def safe_file_name(name: str | None, fallback: str = "file") -> str:
    """A file name fit for a URL segment: no folders, no odd characters, not hidden, not empty."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_NAME_CHARS.sub("_", base).lstrip(".")[-100:]
    return cleaned if cleaned.strip("_") else fallback


def safe_content_type(value: str | None) -> str:
    media_type = (value or "").split(";", 1)[0].strip().lower()
    return media_type if _CONTENT_TYPE.match(media_type) else "application/octet-stream"


@dataclass
class StoredFile:
    file_id: str
    name: str  # sanitised
    content_type: str
    path: Path
    size: int
    sha256: str
    origin: Origin
    expired: bool = False

    @property
    def url_path(self) -> str:
        return f"/files/{self.file_id}/{quote(self.name)}"


@dataclass(frozen=True)
class PendingUpload:
    """An initiated upload (the fallback flow) waiting for its PUT."""

    file_id: str
    name: str
    content_type: str
    signature: str

    @property
    def url_path(self) -> str:
        return f"/files/{self.file_id}/{quote(self.name)}"


class _PartFile:
    """Writes a body to `<final>.part`, counting bytes and hashing, under a size cap."""

    def __init__(self, final: Path, cap: int) -> None:
        self.final = final
        self.part = final.with_name(final.name + ".part")
        self.cap = cap
        self.size = 0
        self.digest = hashlib.sha256()
        self._file: BinaryIO = self.part.open("wb")

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.cap:
            raise UploadTooLarge
        self.digest.update(chunk)
        self._file.write(chunk)

    def commit(self) -> None:
        self._file.close()
        self.part.replace(self.final)

    def discard(self) -> None:
        self._file.close()
        self.part.unlink(missing_ok=True)


class Storage:
    def __init__(self, root: Path, max_upload_bytes: int) -> None:
        self.root = root
        self.max_upload_bytes = max_upload_bytes
        self._uploads = root / "uploads"
        self._uploads.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._files: dict[str, StoredFile] = {}
        self._pending: dict[str, PendingUpload] = {}
        self._tokens: dict[str, float] = {}  # token -> expiry (epoch seconds)
        self._outputs: dict[str, str] = {}  # cache key -> file id

    # Tokens ----------------------------------------------------------------------------------

    def issue_token(self, ttl_s: float) -> tuple[str, datetime]:
        token = secrets.token_urlsafe(32)
        expires = time.time() + ttl_s
        with self._lock:
            self._tokens[token] = expires
        return token, datetime.fromtimestamp(expires, UTC)

    def token_valid(self, token: str) -> bool:
        with self._lock:
            expires = self._tokens.get(token)
        return expires is not None and expires > time.time()

    # Uploads ---------------------------------------------------------------------------------

    async def receive(
        self, chunks: AsyncIterator[bytes], name: str | None, content_type: str | None
    ) -> StoredFile:
        """Stream a body to disk (never whole in memory). Raises UploadTooLarge past the cap."""
        file_id = uuid.uuid4().hex
        return await self._receive(file_id, safe_file_name(name), content_type, chunks)

    def initiate(self, name: str | None, content_type: str | None) -> PendingUpload:
        pending = PendingUpload(
            uuid.uuid4().hex,
            safe_file_name(name),
            safe_content_type(content_type),
            secrets.token_urlsafe(24),
        )
        with self._lock:
            self._pending[pending.file_id] = pending
        return pending

    def pending(self, file_id: str, signature: str) -> PendingUpload | None:
        with self._lock:
            found = self._pending.get(file_id)
        if found is None or not secrets.compare_digest(found.signature, signature):
            return None
        return found

    async def complete(
        self, pending: PendingUpload, chunks: AsyncIterator[bytes], content_type: str | None
    ) -> StoredFile:
        stored = await self._receive(
            pending.file_id, pending.name, content_type or pending.content_type, chunks
        )
        with self._lock:
            self._pending.pop(pending.file_id, None)
        return stored

    async def _receive(
        self,
        file_id: str,
        name: str,
        content_type: str | None,
        chunks: AsyncIterator[bytes],
    ) -> StoredFile:
        path = self._uploads / f"{file_id}{_suffix(name)}"
        writer = _PartFile(path, self.max_upload_bytes)
        try:
            async for chunk in chunks:
                writer.write(chunk)
        except BaseException:
            writer.discard()
            raise
        writer.commit()
        stored = StoredFile(
            file_id,
            name,
            safe_content_type(content_type),
            path,
            writer.size,
            writer.digest.hexdigest(),
            "upload",
        )
        with self._lock:
            self._files[file_id] = stored
        return stored

    # Outputs ---------------------------------------------------------------------------------

    def register_output(self, key: str, path: Path, name: str) -> StoredFile:
        """Serve a rendered file; the same cache key keeps its URL until it expires."""
        with self._lock:
            known = self._files.get(self._outputs.get(key, ""))
            if known is not None and not known.expired and known.path == path:
                return known
            stored = StoredFile(
                uuid.uuid4().hex,
                safe_file_name(name, "output.mp4"),
                "video/mp4",
                path,
                path.stat().st_size,
                key,
                "output",
            )
            self._files[stored.file_id] = stored
            self._outputs[key] = stored.file_id
            return stored

    # Lookup and expiry -----------------------------------------------------------------------

    def get(self, file_id: str) -> StoredFile | None:
        with self._lock:
            return self._files.get(file_id)

    def find_by_url_path(self, url_path: str) -> tuple[StoredFile | None, bool]:
        """(file, is_ours): is_ours says the path has the shape of one of our file URLs."""
        match = _FILE_PATH.match(url_path)
        if not match:
            return None, False
        found = self.get(match["id"])
        if found is None or unquote(match["name"]) != found.name:
            return None, True
        return found, True

    def find_by_url(self, url: str, own_netlocs: set[str]) -> tuple[StoredFile | None, bool]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.netloc.lower() not in own_netlocs:
            return None, False
        return self.find_by_url_path(parts.path)

    def expire(self, origin: Origin | None = None) -> int:
        """Make stored files answer 410 Gone (as expired CDN media); returns how many expired."""
        count = 0
        with self._lock:
            for stored in self._files.values():
                if not stored.expired and (origin is None or stored.origin == origin):
                    stored.expired = True
                    count += 1
        return count


def _suffix(name: str) -> str:
    """The extension of an (already sanitised) name, so decoders that look at it are happy."""
    suffix = Path(name).suffix.lower()
    return suffix if _SUFFIX.match(suffix) else ".bin"


def iso_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
