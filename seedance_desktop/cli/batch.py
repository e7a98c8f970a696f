"""`seedance-desktop batch FILE.jsonl`: queue many shots at once, wait, report.

Each line has the shape `generate --dry-run --json` prints: `{"endpoint": ..., "input": {...}}`
(other keys are ignored). Every line is checked first; if any has an error, nothing is queued.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from seedance_desktop.cli.fitting import fit_shot
from seedance_desktop.cli.generate_live import interrupt_event, wait_for_final
from seedance_desktop.cli.handover import AppClosed, follow, hand_to_app, say_left_in_app
from seedance_desktop.cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE, add_fit_argument
from seedance_desktop.cli.owner_client import app_is_open, refuse_busy
from seedance_desktop.cli.progress import ProgressPrinter
from seedance_desktop.cli.queue import job_json
from seedance_desktop.domain.plan import Plan, plan_shot
from seedance_desktop.domain.pricing import ZERO
from seedance_desktop.domain.shot import Shot, shot_from_input
from seedance_desktop.engine.engine import BudgetExceeded
from seedance_desktop.engine.events import EventBus
from seedance_desktop.engine.jobs import Job
from seedance_desktop.engine.ownership import FolderBusy
from seedance_desktop.engine.states import JobState
from seedance_desktop.media.references import probe_references
from seedance_desktop.paths import app_paths
from seedance_desktop.runtime import running_engine


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.jsonl", help="one shot per line")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON array")
    add_fit_argument(parser)  # and PATH#t=3,9 ranges in a line's video_urls and audio_urls


def read_shots(path: Path) -> tuple[list[Shot], list[str]]:
    """The shots of a batch file and the problems of its lines (as "line N: ..." texts)."""
    shots, problems = [], []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{path.name} cannot be read: {exc}"]
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            shot = shot_from_input(str(data["endpoint"]), data["input"])
        except (ValueError, KeyError, TypeError, AttributeError):
            problems.append(
                f'line {number}: not a shot; expected {{"endpoint": ..., "input": {{...}}}}'
            )
            continue
        shots.append(shot)
    if not shots and not problems:
        problems.append(f"{path.name} holds no shots.")
    return shots, problems


def plan_all(shots: list[Shot]) -> list[Plan]:
    return [plan_shot(shot, probe_references(shot)) for shot in shots]


def fit_all(shots: list[Shot], *, fit: bool) -> tuple[list[Shot], list[str]]:
    """Each shot with its `#t=` ranges (and, with --fit, every reference over a limit) fitted."""
    fitted, problems = [], []
    for index, shot in enumerate(shots, start=1):
        shot, _, found = fit_shot(shot, fit_all=fit, folder=app_paths().fitted)
        problems += [f"shot {index}, {p.field}: {p.message}" for p in found]
        fitted.append(shot)
    return fitted, problems


def run_from_args(args: argparse.Namespace) -> int:
    shots, problems = read_shots(Path(args.file))
    shots, fit_problems = fit_all(shots, fit=args.fit)
    problems += fit_problems
    plans = plan_all(shots)
    for index, plan in enumerate(plans, start=1):
        problems += [f"shot {index}, {p.field}: {p.message}" for p in plan.errors]
    if problems:
        print("Nothing was queued:", file=sys.stderr)
        for text in problems:
            print(f"  {text}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return asyncio.run(_run(plans, as_json=args.json))
    except FolderBusy as busy:
        if not app_is_open(busy.folder):
            return refuse_busy(busy, "queue the shots there, or close the app.")
        return asyncio.run(_run_in_app(busy.folder, plans, as_json=args.json))


async def _run_in_app(data_folder: Path, plans: list[Plan], *, as_json: bool) -> int:
    """The window owns the library: the shots go into its queue, and this command follows them."""
    ids, message = hand_to_app(data_folder, [plan.shot for plan in plans])
    if not ids:
        print(message, file=sys.stderr)
        return EXIT_USAGE
    total = sum((p.estimate for p in plans), ZERO)
    print(
        f"The app is open on this library: {len(ids)} jobs are in its queue, estimated {total} "
        "in all.",
        file=sys.stderr,
    )
    stop = interrupt_event()
    try:
        jobs = await follow(app_paths().database, data_folder, ids, stop)
    except AppClosed:
        say_left_in_app(ids, closed=True)
        return EXIT_FAILED
    if stop.is_set() and not all(j.state.is_final for j in jobs):
        say_left_in_app([j.id for j in jobs if not j.state.is_final], closed=False)
    return _report(jobs, as_json=as_json)


async def _run(plans: list[Plan], *, as_json: bool) -> int:
    events = EventBus()
    events.subscribe(ProgressPrinter())
    async with running_engine(events=events) as runtime:
        engine = runtime.engine
        total = sum(plan.estimate.max_usd for plan in plans)
        try:  # the whole batch, before any of it is queued
            shots = "This shot" if len(plans) == 1 else f"These {len(plans)} shots"
            engine.check_budget(total, f"{shots} could cost up to ${total:.2f}")
        except BudgetExceeded as exc:
            print(f"Nothing was queued: {exc.message}", file=sys.stderr)
            return EXIT_USAGE
        estimate = sum((p.estimate for p in plans), ZERO)
        print(f"Queueing {len(plans)} shots, estimated {estimate} in all.", file=sys.stderr)
        ids = []
        for plan in plans:
            ids += [job.id for job in await engine.enqueue(plan.shot)]
        await wait_for_final(engine, set(ids), interrupt_event())
        jobs = [engine.jobs.get(i) for i in ids]
    return _report(jobs, as_json=as_json)


def _report(jobs: list[Job], *, as_json: bool) -> int:
    if as_json:
        json.dump([job_json(j) for j in jobs], sys.stdout, indent=2)
        print()
    else:
        for job in jobs:
            outcome = job.result_path or job.error or job.state.label
            print(f"{job.id:>5}  {job.state.label:<20} {outcome}")
    return EXIT_OK if all(j.state is JobState.DONE for j in jobs) else EXIT_FAILED
