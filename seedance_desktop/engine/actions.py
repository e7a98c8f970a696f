"""What a person may do to a job, as data beside the state machine's TRANSITIONS. Pure: no I/O.

One table answers "does this action apply?" for the engine (which refuses with the table's
reason), the queue panel (buttons and the right-click menu) and the command line (its choices).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from seedance_desktop.engine.states import FINAL_STATES, JobState


class JobAction(StrEnum):
    CANCEL = "cancel"
    RETRY = "retry"
    FETCH_AGAIN = "fetch-again"
    RESUBMIT = "resubmit"
    DROP = "drop"
    REMOVE = "remove"


class ErrorKind(StrEnum):
    """Why a job failed, as kept in its row (the words for the person are its `error`)."""

    VALIDATION = "validation"  # the model refused the input: fal's answer is final
    CONTENT_POLICY = "content_policy"  # likewise final
    SERVICE = "service"  # fal's infrastructure failed the request
    REFUSED = "refused"  # fal refused the request itself (a bad key, a 400/404/409…)
    EXPIRED = "expired"  # fal no longer has the result or the upload
    UNREADABLE = "unreadable"  # fal's answers could not be read, again and again
    DOWNLOAD = "download"  # the result link could not be followed
    LOCAL = "local"  # the video could not be saved on this computer
    REFERENCE = "reference"  # a reference file is gone from the store
    BROKEN_VIDEO = "broken_video"  # the downloaded video cannot be read
    INTERNAL = "internal"  # a bug: the log has the traceback
    OTHER = "other"  # anything older versions wrote

    @classmethod
    def of(cls, value: str | None) -> ErrorKind | None:
        """The kind kept in a row (unknown words, from older versions, are OTHER)."""
        if value is None:
            return None
        try:
            return cls(value)
        except ValueError:
            return cls.OTHER


class Resolution(StrEnum):
    """The person's decision on a submission whose outcome is unclear."""

    RESUBMIT = "resubmit"
    DROP = "drop"


class ActionSubject(Protocol):
    """What the table needs to know of a job (a Job, or a row of the queue model)."""

    @property
    def state(self) -> JobState: ...

    @property
    def request_id(self) -> str | None: ...

    @property
    def error_kind(self) -> ErrorKind | None: ...


@dataclass(frozen=True)
class ActionSpec:
    action: JobAction
    label: str
    does: str  # what it does, for tooltips and the command line's help
    states: frozenset[JobState]
    refused: str  # why it does not apply, for the engine's refusal
    needs_request: bool = False  # only where fal holds (or held) a request for the job
    not_after: frozenset[ErrorKind] = frozenset()  # failures after which it cannot help
    confirm: str | None = None  # asked first where the action may cost money

    def applies(self, job: ActionSubject) -> bool:
        return self.refusal(job) is None

    def refusal(self, job: ActionSubject) -> str | None:
        """Why the action does not apply to `job`, or None when it does."""
        if job.state not in self.states:
            return self.refused
        if self.needs_request and job.request_id is None:
            return _NEEDS_REQUEST.get(self.action, self.refused)
        if job.error_kind in self.not_after:
            return _FINAL_ANSWER
        return None


_FINAL_ANSWER = (
    "fal's answer for this job is final (the model refused the input); fetching it again would "
    "give the same answer. Retry sends a new request."
)
_NEEDS_REQUEST = {
    JobAction.FETCH_AGAIN: (
        "fal never accepted this job, so there is nothing to fetch; Retry sends it again."
    ),
}
_AT_FAL_WARNING = (
    "fal is already working on it: it may finish anyway and still be billed. Ask fal to cancel?"
)

ACTIONS: dict[JobAction, ActionSpec] = {
    spec.action: spec
    for spec in (
        ActionSpec(
            JobAction.CANCEL,
            "Cancel",
            "stop the job; a job already at fal may still finish and be billed",
            frozenset(
                {
                    JobState.QUEUED,
                    JobState.UPLOADING,
                    JobState.SUBMITTING,
                    JobState.IN_QUEUE,
                    JobState.IN_PROGRESS,
                    JobState.CANCEL_REQUESTED,
                    JobState.UNKNOWN_SUBMISSION,
                }
            ),
            "Only a job that has not finished can be cancelled.",
        ),
        ActionSpec(
            JobAction.RETRY,
            "Retry",
            "go again: a new, paid submit (or only the download, when fal made the video)",
            frozenset({JobState.FAILED, JobState.CANCELLED}),
            "Only a failed or cancelled job can be retried.",
        ),
        ActionSpec(
            JobAction.FETCH_AGAIN,
            "Fetch again",
            "ask fal again for the result of the request it already has: no new submit, no new "
            "charge",
            frozenset({JobState.FAILED}),
            "Only a failed job can be fetched again.",
            needs_request=True,
            not_after=frozenset({ErrorKind.VALIDATION, ErrorKind.CONTENT_POLICY}),
        ),
        ActionSpec(
            JobAction.RESUBMIT,
            "Resubmit",
            "send the job again although fal may already have it (it may be paid twice)",
            frozenset({JobState.UNKNOWN_SUBMISSION}),
            "This job's submission is not in doubt.",
            confirm="fal may already have this request. Resubmitting can mean paying twice. "
            "Check your fal dashboard's request history first if you can.",
        ),
        ActionSpec(
            JobAction.DROP,
            "Drop",
            "give up on a job whose submission is unclear (nothing is sent)",
            frozenset({JobState.UNKNOWN_SUBMISSION}),
            "This job's submission is not in doubt.",
        ),
        ActionSpec(
            JobAction.REMOVE,
            "Remove",
            "forget a finished job (its video stays in the library)",
            FINAL_STATES | {JobState.UNKNOWN_SUBMISSION},
            "Cancel the job before removing it.",
        ),
    )
}

RESOLUTION_ACTIONS = {Resolution.RESUBMIT: JobAction.RESUBMIT, Resolution.DROP: JobAction.DROP}


def available(job: ActionSubject, actions: Iterable[JobAction] = JobAction) -> list[JobAction]:
    """The actions that apply to `job`, in the table's order."""
    return [action for action in actions if ACTIONS[action].applies(job)]


def refusal(action: JobAction, job: ActionSubject) -> str | None:
    """Why `action` does not apply to `job`, in words for the person; None when it does."""
    if action is JobAction.CANCEL and job.state in (JobState.FETCHING, JobState.DOWNLOADING):
        return "fal has already made this video; it is being saved to the library."
    return ACTIONS[action].refusal(job)


def confirmation(action: JobAction, job: ActionSubject) -> str | None:
    """The question to ask before `action`, or None when it may go at once."""
    if action is JobAction.CANCEL and job.state.at_fal:
        return _AT_FAL_WARNING
    return ACTIONS[action].confirm
