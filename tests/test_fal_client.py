"""The fal client end to end over a real socket against the bundled simulator: every endpoint from
submit to a probed MP4, every error type, retries under injected faults (proved from the
simulator's request log), and the key kept away from every other origin."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import wave
from collections.abc import AsyncIterator
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from PIL import Image
from test_fal_recorder import running_recorder

from seedance_desktop.domain.endpoints import ENDPOINTS, OUTPUT_SIZES, Mode
from seedance_desktop.fal import (
    BalanceExhausted,
    CancelOutcome,
    ContentPolicy,
    FalClient,
    FalConfig,
    Handle,
    InvalidKey,
    NetworkDown,
    RateLimited,
    RequestCancelled,
    ResultExpired,
    RetryPolicy,
    ServiceError,
    State,
    Status,
    SubmissionOutcomeUnknown,
    UnsafeUrl,
    ValidationFailed,
)

pytest.importorskip("seedance_desktop.simulator.runner")

FAL_KEY = "test-key:secret"
TEXT = "bytedance/seedance-2.0/fast/text-to-video"


async def no_sleep(seconds: float) -> None:
    return None


def make_config(**changes: object) -> FalConfig:
    return FalConfig.from_env(poll_interval_s=0.05, poll_max_interval_s=0.2, **changes)


@pytest.fixture
async def fal(fal_env: None) -> AsyncIterator[FalClient]:
    client = FalClient(make_config(), retry=RetryPolicy(sleep=no_sleep, max_attempts=4))
    try:
        yield client
    finally:
        await client.aclose()


def entries(simulator, method: str | None = None, contains: str = "") -> list:  # type: ignore[no-untyped-def]
    return [
        e
        for e in simulator.log
        if (method is None or e.method == method) and contains in e.path
        and not e.path.startswith("/_sim")
    ]  # fmt: skip


def submits(simulator, model_id: str = TEXT) -> list:  # type: ignore[no-untyped-def]
    return [e for e in entries(simulator, "POST") if e.path.strip("/") == model_id]


def payload(prompt: str = "A red fox runs through fresh snow", **extra: object) -> dict:
    return {
        "prompt": prompt,
        "resolution": "480p",
        "duration": "4",
        "aspect_ratio": "16:9",
        **extra,
    }


# --- test media ------------------------------------------------------------------------------


def make_png(path: Path, size: tuple[int, int] = (640, 480)) -> Path:
    gradient = np.linspace(0, 255, size[0], dtype=np.uint8)
    pixels = np.stack([np.tile(gradient, (size[1], 1))] * 3, axis=-1)
    Image.fromarray(pixels).save(path)
    return path


def make_mp4(path: Path, seconds: float = 2.0, size: tuple[int, int] = (640, 640)) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for i in range(int(seconds * 24)):
            frame = np.full((size[1], size[0], 3), (i * 5) % 255, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_wav(path: Path, seconds: float = 2.0, rate: int = 16000) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    samples = (np.sin(2 * math.pi * 440 * t) * 12000).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def probe(path: Path) -> tuple[int, int, float, bool]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        duration = (
            float(container.duration / av.time_base)
            if container.duration
            else float(video.duration * video.time_base if video.duration else Fraction(0))
        )
        return video.width, video.height, duration, bool(container.streams.audio)


# --- all six endpoints -----------------------------------------------------------------------


@pytest.mark.parametrize("model_id", sorted(ENDPOINTS))
async def test_every_endpoint_submit_follow_result_download(
    fal: FalClient,
    simulator,
    tmp_path: Path,
    model_id: str,  # type: ignore[no-untyped-def]
) -> None:
    endpoint = ENDPOINTS[model_id]
    with_audio = "fast" not in model_id  # both settings get covered across the six
    body = payload(generate_audio=with_audio)
    if endpoint.mode is Mode.IMAGE_TO_VIDEO:
        body["image_url"] = await fal.upload(make_png(tmp_path / "start.png"))
    elif endpoint.mode is Mode.REFERENCE_TO_VIDEO:
        body["image_urls"] = [await fal.upload(make_png(tmp_path / "ref.png"))]
        body["video_urls"] = [await fal.upload(make_mp4(tmp_path / "ref.mp4"))]
        body["audio_urls"] = [await fal.upload(make_wav(tmp_path / "ref.wav"))]
        body["prompt"] = "The character from [Image1] moves like [Video1] to [Audio1]"
    handle = await fal.submit(model_id, body)
    assert "/bytedance/seedance-2.0/requests/" in handle.status_url
    updates: list[Status] = []
    final = await fal.follow(handle, updates.append)
    assert final.state is State.COMPLETED and not final.failed
    assert updates and updates[-1].completed
    result = await fal.result(handle)
    assert result.video.url.startswith(simulator.url)
    dest = tmp_path / "out" / "video.mp4"
    await fal.download_result(result, dest)
    width, height, duration, has_audio = probe(dest)
    assert (width, height) == OUTPUT_SIZES["480p"]["16:9"]
    assert duration == pytest.approx(4.0, abs=0.25)
    assert has_audio is with_audio
    if result.video.file_size is not None:
        assert dest.stat().st_size == result.video.file_size
    # Status, result and cancel live under owner/app; the download went without any auth.
    downloads = [e for e in entries(simulator, "GET") if e.path == httpx.URL(result.video.url).path]
    assert downloads and not any(e.has_auth for e in downloads)
    assert all(e.has_auth for e in entries(simulator, contains="/requests/"))


async def test_rebuilt_handle_reaches_the_same_request(fal: FalClient) -> None:
    handle = await fal.submit(TEXT, payload())
    rebuilt = Handle.rebuild(fal.config.queue_url, TEXT, handle.request_id)
    assert (await fal.follow(rebuilt)).completed
    assert (await fal.result(rebuilt)).video.url == (await fal.result(handle)).video.url


async def test_upload_streams_and_is_served_back_without_auth(
    fal: FalClient,
    simulator,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    source = make_mp4(tmp_path / "clip.mp4")
    progress: list[tuple[int, int | None]] = []
    url = await fal.upload(source, on_progress=lambda done, total: progress.append((done, total)))
    assert progress[-1] == (source.stat().st_size, source.stat().st_size)
    async with httpx.AsyncClient() as plain:
        served = await plain.get(url)
    assert served.content == source.read_bytes()
    await fal.upload(make_png(tmp_path / "a.png"))
    tokens = entries(simulator, "POST", "/storage/auth/token")
    assert len(tokens) == 1, "the storage token is cached"


async def test_upload_falls_back_to_initiate_and_put(
    fal_env: None,
    simulator,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    source = make_png(tmp_path / "still.png")
    with running_recorder() as cdn:
        cdn.routes["/files/upload"] = [(404, "application/json", b'{"detail": "Not Found"}')]
        config = make_config(cdn_url=cdn.url)
        async with FalClient(config, retry=RetryPolicy(sleep=no_sleep)) as fal:
            url = await fal.upload(source)
        first = cdn.seen[0].headers
        assert first["authorization"].split()[0] != "Key", "the CDN gets the token, not the key"
        assert FAL_KEY not in first["authorization"]
    assert entries(simulator, "POST", "/storage/upload/initiate")
    async with httpx.AsyncClient() as plain:
        assert (await plain.get(url)).content == source.read_bytes()


# --- every error type ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "error"), [("invalid-key:nope", InvalidKey), ("locked-key:x", BalanceExhausted)]
)
async def test_refused_keys_are_not_retried(
    fal_env: None,
    simulator,
    key: str,
    error: type,  # type: ignore[no-untyped-def]
) -> None:
    async with FalClient(make_config().with_key(key), retry=RetryPolicy(sleep=no_sleep)) as fal:
        with pytest.raises(error) as info:
            await fal.submit(TEXT, payload())
    assert len(submits(simulator)) == 1
    assert key not in str(info.value) and not info.value.retryable


async def test_missing_key_is_an_invalid_key_without_a_request(
    fal_env: None,
    simulator,  # type: ignore[no-untyped-def]
) -> None:
    config = FalConfig(
        queue_url=simulator.url, rest_url=simulator.url, cdn_url=simulator.url, key=None
    )
    async with FalClient(config) as fal:
        with pytest.raises(InvalidKey):
            await fal.submit(TEXT, payload())
    assert submits(simulator) == []


async def test_invalid_input_completes_and_its_result_is_a_422(
    fal: FalClient,
    simulator,  # type: ignore[no-untyped-def]
) -> None:
    handle = await fal.submit(TEXT, payload(duration=5))  # an int: fal wants a string
    assert (await fal.follow(handle)).completed
    with pytest.raises(ValidationFailed) as info:
        await fal.result(handle)
    assert not isinstance(info.value, ContentPolicy)
    assert any(d.loc[-1] == "duration" or "duration" in d.loc for d in info.value.details)
    assert len(entries(simulator, "GET", f"/requests/{handle.request_id}")) >= 1
    result_gets = [e for e in entries(simulator, "GET") if e.path.endswith(handle.request_id)]
    assert len(result_gets) == 1, "a 422 is not retried"


async def test_content_policy(fal: FalClient) -> None:
    handle = await fal.submit(TEXT, payload("A scene #sim:content_policy"))
    await fal.follow(handle)
    with pytest.raises(ContentPolicy) as info:
        await fal.result(handle)
    assert info.value.details and info.value.details[0].type == "content_policy_violation"


@pytest.mark.parametrize(
    ("marker", "status", "error_type"),
    [
        ("runner_disconnected", 503, "runner_disconnected"),
        ("request_timeout", 504, "request_timeout"),
    ],
)
async def test_infrastructure_failures_are_service_errors(
    fal: FalClient,
    simulator,
    marker: str,
    status: int,
    error_type: str,  # type: ignore[no-untyped-def]
) -> None:
    handle = await fal.submit(TEXT, payload(f"A scene #sim:{marker}"))
    final = await fal.follow(handle)
    assert final.completed and final.failed and final.error_type == error_type
    with pytest.raises(ServiceError) as info:
        await fal.result(handle)
    assert info.value.status == status and info.value.error_type == error_type
    result_gets = [e for e in entries(simulator, "GET") if e.path.endswith(handle.request_id)]
    assert len(result_gets) == 1, "the request's recorded failure is not fetched again"


async def test_unknown_request_is_result_expired(fal: FalClient) -> None:
    ghost = Handle.rebuild(fal.config.queue_url, TEXT, "00000000-0000-0000-0000-000000000000")
    for call in (fal.status, fal.result, fal.follow):
        with pytest.raises(ResultExpired):
            await call(ghost)  # type: ignore[operator]
    assert await fal.cancel(ghost) is CancelOutcome.NOT_FOUND


async def test_cancel_outcomes_and_the_cancelled_result(fal: FalClient) -> None:
    handle = await fal.submit(TEXT, payload("A long take #sim:slow"))
    outcome = await fal.cancel(handle)
    assert outcome in (CancelOutcome.REQUESTED, CancelOutcome.REMOVED)
    assert (await fal.follow(handle)).completed
    with pytest.raises(RequestCancelled):
        await fal.result(handle)
    assert await fal.cancel(handle) is CancelOutcome.ALREADY_COMPLETED


async def test_unreachable_fal_is_network_down_not_unknown(
    fal_env: None,
    unused_port: int,  # type: ignore[no-untyped-def]
) -> None:
    dead = f"http://127.0.0.1:{unused_port}"
    config = FalConfig(queue_url=dead, rest_url=dead, cdn_url=dead).with_key(FAL_KEY)
    async with FalClient(config, retry=RetryPolicy(sleep=no_sleep, max_attempts=2)) as fal:
        with pytest.raises(NetworkDown) as info:
            await fal.submit(TEXT, payload())  # never reached fal: safe to send later
        assert info.value.reason == "connect" and info.value.retryable
        with pytest.raises(NetworkDown):
            await fal.status(Handle.rebuild(dead, TEXT, "abc"))


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- retries under injected faults -----------------------------------------------------------


async def test_ambiguous_submit_is_never_resent(fal: FalClient, simulator) -> None:  # type: ignore[no-untyped-def]
    simulator.faults.drop_after_submit = 1.0
    with pytest.raises(SubmissionOutcomeUnknown) as info:
        await fal.submit(TEXT, payload())
    assert FAL_KEY not in str(info.value)
    sent = submits(simulator)
    assert len(sent) == 1 and sent[0].status is None


async def test_refused_submits_are_resent_until_accepted(fal: FalClient, simulator) -> None:  # type: ignore[no-untyped-def]
    simulator.faults.rate_5xx = 1.0
    with pytest.raises(ServiceError) as info:
        await fal.submit(TEXT, payload())
    assert info.value.retryable
    refused = submits(simulator)
    assert len(refused) == 4 and all(e.status in (502, 503) for e in refused)
    simulator.faults.rate_5xx = 0.0
    simulator.faults.rate_429 = 1.0
    with pytest.raises(RateLimited):
        await fal.submit(TEXT, payload())
    assert len(submits(simulator)) == 8
    simulator.faults.rate_429 = 0.0
    await fal.submit(TEXT, payload())
    accepted = [e for e in submits(simulator) if e.status is not None and e.status < 300]
    assert len(accepted) == 1


async def test_flaky_network_is_ridden_out_by_idempotent_calls(
    fal: FalClient,
    simulator,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    handle = await fal.submit(TEXT, payload())
    simulator.faults.seed = 7
    simulator.faults.rate_drop = 0.3
    simulator.faults.rate_5xx = 0.2
    simulator.faults.rate_429 = 0.1
    async with FalClient(fal.config, retry=RetryPolicy(sleep=no_sleep, max_attempts=12)) as sturdy:
        final = await sturdy.follow(handle)
        result = await sturdy.result(handle)
        await sturdy.download_result(result, tmp_path / "v.mp4")
    assert final.completed
    simulator.faults.rate_drop = simulator.faults.rate_5xx = simulator.faults.rate_429 = 0.0
    failures = [e for e in entries(simulator) if e.status is None or e.status >= 429]
    assert failures, "faults were injected"
    assert probe(tmp_path / "v.mp4")[:2] == OUTPUT_SIZES["480p"]["16:9"]


async def test_interrupted_download_is_resumed_and_intact(
    fal: FalClient,
    simulator,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    handle = await fal.submit(TEXT, payload())
    await fal.follow(handle)
    result = await fal.result(handle)
    simulator.faults.truncate_download_rate = 1.0
    dest = await fal.download_result(result, tmp_path / "v.mp4")
    simulator.faults.truncate_download_rate = 0.0
    async with httpx.AsyncClient() as plain:
        original = (await plain.get(result.video.url)).content
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == hashlib.sha256(original).hexdigest()
    path = httpx.URL(result.video.url).path
    assert len([e for e in entries(simulator, "GET") if e.path == path]) >= 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"]


# --- the key stays home ----------------------------------------------------------------------


async def test_key_never_reaches_another_origin_nor_the_logs(
    fal: FalClient,
    simulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    caplog.set_level(logging.DEBUG)
    with running_recorder() as other:
        other.files["/media/out.mp4"] = b"\x00" * 5000
        handle = await fal.submit(TEXT, payload())
        await fal.follow(handle)
        foreign = Handle(
            TEXT,
            handle.request_id,
            f"{other.url}/requests/x/status",
            f"{other.url}/requests/x",
            f"{other.url}/requests/x/cancel",
        )
        for call in (fal.status, fal.result, fal.cancel, fal.follow):
            with pytest.raises(UnsafeUrl) as info:
                await call(foreign)  # type: ignore[operator]
            assert FAL_KEY not in str(info.value)
        await fal.download(f"{other.url}/media/out.mp4", tmp_path / "x.mp4")
        seen = other.headers_seen()
    assert len(seen) == 1, "only the download went there"
    assert "authorization" not in seen[0]
    assert all(FAL_KEY not in value for headers in seen for value in headers.values())
    assert FAL_KEY not in caplog.text


# --- realistic timing: queue positions and progress over the stream --------------------------


async def test_queue_positions_and_progress_arrive_over_the_stream(tmp_path: Path) -> None:
    from seedance_desktop.simulator.config import SimulatorConfig
    from seedance_desktop.simulator.runner import SimulatorServer

    config = SimulatorConfig(
        data_dir=tmp_path / "sim",
        queue_delay_s=0.1,
        run_time_s=0.8,
        max_concurrent=1,
        keepalive_s=0.1,
    )
    with SimulatorServer(config) as sim:
        fal_config = FalConfig(
            queue_url=sim.url, rest_url=sim.url, cdn_url=sim.url, poll_interval_s=0.05
        ).with_key(FAL_KEY)
        async with FalClient(fal_config, retry=RetryPolicy(sleep=no_sleep)) as fal:
            first = await fal.submit(TEXT, payload())
            second = await fal.submit(TEXT, payload())
            seen: dict[str, list[Status]] = {first.request_id: [], second.request_id: []}
            finals = await asyncio.gather(
                fal.follow(first, seen[first.request_id].append),
                fal.follow(second, seen[second.request_id].append),
            )
        log = sim.log
    assert all(f.completed for f in finals)
    waiting = seen[second.request_id]
    assert any(s.state is State.IN_QUEUE and (s.queue_position or 0) >= 1 for s in waiting)
    assert any(s.state is State.IN_PROGRESS for s in waiting)
    assert any(s.new_logs for s in waiting), "progress logs arrive while it runs"
    streams = [e for e in log if e.path.endswith("/status/stream")]
    polls = [e for e in log if e.path.endswith("/status")]
    assert len(streams) == 2 and polls == [], "the stream alone carried every update"
