"""The job state machine (design.md), as data. Pure: no I/O."""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    QUEUED = "queued"
    UPLOADING = "uploading"
    SUBMITTING = "submitting"
    IN_QUEUE = "in_queue"
    IN_PROGRESS = "in_progress"
    FETCHING = "fetching"
    DOWNLOADING = "downloading"
    DONE = "done"
    FAILED = "failed"
    CANCEL_REQUESTED = "cancel_requested"
    CANCELLED = "cancelled"
    UNKNOWN_SUBMISSION = "unknown_submission"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES

    @property
    def at_fal(self) -> bool:
        """fal holds a request for this job (it may be billed)."""
        return self in (JobState.IN_QUEUE, JobState.IN_PROGRESS, JobState.CANCEL_REQUESTED)

    @property
    def label(self) -> str:
        return _LABELS[self]


FINAL_STATES = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED})
UNFINISHED_STATES = frozenset(JobState) - FINAL_STATES

# States that hold one of the "jobs in flight at fal" slots.
IN_FLIGHT_STATES = frozenset(
    {
        JobState.UPLOADING,
        JobState.SUBMITTING,
        JobState.IN_QUEUE,
        JobState.IN_PROGRESS,
        JobState.CANCEL_REQUESTED,
    }
)

# States whose job fal may still bill: from the upload before the submit until the video is in
# the library, plus a submission in doubt (fal may have it). The budget counts each at its
# highest estimate.
COMMITTED_STATES = IN_FLIGHT_STATES | {
    JobState.FETCHING,
    JobState.DOWNLOADING,
    JobState.UNKNOWN_SUBMISSION,
}

TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.UPLOADING, JobState.CANCELLED, JobState.FAILED}),
    JobState.UPLOADING: frozenset(
        {JobState.SUBMITTING, JobState.QUEUED, JobState.FAILED, JobState.CANCELLED}
    ),
    # A submit that provably never reached fal goes back to the queue.
    JobState.SUBMITTING: frozenset(
        {JobState.IN_QUEUE, JobState.UNKNOWN_SUBMISSION, JobState.QUEUED, JobState.FAILED}
    ),
    JobState.IN_QUEUE: frozenset(
        {JobState.IN_PROGRESS, JobState.FETCHING, JobState.CANCEL_REQUESTED, JobState.FAILED}
    ),
    JobState.IN_PROGRESS: frozenset(
        {JobState.FETCHING, JobState.CANCEL_REQUESTED, JobState.FAILED}
    ),
    JobState.CANCEL_REQUESTED: frozenset(
        {JobState.CANCELLED, JobState.FETCHING, JobState.DOWNLOADING, JobState.FAILED}
    ),
    JobState.FETCHING: frozenset({JobState.DOWNLOADING, JobState.FAILED, JobState.CANCELLED}),
    JobState.DOWNLOADING: frozenset({JobState.DONE, JobState.FAILED}),
    JobState.UNKNOWN_SUBMISSION: frozenset(
        {JobState.QUEUED, JobState.CANCELLED, JobState.IN_QUEUE}
    ),
    # A retry is a new attempt from the queue; or, when fal already made the video, only the
    # download again (nothing is paid twice). "Fetch again" asks fal for the same request's
    # result (no new submit, no new charge).
    JobState.FAILED: frozenset({JobState.QUEUED, JobState.DOWNLOADING, JobState.FETCHING}),
    JobState.CANCELLED: frozenset({JobState.QUEUED}),
    JobState.DONE: frozenset(),
}


def can_move(source: JobState, target: JobState) -> bool:
    return target in TRANSITIONS[source]


_LABELS = {
    JobState.QUEUED: "Queued",
    JobState.UPLOADING: "Uploading references",
    JobState.SUBMITTING: "Submitting",
    JobState.IN_QUEUE: "Waiting at fal",
    JobState.IN_PROGRESS: "Generating",
    JobState.FETCHING: "Fetching result",
    JobState.DOWNLOADING: "Downloading",
    JobState.DONE: "Done",
    JobState.FAILED: "Failed",
    JobState.CANCEL_REQUESTED: "Cancel requested",
    JobState.CANCELLED: "Cancelled",
    JobState.UNKNOWN_SUBMISSION: "Submission unclear",
}
