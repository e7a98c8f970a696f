"""The job actions another process may ask of the folder's owner, answered the same way whether
the command line acts itself (no window open) or the window acts for it."""

from __future__ import annotations

from typing import Any

from seedance_desktop.domain.shot import shot_from_json
from seedance_desktop.engine.actions import RESOLUTION_ACTIONS, JobAction, Resolution
from seedance_desktop.engine.engine import ActionRefused, BudgetExceeded, Engine, InvalidShot
from seedance_desktop.engine.interface import EngineInterface
from seedance_desktop.engine.owner_protocol import (
    ENQUEUE,
    EXIT_FAILED,
    EXIT_USAGE,
    RESOLVE,
    Reply,
)


async def perform(engine: Engine, request: dict[str, Any]) -> Reply:
    """Act on the one job the request names, or queue the shots it carries (a checked request,
    see `decode_request`)."""
    if request["command"] == ENQUEUE:
        return await _enqueue(engine, request["shots"])
    command, job_id = request["command"], request["job_id"]
    if command == RESOLVE:
        action = RESOLUTION_ACTIONS[Resolution(request["decision"])]
    else:
        action = JobAction(command)
    try:
        job = await EngineInterface(engine).perform(action, job_id)
    except KeyError:
        return Reply(False, f"There is no job {job_id}.", EXIT_USAGE)
    except ActionRefused as exc:
        return Reply(False, str(exc), EXIT_FAILED)
    if job is None:
        return Reply(True, f"Job {job_id}: removed.")
    return Reply(True, f"Job {job.id}: {job.state.label}.")


async def _enqueue(engine: Engine, shots: list[dict[str, Any]]) -> Reply:
    """Shots from `generate` or `batch` while the window owns the folder: into its queue, where
    they show up like any other job. All are checked before any is queued."""
    try:
        parsed = [shot_from_json(data) for data in shots]
    except (ValueError, TypeError) as exc:
        return Reply(False, f"Not queued: {exc}.", EXIT_USAGE)
    shot_estimates: list[float] = []
    for shot in parsed:
        plan = await engine.plan(shot)
        shot_estimates.append(plan.estimate.max_usd)
        if not plan.ok:
            return Reply(False, f"Not queued: {InvalidShot(plan.errors)}", EXIT_USAGE)
    job_ids: list[int] = []
    try:
        total = sum(shot_estimates)
        engine.check_budget(total, f"These shots could cost up to ${total:.2f}")
    except BudgetExceeded as exc:
        return Reply(False, f"Not queued: {exc.message}", EXIT_USAGE)
    for shot in parsed:
        job_ids += [job.id for job in await engine.enqueue(shot)]
    count = len(job_ids)
    return Reply(
        True, f"Queued in the app: {count} job{'s' if count != 1 else ''}.", 0, tuple(job_ids)
    )
