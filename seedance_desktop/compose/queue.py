"""What the compose panel needs from the engine, as a small typed dependency.

The engine (or the lead's facade over it) satisfies `ShotQueue` structurally; tests may pass the
real engine. Compose never sees the engine's internals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from seedance_desktop.domain.shot import Shot


class QueuedJob(Protocol):
    """What compose reads of a queued job."""

    @property
    def id(self) -> int: ...

    @property
    def seed(self) -> int | None: ...


class ShotQueue(Protocol):
    async def enqueue(self, shot: Shot, *, variations: int = 1) -> Sequence[QueuedJob]:
        """Queue one job per variation (each with its own seed); works offline.

        Raises an exception whose message is meant for the person when the shot is refused.
        """
        ...
