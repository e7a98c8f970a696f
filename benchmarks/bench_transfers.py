"""4. Transfers over loopback: a 200 MB result download and a 50 MB reference upload by the
app's fal client, against curl doing the same in the same run. Bars: at least 70% of curl's
throughput, and the app's peak memory growth under 40 MB (streamed, never read whole)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx
from common import Entry, entry, median_of, rss_mb, simulator_process

KEY = "bench:key"


class PeakRss:
    """Samples this process's resident memory every 5 ms while active."""

    def __enter__(self) -> PeakRss:
        self.start = self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> float:
        return self.peak - self.start


def make_file(path: Path, megabytes: int) -> Path:
    with path.open("wb") as out:
        for _ in range(megabytes):
            out.write(os.urandom(1024 * 1024))
    return path


def curl_upload(url: str, path: Path) -> str:
    token = httpx.post(f"{url}/storage/auth/token?storage_type=fal-cdn-v3", json={},
                       headers={"Authorization": f"Key {KEY}"}).json()["token"]  # fmt: skip
    out = subprocess.run(
        ["curl", "-sS", "-X", "POST", "--data-binary", f"@{path}",
         "-H", f"Authorization: Bearer {token}", "-H", "Content-Type: application/octet-stream",
         "-H", f"X-Fal-File-Name: {path.name}", f"{url}/files/upload"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    import json

    return json.loads(out)["access_url"]


def timed(action) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def run(download_mb: int = 200, upload_mb: int = 50, runs: int = 3) -> list[Entry]:
    from seedance_desktop.fal.client import FalClient
    from seedance_desktop.fal.config import FalConfig

    with (
        tempfile.TemporaryDirectory() as tmp_name,
        simulator_process(Path(tmp_name), "--max-upload-mb", "400") as url,
    ):
        tmp = Path(tmp_name)
        big = make_file(tmp / "result.bin", download_mb)
        ref = make_file(tmp / "reference.bin", upload_mb)
        video_url = curl_upload(url, big)
        config = FalConfig(queue_url=url, rest_url=url, cdn_url=url).with_key(KEY)

        async def ours_download() -> None:
            async with FalClient(config) as client:
                await client.download(video_url, tmp / "ours.bin", expected_size=big.stat().st_size)

        async def ours_upload() -> None:
            async with FalClient(config) as client:
                await client.upload(ref, content_type="application/octet-stream")

        curl_get = ["curl", "-sS", "-o", str(tmp / "curl.bin"), video_url]
        curl_down_s = median_of(runs, lambda: timed(lambda: subprocess.run(curl_get, check=True)))
        with PeakRss() as down_memory:
            ours_down_s = median_of(runs, lambda: timed(lambda: asyncio.run(ours_download())))
        assert (tmp / "ours.bin").stat().st_size == big.stat().st_size
        curl_up_s = median_of(runs, lambda: timed(lambda: curl_upload(url, ref)))
        with PeakRss() as up_memory:
            ours_up_s = median_of(runs, lambda: timed(lambda: asyncio.run(ours_upload())))
    down, curl_down = download_mb / ours_down_s, download_mb / curl_down_s
    up, curl_up = upload_mb / ours_up_s, upload_mb / curl_up_s
    growth = max(down_memory.growth, up_memory.growth)
    return [
        entry(f"download {download_mb} MB throughput", down, "MB/s", curl_down, "≥ 70% of curl",
              down >= 0.7 * curl_down),
        entry(f"upload {upload_mb} MB throughput", up, "MB/s", curl_up, "≥ 70% of curl",
              up >= 0.7 * curl_up),
        entry("peak memory growth during transfers", growth, "MB", None, "< 40 MB", growth < 40),
    ]  # fmt: skip


if __name__ == "__main__":
    from common import report

    report(run(), "Transfers")
