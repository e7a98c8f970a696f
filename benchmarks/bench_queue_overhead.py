"""3. Queue overhead: 200 jobs through the simulator in instant mode, driven by the app's engine
and, as the baseline, by fal's official Python client (`fal-client`) against the same simulator.
Reported: total time (first job queued to the last video on disk), HTTP requests per job (the
simulator's request log), and the delay from COMPLETED being seen to the video being in the
library (on disk, for the baseline). Bar: faster in total than the official client and at most a
tenth of its requests per job.

The engine runs as the app runs it (`running_engine`, default settings: 2 jobs in flight, the
status stream). The baseline is the official client's `subscribe` (it polls every 0.1 s), with as
many jobs in flight as the engine, then the video streamed to a file with httpx. fal-client
hard-codes fal's hosts, so its module-level URL constants are patched here to point at the
simulator (the output says so). Every job has the same input and seed, so the simulator renders
once (a warm-up job does that before timing).

In instant mode a job is never waited on, so polling costs little; requests per job are also
counted with fal-like timings (2 s queued, 6 s running: the simulator's realistic mode, 4 jobs),
where the 0.1 s polling shows.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from common import FAKE_KEY, Entry, entry, main, percentile, simulator_process
from qt_app import use_home

PROMPT = "A paper boat drifts down a rainy street, close-up, soft light"


def request_count(url: str) -> int:
    with urllib.request.urlopen(f"{url}/_sim/log", timeout=30) as answer:
        log = json.loads(answer.read())
    return sum(1 for item in log if not str(item.get("path", "")).startswith("/_sim"))


def the_shot() -> object:
    from seedance_desktop.domain.endpoints import Mode
    from seedance_desktop.domain.shot import Shot

    return Shot(mode=Mode.TEXT_TO_VIDEO, prompt=PROMPT, resolution="480p", duration="4",
                aspect_ratio="16:9", seed=4242)  # fmt: skip


# The app's engine -------------------------------------------------------------------------------


async def engine_run(jobs: int) -> dict:
    from seedance_desktop.engine.states import JobState
    from seedance_desktop.runtime import running_engine

    async with running_engine() as runtime:
        engine = runtime.engine
        started = time.perf_counter()
        for _ in range(jobs):
            await engine.enqueue(the_shot())  # type: ignore[arg-type]
        finals = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)
        while len(engine.jobs.all(finals)) < jobs:  # noqa: ASYNC110 - polls the database
            await asyncio.sleep(0.02)
        total = time.perf_counter() - started
        entries = engine.library.list()
        delays = [e.timings["saved_at"] - e.timings["completed_at"] for e in entries]
        done = len(engine.jobs.all([JobState.DONE]))
    return {"total": total, "done": done, "delays": delays}  # type: ignore[dict-item]


# The official client ----------------------------------------------------------------------------


def point_fal_client_at(url: str) -> None:
    """fal-client has no setting for its hosts: patch its module constants (benchmark only)."""
    import fal_client.client as fc

    fc.QUEUE_URL_FORMAT = f"{url}/"
    fc.RUN_URL_FORMAT = f"{url}/"
    fc.REST_URL = url
    fc.CDN_URL = url


async def fal_client_run(url: str, jobs: int, folder: Path, in_flight: int = 2) -> dict:
    import fal_client
    import httpx

    from seedance_desktop.domain.shot import build_input

    point_fal_client_at(url)
    shot = the_shot()
    model_id = shot.endpoint.model_id  # type: ignore[attr-defined]
    arguments = build_input(shot)  # type: ignore[arg-type]
    client = fal_client.AsyncClient(key=FAKE_KEY)
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    delays: list[float] = []

    slots = asyncio.Semaphore(in_flight)  # as many jobs at fal at once as the engine allows

    async with httpx.AsyncClient(timeout=60) as http:

        async def one(index: int) -> None:
            async with slots:
                await one_job(index)

        async def one_job(index: int) -> None:
            completed: list[float] = []

            def on_update(status: object) -> None:
                if isinstance(status, fal_client.Completed) and not completed:
                    completed.append(time.perf_counter())

            result = await client.subscribe(model_id, arguments, on_queue_update=on_update)
            async with http.stream("GET", result["video"]["url"]) as response:
                response.raise_for_status()
                with (folder / f"{index}.mp4").open("wb") as out:
                    async for chunk in response.aiter_bytes():
                        out.write(chunk)
            delays.append(time.perf_counter() - completed[0])

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(jobs)))
        total = time.perf_counter() - started
    return {"total": total, "done": jobs, "delays": delays}  # type: ignore[dict-item]


# Both, against one simulator --------------------------------------------------------------------


def requests_per_job(url: str, drive: Callable[[], object], jobs: int) -> tuple[object, float]:
    before = request_count(url)
    outcome = drive()
    return outcome, (request_count(url) - before) / jobs


def run(quick: bool = False) -> list[Entry]:
    jobs, waiting_jobs = (4, 2) if quick else (200, 4)
    with tempfile.TemporaryDirectory(prefix="seedance-bench-queue-") as tmp:
        root = Path(tmp)
        print(f"fal-client {_version()}: its URL constants are patched to the simulator's")
        with simulator_process(root / "sim", "--instant") as url:
            use_home(root / "home", url)
            asyncio.run(fal_client_run(url, 1, root / "warm"))  # the simulator renders once
            app, app_requests = requests_per_job(url, lambda: asyncio.run(engine_run(jobs)), jobs)
            base, base_requests = requests_per_job(
                url, lambda: asyncio.run(fal_client_run(url, jobs, root / "official")), jobs
            )
        # fal-like timings (2 s queued, 6 s running: the simulator's realistic mode), where
        # polling every 0.1 s costs what it costs on fal.
        timing = () if not quick else ("--queue-delay", "0.2", "--run-time", "0.5")
        with simulator_process(root / "sim2", *timing) as url:
            use_home(root / "home2", url)
            _, app_waiting = requests_per_job(
                url, lambda: asyncio.run(engine_run(waiting_jobs)), waiting_jobs
            )
            _, base_waiting = requests_per_job(
                url,
                lambda: asyncio.run(fal_client_run(url, waiting_jobs, root / "official2")),
                waiting_jobs,
            )
    assert isinstance(app, dict) and isinstance(base, dict)
    if app["done"] < jobs:
        raise RuntimeError(f"the engine finished {app['done']} of {jobs} jobs")
    app_delay = statistics.median(app["delays"]) * 1000
    base_delay = statistics.median(base["delays"]) * 1000
    app_p95 = percentile(app["delays"], 95) * 1000
    base_p95 = percentile(base["delays"], 95) * 1000
    tenth = "≤ 1/10 of fal-client's"
    return [
        entry(f"queue: {jobs} jobs, total time (instant)", app["total"], "s", base["total"],
              "faster than fal-client", app["total"] < base["total"]),
        entry("queue: HTTP requests per job (instant)", app_requests, "req", base_requests,
              tenth, app_requests <= base_requests / 10),
        entry("queue: HTTP requests per job (2 s queued + 6 s run)", app_waiting, "req",
              base_waiting, tenth, app_waiting <= base_waiting / 10),
        entry("queue: COMPLETED seen to in library, median", app_delay, "ms", base_delay),
        entry("queue: COMPLETED seen to in library, p95", app_p95, "ms", base_p95,
              "≤ 1.5× fal-client's result fetch", app_p95 <= 1.5 * base_p95),
    ]  # fmt: skip


def _version() -> str:
    from importlib.metadata import version

    return version("fal-client")


if __name__ == "__main__":
    main(run, "3. Queue overhead (baseline: fal-client)")
