"""What can stop a fit, as exceptions that carry a message for the person (never a traceback)."""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable

Progress = Callable[[float], None]

_NO_ROOM = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


class FitError(Exception):
    """A fit that could not be made; `message` says why in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FitCancelled(FitError):
    def __init__(self) -> None:
        super().__init__("The fit was cancelled; nothing was kept.")


def check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise FitCancelled


def is_no_room(exc: BaseException) -> bool:
    """A write refused for want of space (a full disk, a quota, a file-size limit)."""
    return isinstance(exc, OSError) and exc.errno in _NO_ROOM
