"""The job actions another process may ask of the folder's owner, answered the same way whether
the command line acts itself (no window open) or the window acts for it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from seedance_desktop.engine.engine import ActionRefused, Engine
from seedance_desktop.engine.jobs import Job
from seedance_desktop.engine.owner_protocol import EXIT_FAILED, EXIT_USAGE, Reply


async def perform(engine: Engine, request: dict[str, Any]) -> Reply:
    """Act on the one job the request names (a checked request, see `decode_request`)."""
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
