"""Downloads over a real socket from the recording test server: streaming into `.part`, resume by
Range, restart when ranges are ignored, size checks, a full disk, and never any auth header."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_fal_recorder import Recorder, running_recorder

from seedance_desktop.fal import (
    DiskFull,
    DownloadFailed,
    FalClient,
    FalConfig,
    ResultExpired,
    RetryPolicy,
    UnsafeUrl,
)
from seedance_desktop.fal.download import WRITEBACK_EVERY_BYTES

SECRET = "download-key-id:download-secret-value"
DATA = os.urandom(3 * 1024 * 1024 + 123)  # more than one write buffer, not a round size


@pytest.fixture
def cdn() -> Iterator[Recorder]:
    with running_recorder() as rec:
        rec.files["/files/out.mp4"] = DATA
        yield rec


async def no_sleep(seconds: float) -> None:
    return None


@pytest.fixture
async def client(cdn: Recorder) -> FalClient:
    # The key is configured for the queue/REST origins only; the recorder plays the CDN.
    config = FalConfig(queue_url="http://127.0.0.1:9", rest_url="http://127.0.0.1:9").with_key(
        SECRET
    )
    fal = FalClient(config, retry=RetryPolicy(sleep=no_sleep, max_attempts=4))
    yield fal  # type: ignore[misc]
    await fal.aclose()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def assert_no_auth(cdn: Recorder) -> None:
    for headers in cdn.headers_seen():
        assert "authorization" not in headers
        assert SECRET not in " ".join(headers.values())


async def test_download_streams_into_place_with_progress(
    client: FalClient, cdn: Recorder, tmp_path: Path
) -> None:
    progress: list[tuple[int, int | None]] = []
    dest = tmp_path / "library" / "job-1.mp4"
    out = await client.download(
        f"{cdn.url}/files/out.mp4",
        dest,
        expected_size=len(DATA),
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert out == dest and dest.read_bytes() == DATA
    assert leftovers(dest.parent) == ["job-1.mp4"]
    dones = [d for d, _ in progress]
    assert dones == sorted(dones) and dones[-1] == len(DATA)
    assert {t for _, t in progress} == {len(DATA)}
    assert_no_auth(cdn)


async def test_an_encoded_answer_is_decoded_into_the_file(
    client: FalClient, cdn: Recorder, tmp_path: Path
) -> None:
    cdn.gzip_files = True  # the app asks for identity; a server may compress all the same
    dest = tmp_path / "job-2.mp4"
    await client.download(f"{cdn.url}/files/out.mp4", dest, expected_size=len(DATA))
    assert dest.read_bytes() == DATA


async def test_interrupted_download_resumes_with_range(
    client: FalClient, cdn: Recorder, tmp_path: Path
) -> None:
    cdn.truncate_next = 1
    dest = tmp_path / "v.mp4"
    await client.download(f"{cdn.url}/files/out.mp4", dest, expected_size=len(DATA))
    assert hashlib.sha256(dest.read_bytes()).digest() == hashlib.sha256(DATA).digest()
    headers = cdn.headers_seen()
    assert len(headers) == 2
    assert "range" not in headers[0]
    resumed_at = int(headers[1]["range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at < len(DATA)
    assert leftovers(tmp_path) == ["v.mp4"]
    assert_no_auth(cdn)


async def test_download_restarts_when_ranges_are_ignored(
    client: FalClient, cdn: Recorder, tmp_path: Path
) -> None:
    cdn.truncate_next = 2
    cdn.honour_range = False
    dest = tmp_path / "v.mp4"
    await client.download(f"{cdn.url}/files/out.mp4", dest)  # no size known: Content-Length
    assert dest.read_bytes() == DATA
    assert len(cdn.headers_seen()) == 3


async def test_a_large_download_handed_to_disk_on_the_way_survives_resume_and_restart(
    client: FalClient, cdn: Recorder, tmp_path: Path
) -> None:
    """Past WRITEBACK_EVERY_BYTES the part file is handed to the disk as it grows; a resume
    appends after it and a restart (ranges ignored) rewrites it from zero."""
    big = os.urandom(2 * WRITEBACK_EVERY_BYTES + 4321)
    cdn.files["/files/big.mp4"] = big
    cdn.truncate_next = 1  # cut at half, past the first hand-over
    resumed = tmp_path / "resumed.mp4"
    await client.download(f"{cdn.url}/files/big.mp4", resumed, expected_size=len(big))
    assert hashlib.sha256(resumed.read_bytes()).digest() == hashlib.sha256(big).digest()
    cdn.truncate_next, cdn.honour_range = 1, False
    restarted = tmp_path / "restarted.mp4"
    await client.download(f"{cdn.url}/files/big.mp4", restarted, expected_size=len(big))
    assert restarted.read_bytes() == big
    assert leftovers(tmp_path) == ["restarted.mp4", "resumed.mp4"]


async def test_size_mismatch_leaves_nothing(
    client: FalClient, cdn: Recorder, tmp_path: Path
) -> None:
    with pytest.raises(DownloadFailed):
        await client.download(f"{cdn.url}/files/out.mp4", tmp_path / "v.mp4", expected_size=10)
    with pytest.raises(DownloadFailed):
        await client.download(f"{cdn.url}/files/out.mp4", tmp_path / "v.mp4", max_bytes=1000)
    assert leftovers(tmp_path) == []


async def test_gone_media_is_result_expired(
    client: FalClient, cdn: Recorder, tmp_path: Path
) -> None:
    with pytest.raises(ResultExpired):
        await client.download(f"{cdn.url}/files/missing.mp4", tmp_path / "v.mp4")
    assert leftovers(tmp_path) == []


async def test_full_disk_is_a_clear_error_and_leaves_no_file(
    client: FalClient, cdn: Recorder, tmp_path: Path
) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    dest = tmp_path / "v.mp4"
    # Every write into the .part hits the kernel's always-full device: a real ENOSPC.
    (tmp_path / "v.mp4.part").symlink_to("/dev/full")
    with pytest.raises(DiskFull) as info:
        await client.download(f"{cdn.url}/files/out.mp4", dest)
    assert "disk is full" in str(info.value).lower()
    assert leftovers(tmp_path) == []


async def test_redirect_to_another_origin_carries_no_auth(
    client: FalClient, cdn: Recorder, tmp_path: Path
) -> None:
    with running_recorder() as other:
        other.files["/elsewhere.mp4"] = DATA
        cdn.redirects["/files/moved.mp4"] = f"{other.url}/elsewhere.mp4"
        await client.download(f"{cdn.url}/files/moved.mp4", tmp_path / "v.mp4")
        assert (tmp_path / "v.mp4").read_bytes() == DATA
        assert_no_auth(other)
    assert_no_auth(cdn)


async def test_only_http_urls_are_downloaded(client: FalClient, tmp_path: Path) -> None:
    for url in ("file:///etc/passwd", "ftp://x/y.mp4", "https://u@x.test/y.mp4"):
        with pytest.raises(UnsafeUrl):
            await client.download(url, tmp_path / "v.mp4")
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("target", ["ftp://files.example/v.mp4", "file:///etc/passwd"])
async def test_a_redirect_to_another_scheme_is_a_clear_download_failure_not_offline(
    client: FalClient, cdn: Recorder, tmp_path: Path, target: str
) -> None:
    cdn.redirects["/files/odd.mp4"] = target
    with pytest.raises(DownloadFailed) as info:
        await client.download(f"{cdn.url}/files/odd.mp4", tmp_path / "v.mp4")
    scheme = target.split(":")[0]
    assert f"redirects to an unsupported address ({scheme})" in str(info.value)
    assert not info.value.retryable
    assert len(cdn.headers_seen()) == 1, "asked once: the same link leads to the same place"
    assert leftovers(tmp_path) == []


async def test_a_redirect_keeps_the_range_of_a_resumed_download(
    client: FalClient, cdn: Recorder, tmp_path: Path
) -> None:
    with running_recorder() as other:
        other.files["/elsewhere.mp4"] = DATA
        other.truncate_next = 1
        cdn.redirects["/files/moved.mp4"] = f"{other.url}/elsewhere.mp4"
        await client.download(f"{cdn.url}/files/moved.mp4", tmp_path / "v.mp4")
        assert (tmp_path / "v.mp4").read_bytes() == DATA
        assert [h.get("range") for h in other.headers_seen()][1:] == [f"bytes={len(DATA) // 2}-"]
