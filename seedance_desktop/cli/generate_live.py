"""`seedance-desktop generate` without --dry-run: one job through the engine, into the library."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import signal
import sys
from pathlib import Path

from seedance_desktop.cli.generate import print_plan
from seedance_desktop.cli.handover import AppClosed, follow, hand_to_app, say_left_in_app
from seedance_desktop.cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from seedance_desktop.cli.owner_client import app_is_open, refuse_busy
from seedance_desktop.cli.progress import ProgressPrinter
from seedance_desktop.domain.plan import Plan
from seedance_desktop.engine.engine import BudgetExceeded, Engine, InvalidShot
from seedance_desktop.engine.events import Event, EventBus, JobChanged
from seedance_desktop.engine.jobs import Job
from seedance_desktop.engine.ownership import FolderBusy
from seedance_desktop.engine.states import JobState
from seedance_desktop.paths import app_paths
from seedance_desktop.runtime import running_engine


def run(args: argparse.Namespace, plan: Plan) -> int:
    if not plan.ok:
        print_plan(plan, as_json=False, out=sys.stderr)
        return EXIT_USAGE
    out = Path(args.out) if args.out else None
    try:
        return asyncio.run(_generate(plan, out))
    except FolderBusy as busy:
        if not app_is_open(busy.folder):
            return refuse_busy(busy, "queue it there, or close the app.")
        return asyncio.run(_generate_in_app(busy.folder, plan, out))


async def _generate_in_app(data_folder: Path, plan: Plan, out: Path | None) -> int:
    """The window owns the library: the job goes into its queue, and this command follows it."""
    ids, message = hand_to_app(data_folder, [plan.shot])
    if not ids:
        print(message, file=sys.stderr)
        return EXIT_USAGE
    print(
        f"The app is open on this library: job {ids[0]} is in its queue, estimated "
        f"{plan.estimate}.",
        file=sys.stderr,
    )
    stop = interrupt_event()
    try:
        (job,) = await follow(app_paths().database, data_folder, ids, stop)
    except AppClosed:
        say_left_in_app(ids, closed=True)
        return EXIT_FAILED
    if stop.is_set() and not job.state.is_final:
        say_left_in_app(ids, closed=False)
        return EXIT_FAILED
    return _report(job, out)


async def wait_for_final(engine: Engine, job_ids: set[int], stop: asyncio.Event) -> None:
    """Return when every job is final or waits for the person, or when `stop` is set."""
    settled = asyncio.Event()

    def check(_: Event | None = None) -> None:
        jobs = [engine.jobs.get(i) for i in job_ids]
        if all(j.state.is_final or j.state is JobState.UNKNOWN_SUBMISSION for j in jobs):
            settled.set()

    unsubscribe = engine.events.subscribe(
        lambda e: check(e) if isinstance(e, JobChanged) and e.job.id in job_ids else None
    )
    try:
        check()
        waits = {asyncio.ensure_future(settled.wait()), asyncio.ensure_future(stop.wait())}
        _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
    finally:
        unsubscribe()


def interrupt_event() -> asyncio.Event:
    """An event set by Ctrl+C instead of the usual KeyboardInterrupt."""
    stop = asyncio.Event()
    with contextlib.suppress(NotImplementedError, RuntimeError):  # not on every platform
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
    return stop


async def _ask(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    answer = await asyncio.get_running_loop().run_in_executor(None, input, question)
    return answer.strip().lower() in ("y", "yes")


async def _generate(plan: Plan, out: Path | None) -> int:
    events = EventBus()
    printer = ProgressPrinter()
    events.subscribe(printer)
    async with running_engine(events=events) as runtime:
        if runtime.notice:
            print(runtime.notice, file=sys.stderr)
        if runtime.backend.kind == "simulator":
            print(
                f"No fal key set: using the bundled simulator at {runtime.backend.config.queue_url}"
                " (nothing is billed).",
                file=sys.stderr,
            )
        engine = runtime.engine
        try:
            (job,) = await engine.enqueue(plan.shot)
        except InvalidShot as exc:
            print(f"Not queued: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except BudgetExceeded as exc:
            print(f"Not queued: {exc.message}", file=sys.stderr)
            return EXIT_USAGE
        printer.job_ids = {job.id}
        print(f"Queued job {job.id}, estimated {plan.estimate}.", file=sys.stderr)
        stop = interrupt_event()
        await wait_for_final(engine, {job.id}, stop)
        job = engine.jobs.get(job.id)
        if stop.is_set() and not job.state.is_final:
            return await _interrupted(engine, job)
        return _report(job, out)


async def _interrupted(engine: Engine, job: Job) -> int:
    print("", file=sys.stderr)
    if job.request_id and await _ask("Cancel the job at fal? It may still be billed. [y/N] "):
        job = await engine.cancel(job.id)
        print(f"Cancel requested for request {job.request_id}.", file=sys.stderr)
    elif job.request_id:
        print(
            f"Left running at fal: request {job.request_id}. `seedance-desktop queue run` picks "
            "it up and saves the video to the library.",
            file=sys.stderr,
        )
    else:
        print(
            f"Job {job.id} stays queued; `seedance-desktop queue run` sends it later.",
            file=sys.stderr,
        )
    return EXIT_FAILED


def _report(job: Job, out: Path | None) -> int:
    if job.state is JobState.DONE and job.result_path:
        path = Path(job.result_path)
        if out is not None:
            path = _copy_out(path, out)
        print(str(path))
        cost = f"${job.final_cost:.2f} (estimate)" if job.final_cost is not None else "unknown"
        print(f"Done: seed {job.seed}, cost {cost}.", file=sys.stderr)
        return EXIT_OK
    if job.state is JobState.UNKNOWN_SUBMISSION:
        named = f" (fal named it request {job.request_id})" if job.request_id else ""
        print(
            f"The submission's outcome is unknown: fal may or may not have received it{named}. "
            "See `seedance-desktop queue list`, then `queue resolve ID resubmit|drop`.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    print(f"Failed: {job.error or job.state.label}", file=sys.stderr)
    return EXIT_FAILED


def _copy_out(source: Path, out: Path) -> Path:
    target = out / source.name if out.is_dir() else out
    if target.exists():
        print(f"{target} already exists; the video stays in the library.", file=sys.stderr)
        return source
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target
