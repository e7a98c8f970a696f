"""The job engine: owns every job from the queue to the library, across crashes and offline spells.

One asyncio task per active job walks it through the state machine; every transition is committed
before the engine acts on it, so after a crash `start()` picks each job up where it was. A submit
whose outcome is unknown is never resent by itself: the job waits in `unknown_submission` for the
person. Blocking work (hashing, copying, probing, thumbnails) runs in the engine's own executor.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from seedance_desktop.domain.endpoints import ENDPOINTS
from seedance_desktop.domain.media_info import MediaInfo
from seedance_desktop.domain.plan import Plan, plan_shot
from seedance_desktop.domain.pricing import billed_cost
from seedance_desktop.domain.shot import Shot, build_input, replace_references, shot_to_json
from seedance_desktop.domain.validation import Problem
from seedance_desktop.engine import waits
from seedance_desktop.engine.actions import (
    RESOLUTION_ACTIONS,
    ErrorKind,
    JobAction,
    Resolution,
    refusal,
)
from seedance_desktop.engine.connectivity import Connectivity, reachable, still_there
from seedance_desktop.engine.crashpoints import crash_point
from seedance_desktop.engine.database import Database
from seedance_desktop.engine.events import (
    EventBus,
    JobAdded,
    JobChanged,
    JobProgress,
    JobRemoved,
    LibraryChanged,
    ProgressPhase,
    QueueChanged,
    SpendChanged,
)
from seedance_desktop.engine.jobs import FAL, SIMULATOR, Job, JobRepository, TransitionError
from seedance_desktop.engine.library import Library
from seedance_desktop.engine.references import (
    BlobIndex,
    UploadCache,
    copy_into_store,
)
from seedance_desktop.engine.sequences import Sequences, place_results_as_they_land
from seedance_desktop.engine.settings import EngineSettings, SettingsStore
from seedance_desktop.engine.spend import (
    BudgetExceeded,
    SpendTotals,
    budget_blocks,
    check_budget,
    shot_cost_text,
    spend_totals,
)
from seedance_desktop.engine.states import (
    COMMITTED_STATES,
    IN_FLIGHT_STATES,
    UNFINISHED_STATES,
    JobState,
)
from seedance_desktop.engine.waits import Wait, WaitKind
from seedance_desktop.fal import errors as fal_errors
from seedance_desktop.fal.client import CancelOutcome, FalClient, Handle, State, Status
from seedance_desktop.fal.config import FalConfig
from seedance_desktop.media.frames import poster_frame
from seedance_desktop.media.probe import probe
from seedance_desktop.media.references import is_remote, probe_references
from seedance_desktop.paths import AppPaths

log = logging.getLogger(__name__)
T = TypeVar("T")

_FOLLOWED = (JobState.IN_QUEUE, JobState.IN_PROGRESS, JobState.CANCEL_REQUESTED)


__all__ = ["ActionRefused", "BudgetExceeded", "Engine", "InvalidShot"]


class InvalidShot(Exception):
    """The shot has problems that would make fal refuse it (or cost money for nothing)."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(p.message for p in self.problems) or "The shot is not valid.")


class ActionRefused(Exception):
    """An action that does not apply to the job in its current state; the message says why."""


def require(action: JobAction, job: Job) -> None:
    """Refuse `action` (ActionRefused) unless the actions table allows it for `job`."""
    refused = refusal(action, job)
    if refused is not None:
        raise ActionRefused(refused)


@dataclass
class _Waiting:
    reason: Wait
    until: float = 0.0


class Engine:
    def __init__(
        self,
        db: Database,
        paths: AppPaths,
        fal: FalConfig,
        *,
        events: EventBus | None = None,
        settings: EngineSettings | None = None,
        clock: Callable[[], float] = time.time,
        probe_delays: tuple[float, float] = (1.0, 30.0),
        requeue_delay_s: float = 5.0,
        simulated: bool = False,
    ) -> None:
        self.db = db
        self.simulated = simulated  # the bundled simulator: nothing billed, no budget
        self.paths = paths
        self.fal_config = fal
        self.events = events or EventBus()
        self.clock = clock
        self.settings_store = SettingsStore(db)
        self.settings = settings or EngineSettings.load(self.settings_store)
        self.jobs = JobRepository(db, clock, backend=SIMULATOR if simulated else FAL)
        self.library = Library(db, clock)
        self.sequences = Sequences(db, self.library, clock)
        self.blobs = BlobIndex(db, clock)
        self.uploads = UploadCache(db, clock=clock)
        self.requeue_delay_s = requeue_delay_s
        self._probe_delays = probe_delays
        self._executor = ThreadPoolExecutor(max_workers=3, thread_name_prefix="seedance-engine")
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._waiting: dict[int, _Waiting] = {}
        self._queue_block: str | None = None
        self._client: FalClient | None = None
        self._scheduler: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._settled = asyncio.Event()
        self._parked: set[int] = set()  # jobs whose task waits for the network to return
        self._upload_slots = asyncio.Semaphore(self.settings.max_uploads)
        self._download_slots = asyncio.Semaphore(self.settings.max_downloads)
        self._upload_locks: dict[str, asyncio.Lock] = {}
        self.connectivity: Connectivity | None = None
        self._stop_placing: Callable[[], None] | None = None

    # Life cycle --------------------------------------------------------------------------------

    async def start(self, *, schedule: bool = True) -> None:
        """Resume every job that is not final, then keep scheduling until `close()`.

        `schedule=False` is for acting on one named job (a CLI cancel, retry or resolve while
        no window is open): the fal client is there for a cancel, but no job is started, so
        nothing else is submitted in passing. The caller must own the folder either way."""
        self._client = FalClient(self.fal_config)
        first, most = self._probe_delays
        self.connectivity = Connectivity(
            partial(reachable, self._client.http, self.fal_config.queue_url),
            self.events,
            first_delay_s=first,
            max_delay_s=most,
        )
        for job in self.jobs.all([JobState.UPLOADING]):
            self.jobs.move(job, JobState.QUEUED, detail="resumed after a restart")
        for job in self.jobs.all([JobState.SUBMITTING]):
            self.jobs.move(
                job,
                JobState.UNKNOWN_SUBMISSION,
                detail="the app stopped while submitting; fal may or may not have the request",
            )
        self._stop_placing = place_results_as_they_land(self.sequences, self.events)
        if schedule:
            self._scheduler = asyncio.get_running_loop().create_task(self._schedule_forever())

    async def close(self) -> None:
        """Stop working; every job stays persisted where it is and resumes on the next start."""
        if self._stop_placing is not None:
            self._stop_placing()
            self._stop_placing = None
        tasks = [t for t in (self._scheduler, *self._tasks.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.connectivity is not None:
            await self.connectivity.close()
        if self._client is not None:
            await self._client.aclose()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def run_until_idle(self) -> None:
        """Wait until nothing can move any more (every job final, waiting for the person, or held
        by a pause or the budget). Offline spells are waited out."""
        while True:
            self._wake.set()
            await asyncio.sleep(0)
            await self._idle.wait()
            await asyncio.sleep(0.05)
            if self._idle.is_set():
                return

    async def settled(self) -> None:
        """Wait until the scheduler has started what it can and no job is moving; jobs held by a
        pause, the budget or an offline spell stay where they are. (Tests prove "nothing
        happened" with this, not with a sleep.)"""
        self._kick()
        await self._settled.wait()

    # Composing and queueing --------------------------------------------------------------------

    async def plan(self, shot: Shot) -> Plan:
        media = await self._blocking(probe_references, shot)
        return plan_shot(shot, media)

    async def enqueue(self, shot: Shot, *, variations: int = 1) -> list[Job]:
        """Queue a shot (works offline). Each variation is a job with its own seed. Raises
        InvalidShot, or BudgetExceeded when it could go over the month's budget: then nothing
        is stored."""
        plan = await self.plan(shot)
        if not plan.ok:
            raise InvalidShot(plan.errors)
        self.check_budget(
            plan.estimate.max_usd * variations, shot_cost_text(plan.estimate.max_usd, variations)
        )
        references: list[tuple[str, str, str]] = []
        stored: dict[str, str] = {}
        media = await self._blocking(probe_references, shot)
        for field, ref in shot.references():
            if is_remote(ref):
                continue
            info = media[ref]
            assert isinstance(info, MediaInfo)  # a failed probe is an error: plan.ok was False
            blob = await self._blocking(
                copy_into_store, Path(ref), self.paths.reference_store, info
            )
            self.blobs.record(blob)
            stored[ref] = str(blob.path)
            references.append((field, blob.sha256, Path(ref).name))
        stored_shot = replace_references(shot, stored)
        jobs = []
        batch = uuid.uuid4().hex if variations > 1 else None
        for index in range(variations):
            seed = stored_shot.seed
            if variations > 1:
                seed = (seed + index) if seed is not None else random.randrange(2**32)
            job = self.jobs.add(
                stored_shot.with_seed(seed),
                plan.estimate,
                references,
                batch=(batch, index + 1, variations) if batch else None,
            )
            jobs.append(job)
            self.events.emit(JobAdded(job))
        self._kick()
        return jobs

    # Actions on jobs ---------------------------------------------------------------------------

    async def cancel(self, job_id: int) -> Job:
        """Cancel honestly: at once where nothing is at fal; "cancel requested" until fal says."""
        job = self.jobs.get(job_id)
        require(JobAction.CANCEL, job)
        if job.state in (JobState.QUEUED, JobState.UPLOADING, JobState.UNKNOWN_SUBMISSION):
            await self._stop_task(job_id)
            job = self._move(self.jobs.get(job_id), JobState.CANCELLED, detail="cancelled")
        elif job.state is JobState.SUBMITTING:
            job = self.jobs.update(job, cancel_requested=1)
            self._changed(job)
        elif job.state in (JobState.IN_QUEUE, JobState.IN_PROGRESS):
            job = self._move(job, JobState.CANCEL_REQUESTED, cancel_requested=1)
            await self._request_cancel(job)
        else:  # cancel requested already: ask fal again
            await self._request_cancel(job)
        self._kick()
        return self.jobs.get(job_id)

    async def retry(self, job_id: int) -> Job:
        """A failed or cancelled job goes again. If fal already made the video, only the download
        is retried (nothing is paid twice); otherwise it is a new attempt that keeps the history."""
        job = self.jobs.get(job_id)
        require(JobAction.RETRY, job)
        if job.state is JobState.FAILED and job.result and _video_url(job.result):
            job = self._move(job, JobState.DOWNLOADING, detail="retrying the download")
        else:
            job = self._move(
                job,
                JobState.QUEUED,
                detail="retry: a new attempt",
                attempt=job.attempt + 1,
                **_CLEARED_ATTEMPT,
            )
        self._kick()
        return job

    async def fetch_again(self, job_id: int) -> Job:
        """Ask fal again for a failed job's request: followed to its end if its completion was
        never seen, then its result fetched and downloaded. No new submit and no new charge,
        unlike `retry` (a new, paid request)."""
        job = self.jobs.get(job_id)
        require(JobAction.FETCH_AGAIN, job)
        job = self._move(
            job,
            JobState.FETCHING,
            detail=f"fetch again: the same request at fal ({job.request_id}), nothing paid twice",
            error=None,
            error_kind=None,
            retryable=None,
            finished_at=None,
        )
        self._kick()
        return job

    async def resolve_unknown(self, job_id: int, decision: Resolution) -> Job:
        """The person's decision on an unknown submission: resubmit or drop."""
        decision = Resolution(decision)  # also from plain words (the command line's)
        job = self.jobs.get(job_id)
        require(RESOLUTION_ACTIONS[decision], job)
        if decision is Resolution.RESUBMIT:
            job = self._move(
                job, JobState.QUEUED, detail="resubmitted by the person", **_CLEARED_ATTEMPT
            )
        else:
            job = self._move(job, JobState.CANCELLED, detail="dropped by the person")
        self._kick()
        return job

    async def remove(self, job_id: int) -> None:
        """Forget a final job (its library entry, if any, stays)."""
        require(JobAction.REMOVE, self.jobs.get(job_id))
        self.jobs.remove(job_id)
        self.events.emit(JobRemoved(job_id))

    def move(self, job_id: int, new_index: int) -> None:
        """Put a job at `new_index` in the queue order."""
        order = [j.id for j in self.jobs.all()]
        order.remove(job_id)
        order.insert(max(0, min(new_index, len(order))), job_id)
        self.jobs.reorder(order)
        self.events.emit(QueueChanged(self.settings.paused))
        self._kick()

    def pause(self) -> None:
        self._set_paused(True)

    def resume(self) -> None:
        self._queue_block = None
        self._set_paused(False)

    def update_settings(self, settings: EngineSettings) -> None:
        self.settings = settings
        settings.save(self.settings_store)
        self._upload_slots = asyncio.Semaphore(settings.max_uploads)
        self._download_slots = asyncio.Semaphore(settings.max_downloads)
        self.events.emit(SpendChanged(self.spend()))
        self._kick()

    def spend(self) -> SpendTotals:
        return spend_totals(
            self.db, self.settings.budget_month_usd, self.clock(), simulated=self.simulated
        )

    def check_budget(self, cost_max_usd: float, what: str) -> None:
        """Raise BudgetExceeded when new work of at most `cost_max_usd` does not fit in the
        month's budget (spent, committed and queued work counted). `what` opens the message."""
        check_budget(self.spend(), cost_max_usd, what)

    def wait_reason(self, job_id: int) -> Wait | None:
        """Why a queued job is not moving (None when nothing holds it)."""
        waiting = self._waiting.get(job_id)
        if waiting is not None:
            return waiting.reason
        return Wait(WaitKind.HELD, self._queue_block) if self._queue_block else None

    @property
    def queue_block(self) -> str | None:
        return self._queue_block

    # Scheduling --------------------------------------------------------------------------------

    def _kick(self) -> None:
        self._idle.clear()
        self._settled.clear()
        self._wake.set()

    def _set_paused(self, paused: bool) -> None:
        self.settings.paused = paused
        self.settings.save(self.settings_store)
        self.events.emit(QueueChanged(paused))
        self._kick()

    async def _schedule_forever(self) -> None:
        while True:
            self._wake.clear()
            next_check = self._start_ready_jobs()
            if self._parked.issuperset(self._tasks):
                self._settled.set()
            if not self._tasks and next_check is None:
                self._idle.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=next_check)

    def _start_ready_jobs(self) -> float | None:
        """Start a task for every job that may move now; returns seconds until a re-check is
        needed (a held-back job, an offline spell), or None when only an event can help."""
        recheck: float | None = None
        in_flight = sum(1 for j in self.jobs.all(IN_FLIGHT_STATES))
        assert self.connectivity is not None
        for job in self.jobs.all(UNFINISHED_STATES):  # a long history costs nothing here
            if job.id in self._tasks:
                continue
            if job.state is JobState.UNKNOWN_SUBMISSION:
                continue
            if job.state is not JobState.QUEUED:
                self._launch(job)
                continue
            reason = self._hold_reason(job, in_flight)
            if reason is not None:
                if reason.kind is WaitKind.OFFLINE or job.id in self._waiting:
                    recheck = 1.0
                if reason.kind not in (WaitKind.OFFLINE, WaitKind.PAUSED):
                    self._note_wait(job, reason)
                break  # jobs are taken in queue order
            self._waiting.pop(job.id, None)
            in_flight += 1
            # Taking the slot is a transition like any other: committed before acting on it.
            self._launch(self._move(job, JobState.UPLOADING))
        return recheck

    def _hold_reason(self, job: Job, in_flight: int) -> Wait | None:
        if self.settings.paused:
            return waits.PAUSED
        if self._queue_block:
            return Wait(WaitKind.HELD, self._queue_block)
        if not self.connectivity or not self.connectivity.online:
            return waits.OFFLINE
        waiting = self._waiting.get(job.id)
        if waiting and waiting.until > self.clock():
            return waiting.reason
        if in_flight >= self.settings.max_in_flight:
            return waits.NO_SLOT
        blocked = budget_blocks(self.spend(), job.estimate.max_usd)
        return Wait(WaitKind.BUDGET, blocked) if blocked else None

    def _note_wait(self, job: Job, reason: Wait) -> None:
        previous = self._waiting.get(job.id)
        if previous is None or previous.reason != reason:
            until = previous.until if previous else 0.0
            self._waiting[job.id] = _Waiting(reason, until)
            self.events.emit(JobProgress(job.id, ProgressPhase.WAIT, message=reason.message))

    def _launch(self, job: Job) -> None:
        task = asyncio.get_running_loop().create_task(self._drive(job.id), name=f"job-{job.id}")
        self._tasks[job.id] = task

    async def _stop_task(self, job_id: int) -> None:
        task = self._tasks.pop(job_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # Driving one job ---------------------------------------------------------------------------

    async def _drive(self, job_id: int) -> None:
        assert self.connectivity is not None
        try:
            while True:
                job = self.jobs.find(job_id)
                if (
                    job is None
                    or job.state.is_final
                    or job.state
                    in (
                        JobState.QUEUED,
                        JobState.UNKNOWN_SUBMISSION,
                    )
                ):
                    return
                try:
                    await self._step(job)
                except fal_errors.NetworkDown as exc:
                    self.connectivity.report_failure(exc.message)
                    self._parked.add(job_id)
                    self._kick()
                    try:
                        await self.connectivity.wait_online()
                    finally:
                        self._parked.discard(job_id)
                else:
                    self.connectivity.report_success()
        except asyncio.CancelledError:
            raise
        except fal_errors.FalError as exc:
            # One of our own typed failures (a refused key, a video too large, a file that cannot
            # be written…): one clear line for the person and the log, no traceback; not a bug.
            log.warning("job %s failed: %s", job_id, exc.message)
            job = self.jobs.find(job_id)
            if job is not None and not job.state.is_final:
                with contextlib.suppress(TransitionError):
                    self._fail(job, _error_kind(exc), exc.message, retryable=exc.retryable)
        except Exception as exc:  # a bug must show on the job, never kill the engine silently
            log.exception("job %s failed unexpectedly", job_id)
            job = self.jobs.find(job_id)
            if job is not None and not job.state.is_final:
                with contextlib.suppress(TransitionError):
                    self._fail(
                        job, ErrorKind.INTERNAL, f"Unexpected problem: {exc}", retryable=True
                    )
        finally:
            if self._tasks.get(job_id) is asyncio.current_task():
                del self._tasks[job_id]
            self._kick()

    async def _step(self, job: Job) -> None:
        if job.state is JobState.UPLOADING:
            await self._upload_and_prepare(job)
        elif job.state is JobState.SUBMITTING:
            await self._submit(job)
        elif job.state in _FOLLOWED:
            await self._follow(job)
        elif job.state is JobState.FETCHING:
            await self._fetch(job)
        elif job.state is JobState.DOWNLOADING:
            await self._download(job)
        else:  # pragma: no cover - guarded by _drive
            raise AssertionError(job.state)

    async def _upload_and_prepare(self, job: Job) -> None:
        client = self._require_client()
        origin = self.fal_config.cdn_url
        urls: dict[str, str] = {}
        references = {field: sha for field, sha, _ in self.jobs.references(job.id)}
        for field, ref in job.shot.references():
            if is_remote(ref):
                continue
            sha = references.get(field)
            blob = self.blobs.get(sha) if sha else None
            if blob is None or not blob.path.exists():
                self._fail(
                    job,
                    ErrorKind.REFERENCE,
                    f"{Path(ref).name} is missing from the reference store; add the file again.",
                    retryable=False,
                )
                return
            # One upload per distinct file, even when several jobs need it at the same moment.
            async with self._upload_locks.setdefault(blob.sha256, asyncio.Lock()):
                cached = self.uploads.get(blob.sha256, origin)
                if cached and await still_there(client.http, cached):
                    urls[ref] = cached
                    continue
                async with self._upload_slots:
                    url = await client.upload(
                        blob.path,
                        content_type=blob.content_type,
                        on_progress=partial(self._progress, job.id, ProgressPhase.UPLOAD),
                    )
                crash_point("during_upload")
                self.uploads.put(blob.sha256, origin, url)
                urls[ref] = url
        payload = build_input(job.shot, urls)
        self._move(job, JobState.SUBMITTING, input_json=json.dumps(payload))

    async def _submit(self, job: Job) -> None:
        client = self._require_client()
        assert job.input is not None
        await self._blocking(self.db.sync_to_disk)  # "submitting" must outlive a power cut
        crash_point("before_submit")
        try:
            handle = await client.submit(job.endpoint, job.input)
        except fal_errors.SubmissionOutcomeUnknown as exc:
            # Never resent by itself; fal's request id (when it named one) stays with the job.
            detail = exc.message
            if exc.request_id:
                detail = f"{detail} fal request id: {exc.request_id}."
            job = self._move(
                job, JobState.UNKNOWN_SUBMISSION, detail=detail, request_id=exc.request_id
            )
            self.jobs.add_logs(job, [("WARN", "app", f"Submission unclear: {detail}")])
            return
        except fal_errors.NetworkDown:
            self._move(job, JobState.QUEUED, detail="not sent: the network is down")
            raise
        except (fal_errors.InvalidKey, fal_errors.BalanceExhausted, fal_errors.AccessDenied) as e:
            self._move(job, JobState.QUEUED, detail=e.message)
            self._block_queue(e.message)
            return
        except fal_errors.FalError as exc:
            if not (isinstance(exc, fal_errors.RateLimited | fal_errors.ServiceError)
                    and exc.retryable):  # fmt: skip
                # fal refused this request itself: nothing was queued, nothing is resent.
                self._fail(job, _error_kind(exc), exc.message, retryable=exc.retryable)
                return
            # fal provably did not take it (429, or 502/503/504 without a request id).
            self._move(job, JobState.QUEUED, detail=f"fal refused the submit: {exc.message}")
            self._waiting[job.id] = _Waiting(
                Wait(WaitKind.BACKING_OFF, f"fal is busy; trying again shortly ({exc.message})"),
                self.clock() + self.requeue_delay_s,
            )
            return
        job = self._move(
            job,
            JobState.IN_QUEUE,
            request_id=handle.request_id,
            status_url=handle.status_url,
            response_url=handle.response_url,
            cancel_url=handle.cancel_url,
            submitted_at=self.clock(),
        )
        await self._blocking(self.db.sync_to_disk)  # the request id, which follows a paid job
        crash_point("after_submit")
        if job.cancel_requested:
            job = self._move(job, JobState.CANCEL_REQUESTED)
            await self._request_cancel(job)

    async def _follow(self, job: Job) -> None:
        client = self._require_client()
        handle = self._handle(job)

        reported: str | None = None

        def on_update(status: Status) -> None:
            nonlocal job, reported
            if status.reported is not None:
                pass  # a status fal does not have: shown below as it came, the job stays put
            elif status.state is State.IN_QUEUE:
                self.events.emit(
                    JobProgress(job.id, ProgressPhase.QUEUE, queue_position=status.queue_position)
                )
                crash_point("in_queue")
            elif status.state is State.IN_PROGRESS and job.state is JobState.IN_QUEUE:
                job = self._move(job, JobState.IN_PROGRESS)
            if status.new_logs:
                self.jobs.add_logs(
                    job,
                    [(line.level or "INFO", line.source, line.message) for line in status.new_logs],
                )
                self.events.emit(
                    JobProgress(job.id, ProgressPhase.RUN, message=status.new_logs[-1].message)
                )
            if status.reported is not None and status.reported != reported:
                message = f"fal reports status {status.reported}"
                self.jobs.add_logs(job, [("WARN", "fal", f"{message}; still following the job")])
                self.events.emit(JobProgress(job.id, ProgressPhase.RUN, message=message))
            reported = status.reported

        try:
            final = await client.follow(handle, on_update)
        except fal_errors.ResultExpired as exc:
            self._fail(self.jobs.get(job.id), ErrorKind.EXPIRED, exc.message, retryable=True)
            return
        except fal_errors.UnreadableAnswer as exc:
            job = self.jobs.get(job.id)
            self._fail(job, ErrorKind.UNREADABLE, _still_at_fal(exc.message, job), retryable=True)
            return
        job = self.jobs.get(job.id)
        self._move(job, JobState.FETCHING, completed_at=self.clock(), detail=final.error)

    async def _fetch(self, job: Job) -> None:
        client = self._require_client()
        handle = self._handle(job)
        try:
            if job.completed_at is None:  # fetched again before its completion was ever seen
                await client.follow(handle)
                job = self.jobs.update(job, completed_at=self.clock())
            result = await client.result(handle)
        except fal_errors.RequestCancelled:
            self._move(job, JobState.CANCELLED, detail="cancelled at fal")
            return
        except fal_errors.NetworkDown:
            raise
        except fal_errors.UnreadableAnswer as exc:
            self._fail(job, ErrorKind.UNREADABLE, _still_at_fal(exc.message, job), retryable=True)
            return
        except fal_errors.FalError as exc:
            retryable = bool(getattr(exc, "retryable", False))
            self._fail(job, _error_kind(exc), exc.message, retryable=retryable)
            return
        seed = result.seed if result.seed is not None else job.seed
        self._move(job, JobState.DOWNLOADING, result_json=json.dumps(result.raw), seed=seed)

    async def _download(self, job: Job) -> None:
        client = self._require_client()
        assert job.result is not None
        video = job.result["video"]
        target = self._result_path(job)
        expected = video.get("file_size") if isinstance(video.get("file_size"), int) else None
        info = await self._blocking(probe, target) if target.exists() else None
        if not (isinstance(info, MediaInfo) and (expected is None or info.size_bytes == expected)):
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                async with self._download_slots:
                    await client.download(
                        video["url"],
                        target,
                        expected_size=expected,
                        on_progress=self._download_progress(job.id),
                    )
            except (fal_errors.LocalFileError, OSError) as exc:
                message = getattr(exc, "message", None) or f"Could not save the video: {exc}"
                self._fail(job, ErrorKind.LOCAL, message, retryable=True)
                return
            except fal_errors.ResultExpired as exc:
                self._fail(job, ErrorKind.EXPIRED, exc.message, retryable=False)
                return
            info = await self._blocking(probe, target)
        if not isinstance(info, MediaInfo):
            target.unlink(missing_ok=True)
            self._fail(
                job,
                ErrorKind.BROKEN_VIDEO,
                f"The downloaded video is not readable: {info.message}",
                retryable=True,
            )
            return
        thumbnail = await self._make_thumbnail(target, job)
        input_seconds = await self._blocking(_reference_video_seconds, job.shot)
        crash_point("before_library_write")
        self._finish(job, target, thumbnail, info, input_seconds)
        crash_point("after_library_write")

    def _finish(
        self, job: Job, target: Path, thumbnail: Path | None, info: MediaInfo, input_s: float
    ) -> None:
        now = self.clock()
        final_cost = billed_cost(
            ENDPOINTS[job.endpoint],
            (info.width or 0) * (info.height or 0),
            info.duration_s or 0.0,
            input_video_s=input_s,
            with_videos=bool(job.shot.videos),
        )
        if job.simulated:
            final_cost = 0.0  # the simulator bills nothing
        timings = {
            "queued_at": job.created_at,
            "submitted_at": job.submitted_at or 0.0,
            "completed_at": job.completed_at or 0.0,
            "saved_at": now,
        }
        with self.db.transaction() as tx:
            self.library.add(
                tx,
                {
                    "job_id": job.id,
                    "uid": job.uid,
                    "path": str(target),
                    "thumbnail": str(thumbnail) if thumbnail else None,
                    "created_at": now,
                    "mode": job.shot.mode.value,
                    "endpoint": job.endpoint,
                    "prompt": job.shot.prompt,
                    "input_json": json.dumps(job.input or {}),
                    "shot_json": json.dumps(shot_to_json(job.shot)),
                    "seed": job.seed,
                    "cost": round(final_cost, 4),
                    "request_id": job.request_id,
                    "timings_json": json.dumps(timings),
                    "width": info.width,
                    "height": info.height,
                    "duration_s": info.duration_s,
                    "size_bytes": info.size_bytes,
                },
            )
            job = self._move(
                job,
                JobState.DONE,
                result_path=str(target),
                final_cost=round(final_cost, 4),
                finished_at=now,
            )
        self.events.emit(LibraryChanged(job.id))
        self.events.emit(SpendChanged(self.spend()))

    def thumbnail_path(self, job: Job) -> Path:
        """Where a job's result thumbnail is (or will be) kept."""
        return self.paths.thumbnails / f"{job.uid}.jpg"

    async def _make_thumbnail(self, video: Path, job: Job) -> Path | None:
        target = self.thumbnail_path(job)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            return await self._blocking(poster_frame, video, target)
        except Exception as exc:  # a missing thumbnail must not lose the video
            log.warning("no thumbnail for job %s: %s", job.id, exc)
            return None

    async def _request_cancel(self, job: Job) -> None:
        client = self._require_client()
        try:
            outcome = await client.cancel(self._handle(job))
        except fal_errors.FalError as exc:
            self.jobs.add_logs(job, [("WARN", "app", f"Cancel not confirmed: {exc.message}")])
            return
        self.jobs.add_logs(job, [("INFO", "app", f"Cancel: fal answered {outcome}")])
        if outcome is CancelOutcome.NOT_FOUND:
            self._move(self.jobs.get(job.id), JobState.CANCELLED, detail="fal has no such request")
        self._changed(self.jobs.get(job.id))

    # Helpers -----------------------------------------------------------------------------------

    def _move(
        self, job: Job, target: JobState, *, detail: str | None = None, **changes: Any
    ) -> Job:
        job = self.jobs.move(job, target, detail=detail, **changes)
        self._changed(job)
        # Committed money changes when a job starts, leaves fal's hands, goes back to the queue
        # (a refused submit, a resubmission) or ends.
        if target in COMMITTED_STATES or target is JobState.QUEUED or job.state.is_final:
            self.events.emit(SpendChanged(self.spend()))
        return job

    def _changed(self, job: Job) -> None:
        self.events.emit(JobChanged(job))

    def _fail(self, job: Job, kind: ErrorKind, message: str, *, retryable: bool) -> None:
        self._move(
            job,
            JobState.FAILED,
            detail=message,
            error=message,
            error_kind=kind,
            retryable=int(retryable),
            finished_at=self.clock(),
        )

    def _block_queue(self, reason: str) -> None:
        self._queue_block = reason
        self.events.emit(QueueChanged(self.settings.paused))

    def _progress(self, job_id: int, phase: ProgressPhase, done: int, total: int | None) -> None:
        self.events.emit(JobProgress(job_id, phase, done=done, total=total))

    def _download_progress(self, job_id: int) -> Callable[[int, int | None], None]:
        crashed = False

        def report(done: int, total: int | None) -> None:
            nonlocal crashed
            self._progress(job_id, ProgressPhase.DOWNLOAD, done, total)
            if total and done >= total // 2 and not crashed:
                crashed = True
                crash_point("mid_download")

        return report

    def _handle(self, job: Job) -> Handle:
        """The job's request at fal. Saved URLs are used while they are on the configured origin
        (the key is never sent elsewhere); otherwise they are rebuilt from the request id."""
        assert job.request_id is not None
        status, response, cancel = job.status_url, job.response_url, job.cancel_url
        if (
            status
            and response
            and cancel
            and all(self.fal_config.key_allowed(u) for u in (status, response, cancel))
        ):
            return Handle(job.endpoint, job.request_id, status, response, cancel)
        return Handle.rebuild(self.fal_config.queue_url, job.endpoint, job.request_id)

    def _result_path(self, job: Job) -> Path:
        month = time.strftime("%Y-%m", time.localtime(job.created_at))
        root = Path(self.settings.library_dir) if self.settings.library_dir else self.paths.library
        return root / month / f"{job.uid}.mp4"

    def _require_client(self) -> FalClient:
        if self._client is None:
            raise RuntimeError("the engine is not started")
        return self._client

    async def run_blocking(self, function: Callable[..., T], *args: Any) -> T:
        """Run blocking work (file I/O, decoding) in the engine's executor."""
        return await self._blocking(function, *args)

    async def _blocking(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)


_CLEARED_ATTEMPT: dict[str, Any] = {
    "request_id": None,
    "status_url": None,
    "response_url": None,
    "cancel_url": None,
    "result_json": None,
    "error": None,
    "error_kind": None,
    "retryable": None,
    "cancel_requested": 0,
    "submitted_at": None,
    "completed_at": None,
    "finished_at": None,
}


def _video_url(result: dict[str, Any]) -> str | None:
    video = result.get("video")
    url = video.get("url") if isinstance(video, dict) else None
    return url if isinstance(url, str) else None


# Failures that are fal's final answer for the request: fetching it again changes nothing.
def _still_at_fal(message: str, job: Job) -> str:
    """A failure message for a job fal accepted: the request is not lost, and how to get it."""
    return (
        f"{message} fal still has the request ({job.request_id}): Fetch again asks for it "
        "without paying again."
    )


_ERROR_KINDS: tuple[tuple[type[fal_errors.FalError], ErrorKind], ...] = (
    (fal_errors.ContentPolicy, ErrorKind.CONTENT_POLICY),
    (fal_errors.ValidationFailed, ErrorKind.VALIDATION),
    (fal_errors.ServiceError, ErrorKind.SERVICE),
    (fal_errors.ResultExpired, ErrorKind.EXPIRED),
    (fal_errors.DownloadFailed, ErrorKind.DOWNLOAD),
    (fal_errors.UnreadableAnswer, ErrorKind.UNREADABLE),
    (fal_errors.LocalFileError, ErrorKind.LOCAL),
)


def _error_kind(exc: Exception) -> ErrorKind:
    for error_type, kind in _ERROR_KINDS:
        if isinstance(exc, error_type):
            return kind
    return ErrorKind.REFUSED if isinstance(exc, fal_errors.FalError) else ErrorKind.INTERNAL


def _reference_video_seconds(shot: Shot) -> float:
    """Seconds of the local reference videos (fal bills them on top of the output). Blocking."""
    infos = (probe(ref) for ref in shot.videos if not is_remote(ref))
    return sum(i.duration_s or 0.0 for i in infos if isinstance(i, MediaInfo))
