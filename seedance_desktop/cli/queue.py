"""`seedance-desktop queue`: list, cancel, retry, resolve and run the persisted queue."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from seedance_desktop.cli.generate_live import interrupt_event
from seedance_desktop.cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from seedance_desktop.cli.owner_client import ask_owner, refuse_busy
from seedance_desktop.cli.progress import ProgressPrinter
from seedance_desktop.engine.actions import ACTIONS, JobAction, Resolution
from seedance_desktop.engine.database import Database, DatabaseError
from seedance_desktop.engine.engine import Engine
from seedance_desktop.engine.events import EventBus
from seedance_desktop.engine.jobs import Job, JobRepository
from seedance_desktop.engine.owner_commands import perform
from seedance_desktop.engine.owner_protocol import RESOLVE, job_request
from seedance_desktop.engine.ownership import FolderBusy
from seedance_desktop.engine.states import JobState
from seedance_desktop.paths import app_paths
from seedance_desktop.runtime import running_engine


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every job with its state")
    listing.add_argument("--json", action="store_true", help="one JSON array")
    listing.add_argument("--all", action="store_true", help="include finished jobs")
    for job_action in (JobAction.CANCEL, JobAction.RETRY, JobAction.FETCH_AGAIN, JobAction.REMOVE):
        action = actions.add_parser(job_action.value, help=ACTIONS[job_action].does)
        action.add_argument("job_id", type=int)
    resolve = actions.add_parser(RESOLVE, help="decide on a job whose submission is unclear")
    resolve.add_argument("job_id", type=int)
    resolve.add_argument("decision", choices=[r.value for r in Resolution])
    actions.add_parser("run", help="work the queue headless until nothing is left to do")


def job_json(job: Job) -> dict[str, object]:
    return {
        "id": job.id,
        "state": job.state.value,
        "endpoint": job.endpoint,
        "prompt": job.prompt,
        "attempt": job.attempt,
        "request_id": job.request_id,
        "estimate_usd": job.estimate.to_json(),
        "cost_usd": job.final_cost,
        "simulated": job.simulated,  # run by the bundled simulator: nothing billed
        "seed": job.seed,
        "error": job.error,
        "result_path": job.result_path,
    }


def run_from_args(args: argparse.Namespace) -> int:
    if args.action == "list":
        return _list(args)
    if args.action == "run":
        return asyncio.run(_run_queue())
    if args.action == RESOLVE:
        request = job_request(RESOLVE, args.job_id, decision=args.decision)
    else:
        request = job_request(args.action, args.job_id)
    return asyncio.run(_act(request))


def _list(args: argparse.Namespace) -> int:
    """Read-only: no engine, no scheduler, no lock; works beside the window."""
    try:
        db = Database.open_read_only(app_paths().database)
    except DatabaseError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILED
    jobs: list[Job] = []
    if db is not None:
        try:
            jobs = [j for j in JobRepository(db).all() if args.all or not j.state.is_final]
        finally:
            db.close()
    if args.json:
        json.dump([job_json(j) for j in jobs], sys.stdout, indent=2)
        print()
    else:
        for job in jobs:
            estimate = str(job.estimate)
            print(f"{job.id:>5}  {job.state.label:<22} {estimate:>12}  {job.prompt[:56]}")
        if not jobs:
            print("The queue is empty.")
    return EXIT_OK


async def _act(request: dict[str, Any]) -> int:
    """One job's action, and nothing else: by this process when no one owns the folder (an
    engine that schedules nothing), else by the window that owns it, over its socket."""
    try:
        async with running_engine(schedule=False) as runtime:
            reply = await perform(runtime.engine, request)
    except FolderBusy as busy:
        answer = ask_owner(busy.folder, request)
        if answer is None:
            print(f"{busy} Nothing was changed.", file=sys.stderr)
            return EXIT_USAGE
        reply = answer
    print(reply.message, file=sys.stdout if reply.ok else sys.stderr)
    return reply.exit_code


async def _run_queue() -> int:
    events = EventBus()
    events.subscribe(ProgressPrinter())
    try:
        async with running_engine(events=events) as runtime:
            engine = runtime.engine
            await _work(engine)
            left = [j for j in engine.jobs.all() if not j.state.is_final]
            failed = [j for j in engine.jobs.all([JobState.FAILED])]
    except FolderBusy as busy:
        return refuse_busy(busy, "it works the queue itself. Close the app to run it here.")
    print(f"{len(left)} job(s) left waiting, {len(failed)} failed.", file=sys.stderr)
    return EXIT_OK if not left else EXIT_FAILED


async def _work(engine: Engine) -> None:
    stop = interrupt_event()
    idle = asyncio.ensure_future(engine.run_until_idle())
    interrupted = asyncio.ensure_future(stop.wait())
    await asyncio.wait({idle, interrupted}, return_when=asyncio.FIRST_COMPLETED)
    for task in (idle, interrupted):
        task.cancel()
