"""What has been spent (final costs), what is committed (estimates of jobs fal may still bill)
and what is queued, for the budget and the status line.

Billed money comes from the spend ledger (one row per attempt that fal finished, written with
its final state), so removing or retrying a job never takes it back. Jobs run by the bundled
simulator are counted apart: never billed, never toward the budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from seedance_desktop.engine.database import Database
from seedance_desktop.engine.jobs import SIMULATOR
from seedance_desktop.engine.states import COMMITTED_STATES, JobState


@dataclass(frozen=True)
class SpendTotals:
    today_usd: float  # billed today (final costs, and failed jobs fal ran, at their estimate)
    month_usd: float  # billed this month, the same way
    committed_usd: float  # the highest estimate of every job fal may still bill
    budget_month_usd: float | None
    queued_usd: float = 0.0  # the highest estimate of jobs queued but not yet sent
    simulated: bool = False  # this engine runs on the bundled simulator: nothing is billed
    simulated_today_jobs: int = 0  # simulator jobs finished today
    simulated_month_jobs: int = 0
    simulated_active_jobs: int = 0  # simulator jobs under way (uploading to downloading)

    @property
    def budget_left_usd(self) -> float | None:
        if self.budget_month_usd is None:
            return None
        return self.budget_month_usd - self.month_usd - self.committed_usd


class BudgetExceeded(Exception):
    """Queueing this would go over the monthly budget; the message (with the amounts) is for
    the person. Nothing was queued."""

    def __init__(self, message: str, *, cost_usd: float, left_usd: float) -> None:
        super().__init__(message)
        self.message = message
        self.cost_usd = cost_usd
        self.left_usd = left_usd


def _day_and_month_start(now: float) -> tuple[float, float]:
    moment = datetime.fromtimestamp(now)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day.timestamp(), day.replace(day=1).timestamp()


def spend_totals(
    db: Database,
    budget_month_usd: float | None,
    now: float | None = None,
    *,
    simulated: bool = False,
) -> SpendTotals:
    day_start, month_start = _day_and_month_start(time.time() if now is None else now)
    billed = db.execute(
        """SELECT
             coalesce(sum(CASE WHEN at >= :day AND NOT simulated THEN usd END), 0),
             coalesce(sum(CASE WHEN NOT simulated THEN usd END), 0),
             count(CASE WHEN at >= :day AND simulated THEN 1 END),
             count(CASE WHEN simulated THEN 1 END)
           FROM spend_ledger WHERE at >= :month""",
        {"day": day_start, "month": month_start},
    ).fetchone()
    marks = ",".join("?" * len(COMMITTED_STATES))
    committed = db.execute(
        f"""SELECT
              coalesce(sum(CASE WHEN backend != ? THEN estimate_max END), 0),
              count(CASE WHEN backend = ? THEN 1 END)
            FROM jobs WHERE state IN ({marks})""",  # noqa: S608
        (SIMULATOR, SIMULATOR, *(s.value for s in COMMITTED_STATES)),
    ).fetchone()
    queued = db.execute(
        "SELECT coalesce(sum(estimate_max), 0) FROM jobs WHERE state = ? AND backend != ?",
        (JobState.QUEUED.value, SIMULATOR),
    ).fetchone()[0]
    return SpendTotals(
        today_usd=float(billed[0]),
        month_usd=float(billed[1]),
        committed_usd=float(committed[0]),
        budget_month_usd=budget_month_usd,
        queued_usd=float(queued),
        simulated=simulated,
        simulated_today_jobs=int(billed[2]),
        simulated_month_jobs=int(billed[3]),
        simulated_active_jobs=int(committed[1]),
    )


def budget_blocks(totals: SpendTotals, job_estimate_max: float) -> str | None:
    """Why a queued job must wait for the budget, or None when it may go (the hold for jobs
    queued before the budget was lowered; new jobs are refused at Queue time)."""
    left = totals.budget_left_usd
    if totals.simulated or left is None or job_estimate_max <= left + 1e-9:
        return None
    return (
        f"Waiting: this job could cost up to ${job_estimate_max:.2f}, and only ${max(left, 0):.2f} "
        f"of this month's ${totals.budget_month_usd:.2f} budget is left. Raise the budget in "
        "Settings to let it go."
    )


def check_budget(totals: SpendTotals, cost_max_usd: float, what: str) -> None:
    """Raise BudgetExceeded when new work of at most `cost_max_usd` (described by `what`, e.g.
    "This shot could cost up to $2.40") does not fit in what is left of the month's budget once
    spent, committed and already queued work is counted. The simulator never bills: no limit."""
    if totals.simulated or totals.budget_month_usd is None:
        return
    left = totals.budget_month_usd - totals.month_usd - totals.committed_usd - totals.queued_usd
    if cost_max_usd <= left + 1e-9:
        return
    queued = f", ${totals.queued_usd:.2f} queued" if totals.queued_usd > 0.005 else ""
    message = (
        f"{what}; ${totals.budget_month_usd:.2f} budget, ${totals.month_usd:.2f} spent"
        f"{queued} and ${totals.committed_usd:.2f} committed this month — ${max(left, 0):.2f} "
        "left. Raise the budget in Settings."
    )
    raise BudgetExceeded(message, cost_usd=cost_max_usd, left_usd=left)


def shot_cost_text(each_max_usd: float, variations: int = 1) -> str:
    """ "This shot could cost up to $2.40 (×3 variations: $7.20)"."""
    text = f"This shot could cost up to ${each_max_usd:.2f}"
    if variations > 1:
        text += f" (×{variations} variations: ${each_max_usd * variations:.2f})"
    return text


def spend_line(totals: SpendTotals) -> str:
    """The one-line spend summary for the status bar (every figure an estimate)."""
    if totals.simulated:
        jobs = totals.simulated_today_jobs
        count = "no jobs" if jobs == 0 else f"{jobs} job{'s' if jobs != 1 else ''}"
        text = f"Simulator: {count} today, nothing billed"
        if totals.month_usd > 0.005 or totals.committed_usd > 0.005:
            text += f" · spent on fal this month ${totals.month_usd:.2f}"
            if totals.committed_usd > 0.005:
                text += f" · committed up to ${totals.committed_usd:.2f}"
            text += " (estimates)"
        return text
    parts = [f"Spent today ${totals.today_usd:.2f}", f"this month ${totals.month_usd:.2f}"]
    if totals.committed_usd > 0.005:
        parts.append(f"committed up to ${totals.committed_usd:.2f}")
    left = totals.budget_left_usd
    if left is not None:
        parts.append(f"budget left ${left:.2f}" if left >= 0 else f"over budget by ${-left:.2f}")
    return " · ".join(parts) + " (estimates)"
