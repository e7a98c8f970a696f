"""The job-actions table: which action applies in which state, and the engine refusing from it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from engine_fixtures import quick_shot

from seedance_desktop.engine.actions import (
    ACTIONS,
    ErrorKind,
    JobAction,
    available,
    confirmation,
    refusal,
)
from seedance_desktop.engine.engine import ActionRefused
from seedance_desktop.engine.states import TRANSITIONS, JobState


@dataclass(frozen=True)
class Subject:
    state: JobState
    request_id: str | None = None
    error_kind: ErrorKind | None = None


EXPECTED = {
    JobState.QUEUED: [JobAction.CANCEL],
    JobState.UPLOADING: [JobAction.CANCEL],
    JobState.SUBMITTING: [JobAction.CANCEL],
    JobState.IN_QUEUE: [JobAction.CANCEL],
    JobState.IN_PROGRESS: [JobAction.CANCEL],
    JobState.CANCEL_REQUESTED: [JobAction.CANCEL],
    JobState.FETCHING: [],
    JobState.DOWNLOADING: [],
    JobState.DONE: [JobAction.REMOVE],
    JobState.FAILED: [JobAction.RETRY, JobAction.REMOVE],
    JobState.CANCELLED: [JobAction.RETRY, JobAction.REMOVE],
    JobState.UNKNOWN_SUBMISSION: [
        JobAction.CANCEL,
        JobAction.RESUBMIT,
        JobAction.DROP,
        JobAction.REMOVE,
    ],
}


@pytest.mark.parametrize("state", list(JobState))
def test_the_table_says_what_applies_in_every_state(state: JobState) -> None:
    assert available(Subject(state)) == EXPECTED[state]


def test_fetch_again_needs_a_request_fal_accepted() -> None:
    assert JobAction.FETCH_AGAIN not in available(Subject(JobState.FAILED))
    assert JobAction.FETCH_AGAIN in available(Subject(JobState.FAILED, "req-1"))
    assert JobAction.FETCH_AGAIN not in available(Subject(JobState.CANCELLED, "req-1"))
    for final in (ErrorKind.VALIDATION, ErrorKind.CONTENT_POLICY):
        refused = Subject(JobState.FAILED, "req-1", final)
        assert JobAction.FETCH_AGAIN not in available(refused)
        assert "final" in (refusal(JobAction.FETCH_AGAIN, refused) or "")
    assert "never accepted" in (refusal(JobAction.FETCH_AGAIN, Subject(JobState.FAILED)) or "")
    assert ErrorKind.of("SomeOldClassName") is ErrorKind.OTHER and ErrorKind.of(None) is None


def test_every_action_is_described_and_states_exist_in_the_machine() -> None:
    for action, spec in ACTIONS.items():
        assert spec.action is action and spec.label and spec.does and spec.refused
        assert spec.states <= set(TRANSITIONS)


def test_money_questions_come_from_the_table() -> None:
    assert confirmation(JobAction.CANCEL, Subject(JobState.QUEUED)) is None
    assert "billed" in (confirmation(JobAction.CANCEL, Subject(JobState.IN_PROGRESS)) or "")
    assert "paying twice" in (
        confirmation(JobAction.RESUBMIT, Subject(JobState.UNKNOWN_SUBMISSION)) or ""
    )
    assert "already made" in (refusal(JobAction.CANCEL, Subject(JobState.DOWNLOADING)) or "")


async def test_the_engine_refuses_with_the_tables_words(harness) -> None:
    engine = harness.engine
    engine.pause()
    (job,) = await engine.enqueue(quick_shot())
    for call in (engine.retry, engine.remove):
        with pytest.raises(ActionRefused) as refused:
            await call(job.id)
        action = JobAction.RETRY if call == engine.retry else JobAction.REMOVE
        assert str(refused.value) == ACTIONS[action].refused
    assert engine.jobs.get(job.id).state is JobState.QUEUED  # nothing moved
