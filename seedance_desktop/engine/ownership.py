"""One owner per data folder: an OS-level lock that whatever runs a scheduler must hold.

Two schedulers on one folder would submit the same queued job twice (and pay twice), so the
window, `generate`, `batch`, `queue run` and the single-job actions take this lock first. It is
`flock` on POSIX and `msvcrt.locking` on Windows, non-blocking, on a file in the data folder: the
kernel drops it when the process ends in any way (a crash, SIGKILL, a power cut), so there is no
stale lock to clean up and the next start takes it over at once. The owner's pid is written into
the file only so that a refusal can name it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import IO

LOCK_NAME = "owner.lock"
# Windows locks byte ranges, and a locked range cannot be read by others: lock a byte far past
# the pid text, so that the refusal can still read the owner's pid.
_WINDOWS_LOCK_OFFSET = 1 << 20


class FolderBusy(Exception):
    """Another process owns the data folder; the message is meant for the person."""

    def __init__(self, folder: Path, pid: int | None) -> None:
        self.folder = folder
        self.pid = pid
        who = f" (pid {pid})" if pid else ""
        super().__init__(
            f"Seedance Desktop is already running on this library{who}; let it finish or close "
            "it, then try again."
        )


class FolderLock:
    """The held lock; `release()` (or leaving the `with` block) gives the folder up."""

    def __init__(self, path: Path, handle: IO[bytes]) -> None:
        self.path = path
        self._handle: IO[bytes] | None = handle

    @property
    def held(self) -> bool:
        return self._handle is not None

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is None:
            return
        with contextlib.suppress(OSError):
            _unlock(handle)
        handle.close()

    def __enter__(self) -> FolderLock:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


def lock_path(data_folder: Path) -> Path:
    return data_folder / LOCK_NAME


def acquire(data_folder: Path) -> FolderLock:
    """Take the folder's lock now, or raise `FolderBusy` naming the owner's pid. Never waits."""
    data_folder.mkdir(parents=True, exist_ok=True)
    path = lock_path(data_folder)
    handle = open(path, "a+b")  # noqa: SIM115 - held for the life of the lock
    try:
        _lock(handle)
    except OSError:
        handle.close()
        raise FolderBusy(data_folder, owner_pid(data_folder)) from None
    with contextlib.suppress(OSError):  # the pid only names the owner in a refusal
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()).encode())
        handle.flush()
    return FolderLock(path, handle)


def owner_pid(data_folder: Path) -> int | None:
    """The pid written by the last owner; meaningful only while the lock is held."""
    try:
        text = lock_path(data_folder).read_bytes()[:20].decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def is_owned(data_folder: Path) -> bool:
    """Whether some process holds the folder now (tries the lock and gives it straight back)."""
    try:
        acquire(data_folder).release()
    except FolderBusy:
        return True
    return False


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(handle: IO[bytes]) -> None:
        handle.seek(_WINDOWS_LOCK_OFFSET)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(_WINDOWS_LOCK_OFFSET)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
