"""`seedance-desktop queue`: list, cancel, retry, resolve and run the persisted queue."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from seedance_desktop.cli.generate_live import interrupt_event
from seedance_desktop.cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from seedance_desktop.cli.progress import ProgressPrinter
from seedance_desktop.engine.engine import ActionRefused
from seedance_desktop.engine.events import EventBus
from seedance_desktop.engine.jobs import Job
from seedance_desktop.engine.states import JobState
from seedance_desktop.runtime import running_engine


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every job with its state")
    listing.add_argument("--json", action="store_true", help="one JSON array")
    listing.add_argument("--all", action="store_true", help="include finished jobs")
    for name, text in (
        ("cancel", "cancel a job"),
        ("retry", "retry a failed or cancelled job (a new, paid request)"),
        ("fetch-again", "ask fal again for a failed job's request (no new submit, no new charge)"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("job_id", type=int)
    resolve = actions.add_parser("resolve", help="decide on a job whose submission is unclear")
    resolve.add_argument("job_id", type=int)
    resolve.add_argument("decision", choices=["resubmit", "drop"])
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
        "seed": job.seed,
        "error": job.error,
        "result_path": job.result_path,
    }


def run_from_args(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    events = EventBus()
    if args.action == "run":
        events.subscribe(ProgressPrinter())
    async with running_engine(events=events) as runtime:
        engine = runtime.engine
        if args.action == "list":
            jobs = [j for j in engine.jobs.all() if args.all or not j.state.is_final]
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
        if args.action == "run":
            await _work(engine)
            left = [j for j in engine.jobs.all() if not j.state.is_final]
            failed = [j for j in engine.jobs.all([JobState.FAILED])]
            print(f"{len(left)} job(s) left waiting, {len(failed)} failed.", file=sys.stderr)
            return EXIT_OK if not left else EXIT_FAILED
        try:
            if args.action == "cancel":
                job = await engine.cancel(args.job_id)
            elif args.action == "retry":
                job = await engine.retry(args.job_id)
            elif args.action == "fetch-again":
                job = await engine.fetch_again(args.job_id)
            else:
                job = await engine.resolve_unknown(args.job_id, args.decision)
        except KeyError:
            print(f"There is no job {args.job_id}.", file=sys.stderr)
            return EXIT_USAGE
        except ActionRefused as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_FAILED
        print(f"Job {job.id}: {job.state.label}.")
        return EXIT_OK


async def _work(engine) -> None:  # type: ignore[no-untyped-def]
    stop = interrupt_event()
    idle = asyncio.ensure_future(engine.run_until_idle())
    interrupted = asyncio.ensure_future(stop.wait())
    await asyncio.wait({idle, interrupted}, return_when=asyncio.FIRST_COMPLETED)
    for task in (idle, interrupted):
        task.cancel()
