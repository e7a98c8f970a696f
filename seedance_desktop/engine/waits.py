"""Why a queued job is not moving yet: a kind for code to act on, words for the person. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class WaitKind(StrEnum):
    PAUSED = "paused"  # the person paused the queue
    HELD = "held"  # fal refused the key or the account: the whole queue waits for the person
    OFFLINE = "offline"  # the network is down; queued work goes out when it returns
    BACKING_OFF = "backing-off"  # fal said it was busy; this job tries again shortly
    NO_SLOT = "no-slot"  # as many jobs are at fal as the settings allow
    BUDGET = "budget"  # this job could take the month over its budget


@dataclass(frozen=True)
class Wait:
    kind: WaitKind
    message: str

    @property
    def clears_by_itself(self) -> bool:
        """Whether time alone can end the wait (the scheduler looks again shortly)."""
        return self.kind in (WaitKind.OFFLINE, WaitKind.BACKING_OFF)


PAUSED = Wait(WaitKind.PAUSED, "The queue is paused.")
OFFLINE = Wait(WaitKind.OFFLINE, "Offline: the job goes out when the network returns.")
NO_SLOT = Wait(WaitKind.NO_SLOT, "Waiting for a free slot.")
