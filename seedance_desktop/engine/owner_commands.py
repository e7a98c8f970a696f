"""The job actions another process may ask of the folder's owner, answered the same way whether
the command line acts itself (no window open) or the window acts for it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from seedance_desktop.domain.shot import shot_from_json
from seedance_desktop.engine.engine import ActionRefused, Engine, InvalidShot
from seedance_desktop.engine.jobs import Job
from seedance_desktop.engine.owner_protocol import ENQUEUE, EXIT_FAILED, EXIT_USAGE, Reply


async def perform(engine: Engine, request: dict[str, Any]) -> Reply:
    """Act on the one job the request names, or queue the shots it carries (a checked request,
    see `decode_request`)."""
    if request["command"] == ENQUEUE:
        return await _enqueue(engine, request["shots"])
    command, job_id = request["command"], request["job_id"]
    action: Callable[[], Awaitable[Job]]
    if command == "cancel":
        action = lambda: engine.cancel(job_id)  # noqa: E731
    elif command == "retry":
        action = lambda: engine.retry(job_id)  # noqa: E731
    elif command == "resolve":
        action = lambda: engine.resolve_unknown(job_id, request["decision"])  # noqa: E731
    elif command == "fetch-again" and hasattr(engine, "fetch_again"):
        action = lambda: engine.fetch_again(job_id)  # noqa: E731
    else:
        return Reply(False, f"This version cannot {command} a job.", EXIT_USAGE)
    try:
        job = await action()
    except KeyError:
        return Reply(False, f"There is no job {job_id}.", EXIT_USAGE)
    except ActionRefused as exc:
        return Reply(False, str(exc), EXIT_FAILED)
    return Reply(True, f"Job {job.id}: {job.state.label}.")


async def _enqueue(engine: Engine, shots: list[dict[str, Any]]) -> Reply:
    """Shots from `generate` or `batch` while the window owns the folder: into its queue, where
    they show up like any other job. All are checked before any is queued."""
    try:
        parsed = [shot_from_json(data) for data in shots]
    except (ValueError, TypeError) as exc:
        return Reply(False, f"Not queued: {exc}.", EXIT_USAGE)
    for shot in parsed:
        plan = await engine.plan(shot)
        if not plan.ok:
            return Reply(False, f"Not queued: {InvalidShot(plan.errors)}", EXIT_USAGE)
    job_ids: list[int] = []
    for shot in parsed:
        job_ids += [job.id for job in await engine.enqueue(shot)]
    count = len(job_ids)
    return Reply(
        True, f"Queued in the app: {count} job{'s' if count != 1 else ''}.", 0, tuple(job_ids)
    )
