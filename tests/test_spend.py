"""Spend that counts everything fal may bill, the simulator apart, and the budget said at Queue
time: real SQLite files, the real engine and the real simulator over a socket."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from cli_runner import run_cli as _cli
from engine_fixtures import EngineHarness, quick_shot

from seedance_desktop.domain.endpoints import ENDPOINTS, LIMITS, Mode
from seedance_desktop.domain.plan import plan_shot
from seedance_desktop.domain.pricing import Estimate, cost_usd
from seedance_desktop.domain.shot import Shot
from seedance_desktop.engine.database import Database
from seedance_desktop.engine.engine import BudgetExceeded
from seedance_desktop.engine.jobs import JobRepository
from seedance_desktop.engine.settings import EngineSettings, SettingsStore
from seedance_desktop.engine.spend import SpendTotals, spend_line, spend_totals
from seedance_desktop.engine.states import JobState
from seedance_desktop.paths import AppPaths

FINAL = {JobState.DONE, JobState.FAILED, JobState.CANCELLED, JobState.UNKNOWN_SUBMISSION}
NOW = time.time()

# The estimate of quick_shot(): 480p 16:9, 4 s, standard tier.
QUICK_MAX = cost_usd(ENDPOINTS["bytedance/seedance-2.0/text-to-video"], 864 * 496, 4)


@pytest.fixture
def db(tmp_path: Path):
    database = Database.open(tmp_path / "spend.sqlite3")
    yield database
    database.close()


def _walk(jobs: JobRepository, job_id: int, *steps: JobState, **changes: object):
    job = jobs.get(job_id)
    for step in steps:
        job = jobs.move(job, step, **(changes if step is steps[-1] else {}))
    return job


def _add(jobs: JobRepository, usd: float):
    return jobs.add(quick_shot(), Estimate(usd / 2, usd), [])


AT_FAL = (JobState.UPLOADING, JobState.SUBMITTING, JobState.IN_QUEUE)


@pytest.mark.parametrize(
    ("steps", "committed"),
    [
        ((JobState.UPLOADING,), True),
        ((JobState.UPLOADING, JobState.SUBMITTING), True),
        ((*AT_FAL,), True),
        ((*AT_FAL, JobState.IN_PROGRESS), True),
        ((*AT_FAL, JobState.CANCEL_REQUESTED), True),
        ((*AT_FAL, JobState.FETCHING), True),
        ((*AT_FAL, JobState.FETCHING, JobState.DOWNLOADING), True),
        ((JobState.UPLOADING, JobState.SUBMITTING, JobState.UNKNOWN_SUBMISSION), True),
        ((), False),  # queued: nothing sent yet
        ((JobState.CANCELLED,), False),
    ],
)
def test_committed_counts_every_job_fal_may_still_bill(db, steps, committed) -> None:
    jobs = JobRepository(db, lambda: NOW)
    job = _add(jobs, 2.0)
    _walk(jobs, job.id, *steps)
    totals = spend_totals(db, None, NOW)
    assert totals.committed_usd == pytest.approx(2.0 if committed else 0.0)
    assert totals.queued_usd == pytest.approx(0.0 if steps else 2.0)


def test_a_job_fal_ran_that_then_failed_counts_at_its_estimate_and_stays_counted(db) -> None:
    jobs = JobRepository(db, lambda: NOW)
    ran = _add(jobs, 1.5)
    _walk(jobs, ran.id, *AT_FAL, JobState.FETCHING, completed_at=NOW)
    _walk(jobs, ran.id, JobState.FAILED, finished_at=NOW, error="fal refused the result")
    never_ran = _add(jobs, 4.0)  # failed before fal completed anything: not billed
    _walk(jobs, never_ran.id, *AT_FAL)
    _walk(jobs, never_ran.id, JobState.FAILED, finished_at=NOW)
    done = _add(jobs, 3.0)
    _walk(jobs, done.id, *AT_FAL, JobState.FETCHING, completed_at=NOW)
    _walk(jobs, done.id, JobState.DOWNLOADING)
    _walk(jobs, done.id, JobState.DONE, final_cost=2.25, finished_at=NOW)

    totals = spend_totals(db, None, NOW)
    assert (totals.today_usd, totals.month_usd) == (pytest.approx(3.75), pytest.approx(3.75))
    assert totals.committed_usd == 0

    # A retry (a new, paid attempt) and removing jobs from the queue take no money back.
    _walk(jobs, ran.id, JobState.QUEUED, attempt=2, completed_at=None, finished_at=None)
    jobs.remove(done.id)
    totals = spend_totals(db, None, NOW)
    assert totals.month_usd == pytest.approx(3.75)
    assert totals.queued_usd == pytest.approx(1.5)


def test_a_download_retried_after_a_billed_failure_is_counted_once(db) -> None:
    jobs = JobRepository(db, lambda: NOW)
    job = _add(jobs, 1.5)
    _walk(jobs, job.id, *AT_FAL, JobState.FETCHING, completed_at=NOW)
    _walk(jobs, job.id, JobState.DOWNLOADING)
    _walk(jobs, job.id, JobState.FAILED, finished_at=NOW)
    assert spend_totals(db, None, NOW).month_usd == pytest.approx(1.5)
    _walk(jobs, job.id, JobState.DOWNLOADING)
    _walk(jobs, job.id, JobState.DONE, final_cost=1.2, finished_at=NOW)
    assert spend_totals(db, None, NOW).month_usd == pytest.approx(1.2)


def test_last_months_spend_is_not_this_months(db) -> None:
    jobs = JobRepository(db, lambda: NOW)
    job = _add(jobs, 1.0)
    _walk(jobs, job.id, *AT_FAL, JobState.FETCHING, completed_at=NOW)
    _walk(jobs, job.id, JobState.DOWNLOADING)
    _walk(jobs, job.id, JobState.DONE, final_cost=1.0, finished_at=NOW - 40 * 86400)
    assert spend_totals(db, None, NOW).month_usd == 0


def test_an_older_database_keeps_its_spend(tmp_path: Path) -> None:
    """Version 1 had no ledger: the final costs already recorded move into it."""
    import sqlite3

    from seedance_desktop.engine.database import _V1, _statements

    path = tmp_path / "v1.sqlite3"
    connection = sqlite3.connect(path)
    for statement in _statements(_V1):
        connection.execute(statement)
    connection.execute(
        """INSERT INTO jobs (uid, position, state, endpoint, shot_json, estimate_min,
           estimate_max, final_cost, created_at, updated_at, finished_at)
           VALUES ('u', 1, 'done', 'e', '{}', 1, 2, 1.25, ?, ?, ?)""",
        (NOW, NOW, NOW),
    )
    connection.execute("PRAGMA user_version=1")
    connection.commit()
    connection.close()
    db = Database.open(path)
    try:
        assert spend_totals(db, None, NOW).month_usd == pytest.approx(1.25)
    finally:
        db.close()


def test_a_reference_video_given_as_a_url_is_estimated_at_the_longest_input() -> None:
    shot = Shot(
        Mode.REFERENCE_TO_VIDEO,
        prompt="The dancer from [Video1]",
        resolution="480p",
        duration="5",
        aspect_ratio="16:9",
        videos=("https://example.com/moves.mp4",),
    )
    plan = plan_shot(shot, {})
    endpoint = ENDPOINTS["bytedance/seedance-2.0/reference-to-video"]
    longest = LIMITS.combined_video_seconds[1]
    assert plan.estimate.max_usd == pytest.approx(cost_usd(endpoint, 864 * 496, 5 + longest) * 0.6)
    assert plan.estimate.min_usd == pytest.approx(cost_usd(endpoint, 864 * 496, 5) * 0.6)


# --- the simulator apart --------------------------------------------------------------------


async def test_simulator_jobs_are_never_billed_nor_held_by_the_budget(
    harness: EngineHarness, simulator
) -> None:
    harness.simulated = True
    harness.settings.budget_month_usd = 0.01  # far below one job
    engine = await harness.restart()
    (job,) = await engine.enqueue(quick_shot(seed=5), variations=1)
    assert await harness.wait_for(job.id, FINAL) is JobState.DONE
    job = engine.jobs.get(job.id)
    assert job.simulated and job.final_cost == 0
    assert engine.library.get(job.id).cost_usd == 0
    totals = engine.spend()
    assert (totals.today_usd, totals.month_usd, totals.committed_usd) == (0, 0, 0)
    assert totals.simulated and totals.simulated_today_jobs == 1
    assert spend_line(totals) == "Simulator: 1 job today, nothing billed"


async def test_the_backend_that_submits_is_the_one_recorded(
    harness: EngineHarness, simulator
) -> None:
    """A job queued on the simulator and sent later by an engine on fal is fal's, and billed."""
    harness.simulated = True
    engine = await harness.restart()
    engine.pause()
    (job,) = await engine.enqueue(quick_shot())
    assert engine.jobs.get(job.id).simulated
    harness.simulated = False
    engine = await harness.restart()
    engine.resume()
    assert await harness.wait_for(job.id, FINAL) is JobState.DONE
    job = engine.jobs.get(job.id)
    assert not job.simulated and job.final_cost and job.final_cost > 0
    assert engine.spend().month_usd == pytest.approx(job.final_cost)


async def test_the_runtime_marks_a_simulator_engine(tmp_path: Path) -> None:
    from seedance_desktop.backend import start_simulator_backend
    from seedance_desktop.runtime import running_engine

    paths = AppPaths(*(tmp_path / n for n in ("data", "cache", "config", "logs"))).ensure()
    backend = start_simulator_backend(paths)
    try:
        async with running_engine(paths, backend=backend) as runtime:
            assert runtime.engine.simulated
            assert runtime.engine.spend().simulated
    finally:
        backend.close()


async def test_a_job_fal_ran_and_refused_counts_in_the_spend(
    harness: EngineHarness, simulator
) -> None:
    engine = harness.engine
    (job,) = await engine.enqueue(quick_shot("forbidden #sim:content_policy"))
    assert await harness.wait_for(job.id, FINAL) is JobState.FAILED
    assert engine.spend().month_usd == pytest.approx(QUICK_MAX)


# --- the status line ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("totals", "line"),
    [
        (
            SpendTotals(1.2, 8.4, 2.1, 15.5),
            "Spent today $1.20 · this month $8.40 · committed up to $2.10 · budget left $5.00 "
            "(estimates)",
        ),
        (SpendTotals(0, 3, 0, None), "Spent today $0.00 · this month $3.00 (estimates)"),
        (
            SpendTotals(0, 6, 0, 5),
            "Spent today $0.00 · this month $6.00 · over budget by $1.00 (estimates)",
        ),
        (
            SpendTotals(0, 0, 0, 5, simulated=True, simulated_today_jobs=3),
            "Simulator: 3 jobs today, nothing billed",
        ),
        (SpendTotals(0, 0, 0, None, simulated=True), "Simulator: no jobs today, nothing billed"),
        (
            SpendTotals(0, 2.5, 0, None, simulated=True, simulated_today_jobs=1),
            "Simulator: 1 job today, nothing billed · spent on fal this month $2.50 (estimates)",
        ),
    ],
)
def test_spend_line(totals: SpendTotals, line: str) -> None:
    assert spend_line(totals) == line


# --- the budget at Queue time ---------------------------------------------------------------


async def test_going_over_the_budget_is_refused_at_queue_time(
    harness: EngineHarness, simulator
) -> None:
    harness.settings.budget_month_usd = 1.0
    engine = await harness.restart()
    with pytest.raises(BudgetExceeded) as refused:
        await engine.enqueue(quick_shot(), variations=2)
    each = f"${QUICK_MAX:.2f}"
    assert str(refused.value) == (
        f"This shot could cost up to {each} (×2 variations: ${2 * QUICK_MAX:.2f}); $1.00 budget, "
        "$0.00 spent and $0.00 committed this month — $1.00 left. Raise the budget in Settings."
    )
    assert engine.jobs.all() == []

    engine.pause()  # queued work counts too: two single shots do not fit either
    await engine.enqueue(quick_shot())
    with pytest.raises(BudgetExceeded, match=rf"\$0\.00 spent, \{each} queued and"):
        await engine.enqueue(quick_shot())
    assert len(engine.jobs.all()) == 1


def _set_budget(home: Path, usd: float) -> None:
    paths = AppPaths(*(home / n for n in ("data", "cache", "config", "logs"))).ensure()
    db = Database.open(paths.database)
    EngineSettings(budget_month_usd=usd).save(SettingsStore(db))
    db.close()


def test_the_cli_says_the_budget_and_exits_2_with_nothing_queued(tmp_path: Path, simulator) -> None:
    home = tmp_path / "home"
    _set_budget(home, 0.5)
    result = _cli(home, simulator.url, "generate", "--mode", "text-to-video", "--prompt",
                  "A paper boat", "--resolution", "480p", "--duration", "4")  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert f"could cost up to ${QUICK_MAX:.2f}; $0.50 budget" in result.stderr
    assert "Traceback" not in result.stderr
    dry = _cli(home, simulator.url, "generate", "--mode", "text-to-video", "--prompt",
               "A paper boat", "--resolution", "480p", "--duration", "4",
               "--dry-run", "--json")  # fmt: skip
    assert dry.returncode == 2, dry.stderr
    (problem,) = json.loads(dry.stdout)["problems"]
    assert problem["field"] == "budget" and "$0.50 budget" in problem["message"]

    shots = tmp_path / "shots.jsonl"
    line = json.dumps({"endpoint": "bytedance/seedance-2.0/text-to-video",
                       "input": {"prompt": "A kite", "resolution": "480p", "duration": "4",
                                 "aspect_ratio": "16:9"}})  # fmt: skip
    shots.write_text(line + "\n" + line.replace("kite", "boat") + "\n")
    _set_budget(home, 1.0)
    result = _cli(home, simulator.url, "batch", str(shots))
    assert result.returncode == 2, result.stderr
    assert f"These 2 shots could cost up to ${2 * QUICK_MAX:.2f}; $1.00 budget" in result.stderr
    listed = json.loads(_cli(home, simulator.url, "queue", "list", "--all", "--json").stdout)
    assert listed == []
    assert not [e for e in simulator.log if e.method == "POST" and e.model_id]


async def test_a_resubmitted_job_leaves_the_committed_figure_at_once(
    harness: EngineHarness, simulator
) -> None:
    from seedance_desktop.engine.events import SpendChanged

    engine = harness.engine
    engine.pause()
    (job,) = await engine.enqueue(quick_shot())
    _walk(engine.jobs, job.id, JobState.UPLOADING, JobState.SUBMITTING)
    harness.settings.paused = True
    engine = await harness.restart()  # a submit cut short: the job is unclear, and committed
    assert engine.jobs.get(job.id).state is JobState.UNKNOWN_SUBMISSION
    assert engine.spend().committed_usd == pytest.approx(QUICK_MAX)
    harness.events.clear()
    await engine.resolve_unknown(job.id, "resubmit")
    spends = [e.totals for e in harness.events if isinstance(e, SpendChanged)]
    assert spends and spends[-1].committed_usd == 0
    assert spends[-1].queued_usd == pytest.approx(QUICK_MAX)
