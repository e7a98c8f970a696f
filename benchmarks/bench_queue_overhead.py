"""3. Queue overhead: 200 jobs through the simulator in its instant mode, against fal's official
Python client (fal-client, benchmark-only) driving the same 200 jobs against the same simulator.
Bars: faster in total, and at most a tenth of its HTTP requests per job.

fal-client hard-codes https://queue.fal.run; here its module-level queue URL is pointed at the
simulator (benchmark only). Both sides keep at most 2 jobs in flight (the engine's default) and
both download every video; every job asks for the same input and seed, so the simulator renders
once and the figures measure the clients, not the renderer.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from common import Entry, entry, fal_env, simulator_process

JOBS = 200
PAYLOAD = {"prompt": "A heron lifts off a misty lake", "resolution": "480p", "duration": "4",
           "aspect_ratio": "16:9", "seed": 7}  # fmt: skip
MODEL = "bytedance/seedance-2.0/text-to-video"


def request_count(url: str) -> int:
    return len(httpx.get(f"{url}/_sim/log", timeout=30).json())


async def run_engine(url: str, home: Path, jobs: int) -> tuple[float, list[float]]:
    from seedance_desktop.domain.shot import shot_from_input
    from seedance_desktop.engine.database import Database
    from seedance_desktop.engine.engine import Engine
    from seedance_desktop.fal.config import FalConfig
    from seedance_desktop.paths import AppPaths

    paths = AppPaths(home / "data", home / "cache", home / "config", home / "logs").ensure()
    db = Database.open(paths.database)
    config = FalConfig(queue_url=url, rest_url=url, cdn_url=url).with_key("bench:key")
    engine = Engine(db, paths, config)
    await engine.start()
    start = time.perf_counter()
    shot = shot_from_input(MODEL, PAYLOAD)
    for _ in range(jobs):
        await engine.enqueue(shot)
    await engine.run_until_idle()
    total = time.perf_counter() - start
    delays = [e.timings["saved_at"] - e.timings["completed_at"] for e in engine.library.list()]
    await engine.close()
    db.close()
    return total, delays


async def run_official(url: str, folder: Path, jobs: int) -> float:
    import fal_client
    import fal_client.client as official

    official.QUEUE_URL_FORMAT = f"{url}/"
    client = fal_client.AsyncClient(key="bench:key")
    slots = asyncio.Semaphore(2)
    async with httpx.AsyncClient() as http:

        async def one(n: int) -> None:
            async with slots:
                result = await client.subscribe(MODEL, arguments=PAYLOAD)
                async with http.stream("GET", result["video"]["url"]) as response:
                    with (folder / f"{n}.mp4").open("wb") as out:
                        async for chunk in response.aiter_bytes():
                            out.write(chunk)

        start = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(jobs)))
        return time.perf_counter() - start


def run(jobs: int = JOBS) -> list[Entry]:
    with tempfile.TemporaryDirectory() as tmp, simulator_process(Path(tmp), "--instant") as url:
        os.environ.update(fal_env(url))
        warm = asyncio.run(run_official(url, Path(tmp), 1))  # the one render happens here
        del warm
        before = request_count(url)
        official_s = asyncio.run(run_official(url, Path(tmp), jobs))
        official_requests = (request_count(url) - before) / jobs
        before = request_count(url)
        ours_s, delays = asyncio.run(run_engine(url, Path(tmp) / "home", jobs))
        our_requests = (request_count(url) - before) / jobs
    # With fal-like waits (queued, then running for seconds) polling costs what it costs on fal.
    timing = ("--queue-delay", "1", "--run-time", "3", "--max-concurrent", "4")
    with tempfile.TemporaryDirectory() as tmp, simulator_process(Path(tmp), *timing) as url:
        os.environ.update(fal_env(url))
        asyncio.run(run_official(url, Path(tmp), 1))
        before = request_count(url)
        asyncio.run(run_official(url, Path(tmp), 10))
        official_waiting = (request_count(url) - before) / 10
        before = request_count(url)
        asyncio.run(run_engine(url, Path(tmp) / "home", 10))
        ours_waiting = (request_count(url) - before) / 10
    delay = statistics.median(delays) if delays else float("nan")
    return [
        entry("requests per job, 4 s jobs (10 jobs)", ours_waiting, "req", official_waiting,
              "≤ 1/10 of fal-client's", ours_waiting <= official_waiting / 10),
        entry(f"{jobs} jobs: total time", ours_s, "s", official_s, "< official fal-client",
              ours_s < official_s),
        entry("requests per job, instant mode", our_requests, "req", official_requests,
              "≤ 1/10 of fal-client's", our_requests <= official_requests / 10),
        entry("COMPLETED to in the library (median)", delay, "s", None, "reported", True),
    ]  # fmt: skip


if __name__ == "__main__":
    import sys

    from common import report

    report(run(int(sys.argv[1]) if len(sys.argv) > 1 else JOBS), "Queue overhead")
