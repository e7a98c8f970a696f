"""What has been spent (final costs) and what is committed (estimates of jobs at fal)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from seedance_desktop.engine.database import Database
from seedance_desktop.engine.states import IN_FLIGHT_STATES


@dataclass(frozen=True)
class SpendTotals:
    today_usd: float
    month_usd: float
    committed_usd: float  # the highest estimate of every job fal may still bill
    budget_month_usd: float | None

    @property
    def budget_left_usd(self) -> float | None:
        if self.budget_month_usd is None:
            return None
        return self.budget_month_usd - self.month_usd - self.committed_usd


def _day_and_month_start(now: float) -> tuple[float, float]:
    moment = datetime.fromtimestamp(now)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day.timestamp(), day.replace(day=1).timestamp()


def spend_totals(
    db: Database, budget_month_usd: float | None, now: float | None = None
) -> SpendTotals:
    day_start, month_start = _day_and_month_start(time.time() if now is None else now)
    row = db.execute(
        """SELECT
             coalesce(sum(CASE WHEN finished_at >= ? THEN final_cost END), 0),
             coalesce(sum(CASE WHEN finished_at >= ? THEN final_cost END), 0)
           FROM jobs WHERE final_cost IS NOT NULL""",
        (day_start, month_start),
    ).fetchone()
    marks = ",".join("?" * len(IN_FLIGHT_STATES))
    committed = db.execute(
        f"SELECT coalesce(sum(estimate_max), 0) FROM jobs WHERE state IN ({marks})",  # noqa: S608
        [s.value for s in IN_FLIGHT_STATES],
    ).fetchone()[0]
    return SpendTotals(float(row[0]), float(row[1]), float(committed), budget_month_usd)


def budget_blocks(totals: SpendTotals, job_estimate_max: float) -> str | None:
    """Why a job must wait for the budget, or None when it may go."""
    left = totals.budget_left_usd
    if left is None or job_estimate_max <= left + 1e-9:
        return None
    return (
        f"Waiting: this job could cost up to ${job_estimate_max:.2f}, and only ${max(left, 0):.2f} "
        f"of this month's ${totals.budget_month_usd:.2f} budget is left. Raise the budget in "
        "Settings to let it go."
    )
