"""The simulator's request log: what each request asked and got, so tests can prove what was sent.

It records whether an Authorization header was present, never its value.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class LogEntry:
    method: str
    path: str
    query: str
    status: int | None  # None when the connection was dropped without an answer
    request_id: str | None
    model_id: str | None  # set for submits
    has_auth: bool
    time: float

    def to_json(self) -> dict[str, object]:
        return asdict(self)


class RequestLog:
    """A thread-safe append-only list (the server thread writes, tests read)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LogEntry] = []

    def add(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def snapshot(self) -> list[LogEntry]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
