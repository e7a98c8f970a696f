"""The simulator's queue: jobs, their fal lifecycle (IN_QUEUE → IN_PROGRESS → COMPLETED) and cancel.

Everything here runs on the server's event loop. At most `max_concurrent` jobs run at once; the rest
wait in order (low priority behind normal) and see their `queue_position` count down. A job's work
(validation and rendering) is an injected coroutine, so this module knows nothing about video.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from seedance_desktop.simulator.config import SimulatorConfig

PROGRESS_STEPS = 10
logger = logging.getLogger(__name__)


class State(StrEnum):
    IN_QUEUE = "IN_QUEUE"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class Outcome:
    """What GET {response_url} answers once the job is COMPLETED."""

    status_code: int
    body: object
    headers: dict[str, str] = field(default_factory=dict)
    error_type: str | None = None  # fal's machine key for infrastructure failures

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def error(self) -> str | None:
        """A short text for the status object of a failed request."""
        if self.ok:
            return None
        detail = self.body.get("detail") if isinstance(self.body, dict) else None
        if isinstance(detail, str):
            return detail
        if isinstance(detail, list) and detail and isinstance(detail[0], dict):
            return str(detail[0].get("msg", "Invalid input"))
        return f"Request failed with status {self.status_code}"


CANCELLED = Outcome(499, {"detail": "Request was cancelled."})
INTERNAL_ERROR = Outcome(500, {"detail": "Internal error in the simulated model."})


def start_timeout_outcome() -> Outcome:
    return Outcome(
        504,
        {"detail": "Request timed out before it could start.", "error_type": "request_timeout"},
        {
            "X-Fal-Error-Type": "request_timeout",
            "X-Fal-Request-Timeout-Type": "user",
            "X-Fal-Retryable": "false",
        },
        error_type="request_timeout",
    )


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(eq=False)  # a job is itself: compared by identity
class Job:
    id: str
    model_id: str
    app_id: str  # owner/app: where status, result and cancel live
    payload: object
    base_url: str  # the origin the client reached us on, for absolute URLs
    own_netlocs: frozenset[str]  # host:port spellings that mean "this server"
    slow: bool = False
    priority: int = 0  # 0 normal, 1 low
    seq: int = 0
    submitted_at: float = field(default_factory=time.monotonic)
    state: State = State.IN_QUEUE
    logs: list[dict[str, str]] = field(default_factory=list)
    outcome: Outcome | None = None
    started_at: float | None = None
    finished_at: float | None = None
    cancel_requested: asyncio.Event = field(default_factory=asyncio.Event)
    version: int = 0
    position: int | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    # Change notification (SSE listeners) -------------------------------------------------------

    def touch(self) -> None:
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_change(self, seen: int, within_s: float) -> bool:
        """True once `version` differs from `seen`; False after `within_s` without a change."""
        if self.version != seen:
            return True
        event = self._changed
        try:
            async with asyncio.timeout(within_s):
                await event.wait()
        except TimeoutError:
            return False
        return True

    def log(self, message: str, level: str = "INFO") -> None:
        self.logs.append(
            {"message": message, "level": level, "source": "user", "timestamp": _now_iso()}
        )
        self.touch()

    # Answers ---------------------------------------------------------------------------------

    def urls(self) -> dict[str, str]:
        response_url = f"{self.base_url}/{self.app_id}/requests/{self.id}"
        return {
            "response_url": response_url,
            "status_url": f"{response_url}/status",
            "cancel_url": f"{response_url}/cancel",
        }

    def status_json(self, with_logs: bool) -> dict[str, object]:
        body: dict[str, object] = {"status": self.state.value, "request_id": self.id}
        body.update(self.urls())
        if self.state is State.IN_QUEUE:
            body["queue_position"] = self.position or 0
        body["logs"] = list(self.logs) if with_logs else None
        if self.state is State.COMPLETED:
            elapsed = (self.finished_at or 0.0) - (self.started_at or self.finished_at or 0.0)
            body["metrics"] = {"inference_time": round(elapsed, 3)}
            if self.outcome is not None and not self.outcome.ok:
                body["error"] = self.outcome.error
                body["error_type"] = self.outcome.error_type
        return body


JobWork = Callable[[Job], Coroutine[Any, Any, Outcome]]
CancelResult = Literal["removed", "requested", "completed"]


class JobQueue:
    def __init__(self, config: SimulatorConfig, work: JobWork) -> None:
        self._config = config
        self._work = work
        self._jobs: dict[str, Job] = {}
        self._waiting: list[Job] = []
        self._running: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers: list[asyncio.TimerHandle] = []
        self._seq = 0
        self.closed = False

    @property
    def _queue_delay(self) -> float:
        return 0.0 if self._config.instant else self._config.queue_delay_s

    def get(self, app_id: str, request_id: str) -> Job | None:
        job = self._jobs.get(request_id)
        return job if job is not None and job.app_id == app_id else None

    def submit(
        self,
        model_id: str,
        payload: object,
        base_url: str,
        own_netlocs: frozenset[str],
        *,
        slow: bool = False,
        low_priority: bool = False,
        start_timeout_s: float | None = None,
    ) -> Job:
        self._seq += 1
        owner, app, *_ = model_id.split("/")
        job = Job(
            id=str(uuid.uuid4()),
            model_id=model_id,
            app_id=f"{owner}/{app}",
            payload=payload,
            base_url=base_url,
            own_netlocs=own_netlocs,
            slow=slow,
            priority=1 if low_priority else 0,
            seq=self._seq,
        )
        self._jobs[job.id] = job
        self._waiting.append(job)
        self._waiting.sort(key=lambda j: (j.priority, j.seq))
        self._update_positions()
        loop = asyncio.get_running_loop()
        if start_timeout_s is not None and start_timeout_s > 0:
            self._timers.append(loop.call_later(start_timeout_s, self._start_deadline, job))
        # Answer the submit first (IN_QUEUE), then let the queue move.
        loop.call_soon(self._pump)
        return job

    def cancel(self, job: Job) -> CancelResult:
        if job.state is State.COMPLETED:
            return "completed"
        if job.state is State.IN_QUEUE:
            self._waiting.remove(job)
            self._finish(job, CANCELLED)
            self._update_positions()
            return "removed"
        job.cancel_requested.set()
        job.log("Cancellation requested", "WARN")
        return "requested"

    async def close(self) -> None:
        """Stop: wake every listener so streams end, drop timers, cancel running lifecycles."""
        self.closed = True
        for timer in self._timers:
            timer.cancel()
        for job in self._jobs.values():
            job.touch()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # Scheduling ------------------------------------------------------------------------------

    def _update_positions(self) -> None:
        for index, job in enumerate(self._waiting):
            if job.position != index:
                job.position = index
                job.touch()

    def _pump(self) -> None:
        if self.closed:
            return
        now = time.monotonic()
        next_ready: float | None = None
        for job in list(self._waiting):
            if len(self._running) >= max(1, self._config.max_concurrent):
                break
            ready_at = job.submitted_at + self._queue_delay
            if ready_at > now:
                next_ready = ready_at if next_ready is None else min(next_ready, ready_at)
                continue
            self._waiting.remove(job)
            self._running.add(job.id)
            task = asyncio.get_running_loop().create_task(self._run(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._update_positions()
        if next_ready is not None:
            loop = asyncio.get_running_loop()
            self._timers.append(loop.call_later(max(0.0, next_ready - now), self._pump))

    def _start_deadline(self, job: Job) -> None:
        if job.state is State.IN_QUEUE:
            self._waiting.remove(job)
            self._finish(job, start_timeout_outcome())
            self._update_positions()

    def _finish(self, job: Job, outcome: Outcome) -> None:
        job.outcome = outcome
        job.finished_at = time.monotonic()
        job.state = State.COMPLETED
        if not outcome.ok:
            job.log(f"Request failed: {outcome.error}", "ERROR")
        job.touch()

    # One job's run ---------------------------------------------------------------------------

    async def _run(self, job: Job) -> None:
        try:
            job.state = State.IN_PROGRESS
            job.position = None
            job.started_at = time.monotonic()
            job.log(f"Starting {job.model_id} (simulated)")
            try:
                outcome = await self._run_until_done_or_cancelled(job)
            except Exception:
                logger.exception("simulated job %s failed", job.id)
                outcome = INTERNAL_ERROR
            if outcome.ok:
                job.log("Done")
            self._finish(job, outcome)
        finally:
            self._running.discard(job.id)
            if not self.closed:
                self._pump()

    async def _run_until_done_or_cancelled(self, job: Job) -> Outcome:
        loop = asyncio.get_running_loop()
        work = loop.create_task(self._work(job))
        # The work may sit in a render thread that cannot be interrupted: never cancel it, so a
        # second job with the same input waits for the same file instead of racing it.
        work.add_done_callback(_consume_exception)
        progress = loop.create_task(self._progress(job))
        cancelled = loop.create_task(job.cancel_requested.wait())
        both: asyncio.Future[Any] = asyncio.gather(asyncio.shield(work), progress)
        both.add_done_callback(_consume_exception)
        try:
            await asyncio.wait({both, cancelled}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            cancelled.cancel()
        if job.cancel_requested.is_set():
            both.cancel()
            await asyncio.wait({both})
            return CANCELLED
        outcome, _ = await both
        return outcome

    async def _progress(self, job: Job) -> None:
        run_time = self._config.run_time_s if (job.slow or not self._config.instant) else 0.0
        if run_time <= 0:
            return
        for step in range(1, PROGRESS_STEPS + 1):
            await asyncio.sleep(run_time / PROGRESS_STEPS)
            job.log(f"Rendering {step * 100 // PROGRESS_STEPS}%")


def _consume_exception(future: asyncio.Future[Any]) -> None:
    """Mark a failure as seen (it is reported elsewhere), so asyncio does not log it again."""
    if not future.cancelled():
        future.exception()
