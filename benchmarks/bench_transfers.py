"""4. Transfers over loopback: a 200 MB result download and a 50 MB reference upload by the app's
fal client (FalClient.download / FalClient.upload, as the engine calls them), against curl doing
the same in the same run, alternating, median of 3. Reported: throughput, and the app's peak
memory growth during a transfer (this process's resident high-water mark, reset before each).
Bars: at least 70% of curl's throughput, and memory growth under 40 MB (streamed, never whole).

The simulator serves both (its own process; upload cap raised to fit 200 MB). The app's download
also does what curl does not: it writes to a .part file, fsyncs it and renames it into place.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from common import (
    FAKE_KEY,
    Entry,
    entry,
    main,
    peak_rss_mb,
    reset_peak_rss,
    rss_mb,
    simulator_process,
)
from media import make_sized_file

MB = 1024 * 1024


def storage_token(url: str) -> str:
    answer = httpx.post(
        f"{url}/storage/auth/token",
        params={"storage_type": "fal-cdn-v3"},
        json={},
        headers={"Authorization": f"Key {FAKE_KEY}"},
        timeout=30,
    )
    answer.raise_for_status()
    body = answer.json()
    return f"{body['token_type']} {body['token']}"


def curl_upload(url: str, path: Path) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(
        ["curl", "-sS", "--fail", "-X", "POST", "--data-binary", f"@{path}",
         "-H", f"Authorization: {storage_token(url)}", "-H", "Content-Type: video/mp4",
         "-H", f"X-Fal-File-Name: {path.name}", "-H", "Expect:", f"{url}/files/upload"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return time.perf_counter() - start, json.loads(out)["access_url"]


def curl_download(file_url: str, dest: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["curl", "-sS", "--fail", "-o", str(dest), file_url], check=True)
    return time.perf_counter() - start


async def app_transfer(url: str, *, upload: Path | None = None, download: str | None = None,
                       dest: Path | None = None) -> tuple[float, float]:  # fmt: skip
    """(seconds, peak memory growth in MB) of one transfer by the app's client."""
    from seedance_desktop.fal.client import FalClient
    from seedance_desktop.fal.config import FalConfig

    config = FalConfig(queue_url=url, rest_url=url, cdn_url=url).with_key(FAKE_KEY)
    async with FalClient(config) as client:
        await client.storage.token()  # the token is not part of the transfer
        base = rss_mb()
        reset_peak_rss()
        start = time.perf_counter()
        if upload is not None:
            await client.upload(upload, content_type="video/mp4")
        else:
            assert download is not None and dest is not None
            await client.download(download, dest)
        elapsed = time.perf_counter() - start
        growth = peak_rss_mb() - base
    return elapsed, growth


def run(quick: bool = False) -> list[Entry]:
    down_mb, up_mb, runs = (20, 5, 1) if quick else (200, 50, 3)
    with tempfile.TemporaryDirectory(prefix="seedance-bench-transfer-") as tmp:
        root = Path(tmp)
        result = make_sized_file(root / "result.mp4", down_mb * MB)
        reference = make_sized_file(root / "reference.mp4", up_mb * MB)
        times: dict[str, list[float]] = {
            "app down": [],
            "curl down": [],
            "app up": [],
            "curl up": [],
        }
        growth: list[float] = []
        with simulator_process(root / "sim", "--max-upload-mb", str(down_mb + 10)) as url:
            _, file_url = curl_upload(url, result)  # the simulator now serves the 200 MB file
            for n in range(runs):
                target = root / f"down-{n}.mp4"
                times["curl down"].append(curl_download(file_url, target))
                target.unlink()
                seconds, grew = asyncio.run(app_transfer(url, download=file_url, dest=target))
                times["app down"].append(seconds)
                growth.append(grew)
                target.unlink()
                times["curl up"].append(curl_upload(url, reference)[0])
                seconds, grew = asyncio.run(app_transfer(url, upload=reference))
                times["app up"].append(seconds)
                growth.append(grew)
    speed = {
        k: (down_mb if "down" in k else up_mb) / statistics.median(v) for k, v in times.items()
    }
    worst = max(growth)
    return [
        entry(f"transfers: {down_mb} MB download", speed["app down"], "MB/s", speed["curl down"],
              "≥ 70% of curl", speed["app down"] >= 0.7 * speed["curl down"]),
        entry(f"transfers: {up_mb} MB upload", speed["app up"], "MB/s", speed["curl up"],
              "≥ 70% of curl", speed["app up"] >= 0.7 * speed["curl up"]),
        entry("transfers: app peak memory growth", worst, "MB", None, "< 40 MB", worst < 40),
    ]  # fmt: skip


if __name__ == "__main__":
    main(run, "4. Transfers over loopback (baseline: curl)")
