"""A paid job is never lost to a bad answer, and a submit fal may have is never sent twice.

The engine talks over real sockets to a small proxy (tests/fal_proxy.py) in front of the real
simulator; the proxy gives one scripted misbehaviour (a 408 to a submit, a garbled status or
result, a status fal does not have, escape sequences, a link to ftp://) and passes everything
else on to the simulator, whose request log counts the submits that really reached "fal"."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from engine_fixtures import EngineHarness, fal_config_for, quick_shot
from fal_proxy import Answer, Proxy, running_proxy

from seedance_desktop.engine.engine import ActionRefused
from seedance_desktop.engine.events import JobProgress
from seedance_desktop.engine.settings import EngineSettings
from seedance_desktop.engine.states import JobState
from seedance_desktop.paths import AppPaths

FINAL = {JobState.DONE, JobState.FAILED, JobState.CANCELLED, JobState.UNKNOWN_SUBMISSION}
SUBMIT = r"^/bytedance/seedance-2\.0/text-to-video$"
STATUS = r"/requests/[^/]+/status$"
RESULT = r"/requests/[^/]+$"
GARBLED = Answer(200, b"<html><body>502 Bad Gateway</body></html>", content_type="text/html")


def submits(simulator) -> list:  # type: ignore[no-untyped-def]
    return [e for e in simulator.log if e.method == "POST" and e.model_id]


@pytest.fixture
def proxy(simulator) -> Iterator[Proxy]:  # type: ignore[no-untyped-def]
    with running_proxy(simulator.url) as running:
        yield running


def make_harness(tmp_path: Path, proxy: Proxy, **config: object) -> EngineHarness:
    root = tmp_path / "app"
    paths = AppPaths(root / "data", root / "cache", root / "config", root / "logs")
    fal = replace(fal_config_for(proxy.url), use_stream=False, **config)  # type: ignore[arg-type]
    return EngineHarness(paths, fal, EngineSettings())


@pytest.fixture
async def harness(tmp_path: Path, proxy: Proxy) -> AsyncIterator[EngineHarness]:
    h = make_harness(tmp_path, proxy)
    await h.start()
    yield h
    await h.stop()


def log_text(harness: EngineHarness, job_id: int) -> str:
    assert harness.engine is not None
    return "\n".join(line.message for line in harness.engine.jobs.logs(job_id))


# --- submit ------------------------------------------------------------------------------------


async def test_a_submit_answered_408_with_a_request_id_is_sent_once_and_kept_unclear(
    harness: EngineHarness, proxy: Proxy, simulator
) -> None:
    timeout = Answer(408, b'{"detail": "Request timeout"}', {"x-fal-request-id": "req-408-abc"})
    proxy.script("POST", SUBMIT, timeout, repeat=True)
    engine = harness.engine
    assert engine is not None
    (job,) = await engine.enqueue(quick_shot())
    assert await harness.wait_for(job.id, FINAL) is JobState.UNKNOWN_SUBMISSION
    await engine.run_until_idle()
    assert proxy.count("POST", SUBMIT) == 1, "a submit fal may have must never be resent"
    job = engine.jobs.get(job.id)
    assert job.request_id == "req-408-abc"
    last = engine.jobs.history(job.id)[-1]
    assert last.state is JobState.UNKNOWN_SUBMISSION and "req-408-abc" in (last.detail or "")
    assert "req-408-abc" in log_text(harness, job.id)
    assert submits(simulator) == []


# --- status and result answers -----------------------------------------------------------------


async def test_an_unreadable_status_once_is_asked_again_and_the_job_finishes(
    harness: EngineHarness, proxy: Proxy, simulator
) -> None:
    proxy.script("GET", STATUS, Answer(202, b"{not json"))
    engine = harness.engine
    assert engine is not None
    (job,) = await engine.enqueue(quick_shot())
    assert await harness.wait_for(job.id, FINAL) is JobState.DONE
    assert proxy.count("GET", STATUS) >= 2
    assert len(submits(simulator)) == 1


async def test_an_unreadable_result_once_is_asked_again_and_the_job_finishes(
    harness: EngineHarness, proxy: Proxy, simulator
) -> None:
    proxy.script("GET", RESULT, GARBLED)
    engine = harness.engine
    assert engine is not None
    (job,) = await engine.enqueue(quick_shot())
    assert await harness.wait_for(job.id, FINAL) is JobState.DONE
    assert proxy.count("GET", RESULT) == 2
    assert len(submits(simulator)) == 1


async def test_a_result_unreadable_for_good_keeps_its_request_and_fetch_again_brings_it_home(
    harness: EngineHarness, proxy: Proxy, simulator
) -> None:
    garbled = proxy.script("GET", RESULT, GARBLED, repeat=True)
    engine = harness.engine
    assert engine is not None
    (job,) = await engine.enqueue(quick_shot())
    assert await harness.wait_for(job.id, FINAL) is JobState.FAILED
    job = engine.jobs.get(job.id)
    assert job.request_id and job.error_kind == "unreadable"
    assert "Fetch again" in (job.error or "") and job.request_id in (job.error or "")
    assert proxy.count("GET", RESULT) == harness.config.unreadable_attempts

    garbled.repeat = False  # fal answers properly again
    job = await engine.fetch_again(job.id)
    assert job.state is JobState.FETCHING and job.error is None
    assert await harness.wait_for(job.id, FINAL) is JobState.DONE
    assert len(submits(simulator)) == 1, "fetch again sends no new submit"
    assert engine.library.get(job.id) is not None
    with pytest.raises(ActionRefused, match="Only a failed job"):
        await engine.fetch_again(job.id)


async def test_a_job_failed_while_following_is_followed_again_by_fetch_again(
    harness: EngineHarness, proxy: Proxy, simulator
) -> None:
    garbled = proxy.script("GET", STATUS, Answer(202, b""), repeat=True)
    engine = harness.engine
    assert engine is not None
    (job,) = await engine.enqueue(quick_shot())
    assert await harness.wait_for(job.id, FINAL) is JobState.FAILED
    assert engine.jobs.get(job.id).request_id
    garbled.repeat = False
    await engine.fetch_again(job.id)
    assert await harness.wait_for(job.id, FINAL) is JobState.DONE
    assert len(submits(simulator)) == 1


async def test_fetch_again_is_refused_where_fal_has_nothing_to_give(
    harness: EngineHarness, proxy: Proxy, simulator
) -> None:
    proxy.script("POST", SUBMIT, Answer(400, b'{"detail": "Bad request"}'))
    engine = harness.engine
    assert engine is not None
    (refused,) = await engine.enqueue(quick_shot())
    assert await harness.wait_for(refused.id, FINAL) is JobState.FAILED
    assert "HTTP 400" in (engine.jobs.get(refused.id).error or "")
    with pytest.raises(ActionRefused, match="never accepted"):
        await engine.fetch_again(refused.id)
    (policy,) = await engine.enqueue(quick_shot("forbidden #sim:content_policy"))
    assert await harness.wait_for(policy.id, FINAL) is JobState.FAILED
    with pytest.raises(ActionRefused, match="final"):
        await engine.fetch_again(policy.id)
    assert len(submits(simulator)) == 1  # the 400 never reached the simulator


async def test_an_unknown_status_is_shown_as_it_came_while_following_goes_on(
    harness: EngineHarness, proxy: Proxy, simulator
) -> None:
    paused = json.dumps({"status": "PAUSED", "logs": []}).encode()
    proxy.script("GET", STATUS, Answer(202, paused), Answer(202, paused))
    engine = harness.engine
    assert engine is not None
    (job,) = await engine.enqueue(quick_shot())
    assert await harness.wait_for(job.id, FINAL) is JobState.DONE
    assert log_text(harness, job.id).count("fal reports status PAUSED") == 1
    messages = [e.message for e in harness.events if isinstance(e, JobProgress)]
    assert "fal reports status PAUSED" in messages
    assert not any("offline" in (m or "").lower() for m in messages)


async def test_escape_sequences_from_the_server_never_reach_the_job_logs(
    harness: EngineHarness, proxy: Proxy, simulator
) -> None:
    noisy = {
        "status": "IN_PROGRESS",
        "logs": [
            {"message": "\x1b[31mred alert\x1b[0m\x07", "level": "INFO", "source": "user"},
            {"message": "title\x1b]0;pwned\x07 kept", "level": "\x1b[1mWARN", "source": "x"},
        ],
    }
    odd = {"status": "\x1b[2J\x9b0mWEIRD\x00", "logs": noisy["logs"]}
    proxy.script(
        "GET",
        STATUS,
        Answer(202, json.dumps(noisy).encode()),
        Answer(202, json.dumps(odd).encode()),
    )
    engine = harness.engine
    assert engine is not None
    (job,) = await engine.enqueue(quick_shot())
    assert await harness.wait_for(job.id, FINAL) is JobState.DONE
    lines = engine.jobs.logs(job.id)
    text = "\n".join(f"{line.level} {line.source} {line.message}" for line in lines)
    assert "red alert" in text and "title kept" in text and "fal reports status WEIRD" in text
    assert "WARN x title kept" in text
    assert not any((ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F for c in text)


# --- the engine's own typed failures -----------------------------------------------------------


async def test_a_typed_failure_is_one_clear_line_without_a_traceback(
    tmp_path: Path, proxy: Proxy, simulator, caplog: pytest.LogCaptureFixture
) -> None:
    h = make_harness(tmp_path, proxy, max_download_bytes=1000)
    engine = await h.start()
    try:
        caplog.set_level(logging.INFO)
        (job,) = await engine.enqueue(quick_shot())
        assert await h.wait_for(job.id, FINAL) is JobState.FAILED
        job = engine.jobs.get(job.id)
        assert job.error == "The video is larger than this app accepts."
        assert job.request_id, "the paid request is kept"
    finally:
        await h.stop()
    assert not [r for r in caplog.records if r.exc_info], "no traceback for a typed failure"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"job {job.id} failed: The video is larger than this app accepts." in warnings


# --- downloads ---------------------------------------------------------------------------------


async def test_a_result_link_redirecting_to_ftp_fails_that_job_not_the_network(
    harness: EngineHarness, proxy: Proxy, simulator
) -> None:
    video = {"video": {"url": f"{proxy.url}/files/odd/video.mp4"}, "seed": 7}
    proxy.script("GET", RESULT, Answer(200, json.dumps(video).encode()))
    proxy.script(
        "GET",
        r"^/files/odd/",
        Answer(302, b"", {"Location": "ftp://files.example/v.mp4"}),
        repeat=True,
    )
    engine = harness.engine
    assert engine is not None
    (job,) = await engine.enqueue(quick_shot())
    assert await harness.wait_for(job.id, FINAL) is JobState.FAILED
    job = engine.jobs.get(job.id)
    assert "redirects to an unsupported address (ftp)" in (job.error or "")
    assert engine.connectivity is not None and engine.connectivity.online
    (second,) = await engine.enqueue(quick_shot("A second fox"))
    assert await harness.wait_for(second.id, FINAL) is JobState.DONE
