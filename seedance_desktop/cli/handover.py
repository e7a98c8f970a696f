"""`generate` and `batch` while the window owns the library: the shots go into the window's queue
(it is the one scheduler), and the command follows its jobs to the end, printing progress.

Following reads the database (read-only, as `queue list` does) a few times a second: each state
change is printed the way a local run prints it. If the window closes meanwhile, the jobs stay
queued for the next owner and the command says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

from seedance_desktop.cli.owner_client import app_is_open, ask_owner
from seedance_desktop.cli.progress import ProgressPrinter
from seedance_desktop.domain.shot import Shot, shot_to_json
from seedance_desktop.engine.database import Database
from seedance_desktop.engine.events import JobChanged
from seedance_desktop.engine.jobs import Job, JobRepository
from seedance_desktop.engine.owner_protocol import enqueue_request
from seedance_desktop.engine.states import JobState

POLL_S = 0.25
OWNER_CHECK_S = 2.0


class AppClosed(Exception):
    """The window closed before the jobs were finished; they stay queued."""


def hand_to_app(data_folder: Path, shots: list[Shot]) -> tuple[list[int], str]:
    """Queue the shots in the window. Returns the job ids and the window's message (no ids when
    it refused or is gone; the message then says why)."""
    reply = ask_owner(data_folder, enqueue_request([shot_to_json(s) for s in shots]))
    if reply is None:
        return [], "The app closed before it could take the shots; try again."
    if not reply.ok:
        return [], reply.message
    return list(reply.job_ids), reply.message


async def follow(
    database: Path, data_folder: Path, job_ids: list[int], stop: asyncio.Event
) -> list[Job]:
    """The jobs once each is final or waits for the person (or when `stop` is set), printing
    every state change on the way. Raises `AppClosed` if the window goes away first."""
    printer = ProgressPrinter(job_ids=set(job_ids))
    seen: dict[int, tuple[JobState, str | None]] = {}
    db = Database.open_read_only(database)
    assert db is not None  # the window has just queued the jobs in it
    loop = asyncio.get_running_loop()
    next_owner_check = loop.time() + OWNER_CHECK_S
    try:
        repository = JobRepository(db)
        while True:
            jobs = [repository.get(i) for i in job_ids]
            for job in jobs:
                if seen.get(job.id) != (job.state, job.request_id):
                    seen[job.id] = (job.state, job.request_id)
                    printer(JobChanged(job))
            if stop.is_set() or all(_settled(j) for j in jobs):
                return jobs
            if loop.time() >= next_owner_check:
                if not app_is_open(data_folder):  # a local connect: instant
                    raise AppClosed
                next_owner_check = loop.time() + OWNER_CHECK_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL_S)
    finally:
        db.close()


def say_left_in_app(job_ids: list[int], *, closed: bool) -> None:
    ids = ", ".join(str(i) for i in job_ids)
    if closed:
        print(
            f"The app closed; job(s) {ids} stay queued and go on the next time the app or "
            "`seedance-desktop queue run` starts.",
            file=sys.stderr,
        )
    else:
        print(f"Job(s) {ids} stay in the app's queue; the app goes on with them.", file=sys.stderr)


def _settled(job: Job) -> bool:
    return job.state.is_final or job.state is JobState.UNKNOWN_SUBMISSION
