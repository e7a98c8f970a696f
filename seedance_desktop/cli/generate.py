"""`seedance-desktop generate`: check a shot locally (--dry-run) or make the video."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TextIO

from seedance_desktop.cli.fitting import FittedLine, fit_shot
from seedance_desktop.cli.main import EXIT_OK, EXIT_USAGE
from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.domain.plan import Plan, plan_shot
from seedance_desktop.domain.shot import Shot
from seedance_desktop.domain.validation import Problem, Severity
from seedance_desktop.media.references import is_remote, probe_references
from seedance_desktop.paths import app_paths


def shot_from_args(args: argparse.Namespace) -> tuple[Shot, list[Problem]]:
    """The shot the arguments describe, and problems only the command line can have."""
    mode = Mode(args.mode)
    images = [_reference(r) for r in args.image]
    problems: list[Problem] = []
    start_image = None
    if mode is Mode.IMAGE_TO_VIDEO:
        start_image = images[0] if images else None
        if len(images) > 1:
            problems.append(
                Problem(
                    "image_url",
                    Severity.ERROR,
                    "Image to video takes one start frame (--image) and at most one end frame "
                    "(--end-image).",
                )
            )
        images = []
    shot = Shot(
        mode=mode,
        fast=args.fast,
        prompt=args.prompt,
        resolution=args.resolution,
        duration=args.duration,
        aspect_ratio=args.aspect_ratio,
        generate_audio=False if args.no_audio else None,
        seed=args.seed,
        end_user_id=args.end_user_id,
        start_image=start_image,
        end_image=_reference(args.end_image) if args.end_image else None,
        images=tuple(images),
        videos=tuple(_reference(r) for r in args.video),
        audios=tuple(_reference(r) for r in args.audio),
    )
    return shot, problems


def _reference(text: str) -> str:
    """URLs stay as they are; local paths become absolute, so a saved request stays valid."""
    return text if is_remote(text) else os.path.abspath(text)


def make_plan(args: argparse.Namespace) -> Plan:
    return make_fitted_plan(args)[0]


def make_fitted_plan(args: argparse.Namespace) -> tuple[Plan, list[FittedLine]]:
    """The plan, after fitting the references `--fit` and `#t=` ranges ask for."""
    shot, cli_problems = shot_from_args(args)
    shot, fitted, fit_problems = fit_shot(
        shot, fit_all=args.fit, folder=app_paths().fitted, quiet=bool(getattr(args, "json", 0))
    )
    cli_problems += fit_problems
    plan = plan_shot(shot, probe_references(shot))
    if cli_problems:
        failed = {p.field for p in fit_problems}  # said once, by the fit, not again by validation
        kept = tuple(p for p in plan.problems if p.field not in failed)
        plan = Plan(plan.shot, plan.endpoint, plan.input, plan.estimate, (*cli_problems, *kept))
    return plan, fitted


def run(args: argparse.Namespace) -> int:
    plan, fitted = make_fitted_plan(args)
    if args.dry_run:
        plan = with_budget_problem(plan)
        print_plan(plan, as_json=args.json, fitted=fitted)
        return EXIT_OK if plan.ok else EXIT_USAGE
    from seedance_desktop.cli import generate_live

    return generate_live.run(args, plan)


def with_budget_problem(plan: Plan) -> Plan:
    """A dry run reports going over the month's budget as an error too (read from the local
    database: no network). Nothing to say on the simulator, or before anything was ever run."""
    from seedance_desktop.backend import runs_on_simulator
    from seedance_desktop.engine.database import Database
    from seedance_desktop.engine.settings import EngineSettings, SettingsStore
    from seedance_desktop.engine.spend import (
        BudgetExceeded,
        check_budget,
        shot_cost_text,
        spend_totals,
    )
    from seedance_desktop.paths import app_paths

    database = app_paths().database
    if not plan.ok or not database.exists() or runs_on_simulator():
        return plan
    db = Database.open(database)
    try:
        budget = EngineSettings.load(SettingsStore(db)).budget_month_usd
        cost = plan.estimate.max_usd
        check_budget(spend_totals(db, budget), cost, shot_cost_text(cost))
    except BudgetExceeded as exc:
        problem = Problem("budget", Severity.ERROR, exc.message)
        return Plan(plan.shot, plan.endpoint, plan.input, plan.estimate, (*plan.problems, problem))
    finally:
        db.close()
    return plan


def print_plan(
    plan: Plan,
    *,
    as_json: bool,
    out: TextIO | None = None,
    fitted: list[FittedLine] | None = None,
) -> None:
    out = out or sys.stdout
    if as_json:
        data = plan.to_json()
        if fitted:
            data["fitted"] = [line.to_json() for line in fitted]
        json.dump(data, out, indent=2)
        out.write("\n")
        return
    out.write(f"Endpoint:  {plan.endpoint.model_id}\n")
    for fit in fitted or []:
        out.write(f"Fitted:    {fit.field}: {fit.source} → {fit.fitted}\n")
        out.write(f"           {fit.summary}\n")
    out.write(f"Estimate:  {plan.estimate} (estimate; fal bills the final amount)\n")
    out.write("Input:\n")
    for line in json.dumps(plan.input, indent=2).splitlines():
        out.write(f"  {line}\n")
    if not plan.problems:
        out.write("No problems found.\n")
        return
    out.write("Problems:\n")
    for problem in plan.problems:
        mark = "error  " if problem.is_error else "warning"
        out.write(f"  {mark} {problem.field}: {problem.message}\n")
