"""One owner per data folder, with real processes: the window (offscreen) and the command line on
one folder, against the simulator whose request log counts the submits. Two schedulers on one
folder would pay twice; a crashed owner must not lock the folder for good."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_fixtures import TEST_KEY, fal_config_for, quick_shot
from media_factory import make_image, make_video

from seedance_desktop.cli.owner_client import ask_owner
from seedance_desktop.engine.database import Database
from seedance_desktop.engine.engine import Engine
from seedance_desktop.engine.jobs import JobRepository
from seedance_desktop.engine.owner_protocol import PING
from seedance_desktop.engine.ownership import FolderBusy, acquire
from seedance_desktop.engine.settings import EngineSettings
from seedance_desktop.engine.states import JobState
from seedance_desktop.paths import AppPaths, app_paths
from seedance_desktop.simulator.config import SimulatorConfig


@pytest.fixture
def sim_config(tmp_path_factory: pytest.TempPathFactory) -> SimulatorConfig:
    """Not instant: each job runs for a moment, so the app still holds queued jobs while the
    commands run beside it."""
    data_dir = tmp_path_factory.mktemp("simulator")
    return SimulatorConfig(data_dir=data_dir, instant=False, queue_delay_s=0.0, run_time_s=1.0)


@pytest.fixture
def paths(app_home: Path) -> AppPaths:
    return app_paths().ensure()


@pytest.fixture
def env(simulator, app_home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SEEDANCE_HOME": str(app_home),
        "SEEDANCE_FAL_QUEUE_URL": simulator.url,
        "SEEDANCE_FAL_REST_URL": simulator.url,
        "SEEDANCE_FAL_CDN_URL": simulator.url,
        "FAL_KEY": TEST_KEY,
        "QT_QPA_PLATFORM": "offscreen",
    }


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seedance_desktop", *args],
        capture_output=True, text=True, timeout=30, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture
def windows(env: dict[str, str]) -> Iterator[list[subprocess.Popen[str]]]:
    """Window processes started by the test; killed at the end whatever happened."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def start_window(
    windows: list[subprocess.Popen[str]], env: dict[str, str], paths: AppPaths
) -> subprocess.Popen[str]:
    """The app's window, offscreen; returns once it answers on its socket."""
    process = subprocess.Popen(
        [sys.executable, "-m", "seedance_desktop"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    windows.append(process)
    deadline = time.monotonic() + 20
    while ask_owner(paths.data, {"command": PING}, answer_ms=2000) is None:
        if process.poll() is not None:
            raise AssertionError(f"the window ended at start: {process.communicate()[1]}")
        assert time.monotonic() < deadline, "the window never answered on its socket"
        time.sleep(0.1)
    return process


def seed_jobs(paths: AppPaths, prompts: list[str], settings: EngineSettings) -> list[int]:
    """Queued jobs in the folder's database, as an earlier session would have left them."""

    async def seed() -> list[int]:
        db = Database.open(paths.database)
        engine = Engine(db, paths, fal_config_for("http://127.0.0.1:9"), settings=settings)
        settings.save(engine.settings_store)
        try:
            return [(await engine.enqueue(quick_shot(p)))[0].id for p in prompts]
        finally:
            await engine.close()
            db.close()

    return asyncio.run(seed())


def states(paths: AppPaths) -> dict[int, JobState]:
    db = Database.open_read_only(paths.database)
    assert db is not None
    try:
        return {job.id: job.state for job in JobRepository(db).all()}
    finally:
        db.close()


def submits(simulator) -> list[str | None]:
    return [e.request_id for e in simulator.log if e.model_id and e.method == "POST"]


def test_the_app_and_every_command_on_one_folder_pay_once(
    simulator, env, paths: AppPaths, windows, tmp_path: Path
) -> None:
    ids = seed_jobs(paths, [f"Shot {n}" for n in range(4)], EngineSettings(max_in_flight=1))
    app = start_window(windows, env, paths)
    last = ids[-1]

    cancel = cli(env, "queue", "cancel", str(last))  # the app cancels it; nothing else moves
    assert (cancel.returncode, cancel.stdout.strip()) == (0, f"Job {last}: Cancelled."), cancel
    listed = cli(env, "queue", "list", "--all", "--json")
    assert listed.returncode == 0, listed.stderr
    assert {job["id"] for job in json.loads(listed.stdout)} == set(ids)
    assert cli(env, "library", "list").returncode == 0
    resolve = cli(env, "queue", "resolve", str(ids[0]), "drop")
    assert resolve.returncode == 1 and "not in doubt" in resolve.stderr
    run = cli(env, "queue", "run")
    assert run.returncode == 2, run
    assert "The app is open on this library; it works the queue itself" in run.stderr
    retry = cli(env, "queue", "retry", str(last))
    assert (retry.returncode, retry.stdout.strip()) == (0, f"Job {last}: Queued."), retry

    # generate and batch hand their shots to the app's queue and follow them to the end.
    out = tmp_path / "fox.mp4"
    generate = cli(env, "generate", "--mode", "text-to-video", "--prompt", "A fox", "--duration",
                   "4", "--resolution", "480p", "--out", str(out))  # fmt: skip
    assert generate.returncode == 0, generate.stderr
    assert generate.stdout.strip() == str(out) and out.stat().st_size > 0
    assert "is in its queue" in generate.stderr and "Generating" in generate.stderr
    batch = cli(env, "batch", str(_batch_file(tmp_path)), "--json")
    assert batch.returncode == 0, batch.stderr
    assert [job["state"] for job in json.loads(batch.stdout)] == ["done"]

    deadline = time.monotonic() + 25
    while not all(s.is_final for s in states(paths).values()):
        assert app.poll() is None, app.communicate()[1]
        assert time.monotonic() < deadline, states(paths)
        time.sleep(0.2)
    assert len(states(paths)) == len(ids) + 2, "the handed-over jobs are in the app's queue"
    assert set(states(paths).values()) == {JobState.DONE}, "no job left unclear or failed"
    sent = submits(simulator)
    assert len(sent) == len(ids) + 2 == len(set(sent)), "one submit per job, none twice"


def _batch_file(tmp_path: Path) -> Path:
    line = {"endpoint": "bytedance/seedance-2.0/fast/text-to-video",
            "input": {"prompt": "From a batch", "resolution": "480p", "duration": "4"}}  # fmt: skip
    path = tmp_path / "shots.jsonl"
    path.write_text(json.dumps(line) + "\n")
    return path


def test_a_second_window_hands_its_files_to_the_first_and_exits_0(
    env, paths: AppPaths, windows, tmp_path: Path
) -> None:
    first = start_window(windows, env, paths)
    image = make_image(tmp_path / "hero.png", 640, 480)
    video = make_video(tmp_path / "moves.mp4", 320, 240, seconds=1.0)
    second = subprocess.run(
        [sys.executable, "-m", "seedance_desktop", str(image), str(video)],
        capture_output=True, text=True, timeout=20, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert "2 file(s) added" in second.stdout, "the first window took both files"
    assert first.poll() is None, "the first window is still there"


def test_a_killed_owners_lock_is_taken_over_at_once(
    simulator, env, paths: AppPaths, windows
) -> None:
    app = start_window(windows, env, paths)
    with pytest.raises(FolderBusy) as busy:
        acquire(paths.data)
    assert busy.value.pid == app.pid and f"pid {app.pid}" in str(busy.value)
    app.send_signal(signal.SIGKILL)
    app.wait(timeout=10)
    started = time.monotonic()
    run = cli(env, "queue", "run")
    assert run.returncode == 0, run.stderr
    assert time.monotonic() - started < 15
    acquire(paths.data).release()  # and nobody holds it afterwards


def test_beside_a_command_owner_listings_start_no_scheduler_and_the_rest_name_it(
    paths: AppPaths,
) -> None:
    """While another process owns the folder (here the test itself, mid-submit), listing must
    not resume jobs: a scheduler would turn "submitting" into "unclear" under the owner."""
    (job_id,) = seed_jobs(paths, ["Mid-submit"], EngineSettings())
    with acquire(paths.data):
        db = Database.open(paths.database)
        jobs = JobRepository(db)
        jobs.move(jobs.move(jobs.get(job_id), JobState.UPLOADING), JobState.SUBMITTING)
        db.close()
        env = {**os.environ}
        listed = cli(env, "queue", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        assert [j["state"] for j in json.loads(listed.stdout)] == ["submitting"]
        assert cli(env, "library", "list", "--json").stdout.strip() == "[]"
        cancel = cli(env, "queue", "cancel", str(job_id))
        assert cancel.returncode == 2
        assert f"already running on this library (pid {os.getpid()})" in cancel.stderr
        assert "Traceback" not in cancel.stderr
        for command in (("queue", "run"), ("generate", "--mode", "text-to-video", "--prompt", "x")):
            refused = cli(env, *command)
            assert refused.returncode == 2, refused
            assert f"(pid {os.getpid()})" in refused.stderr
        assert states(paths) == {job_id: JobState.SUBMITTING}


def test_a_command_with_no_owner_acts_on_the_named_job_alone(
    simulator, env, paths: AppPaths
) -> None:
    first, second = seed_jobs(paths, ["Stays queued", "Cancelled"], EngineSettings())
    cancel = cli(env, "queue", "cancel", str(second))
    assert (cancel.returncode, cancel.stdout.strip()) == (0, f"Job {second}: Cancelled.")
    assert states(paths) == {first: JobState.QUEUED, second: JobState.CANCELLED}
    assert submits(simulator) == [], "nothing else was submitted in passing"
    missing = cli(env, "queue", "retry", "99")
    assert (missing.returncode, missing.stderr.strip()) == (2, "There is no job 99.")
