"""The job engine end to end: real simulator over a socket, real SQLite, real MP4s."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest
from engine_fixtures import TEST_KEY, EngineHarness, quick_shot
from media_factory import make_image, make_video

from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.domain.shot import Shot
from seedance_desktop.engine.actions import Resolution
from seedance_desktop.engine.database import Database
from seedance_desktop.engine.engine import ActionRefused, InvalidShot
from seedance_desktop.engine.events import ConnectivityChanged, JobAdded, JobChanged
from seedance_desktop.engine.library import LibraryFilter
from seedance_desktop.engine.states import JobState
from seedance_desktop.engine.waits import WaitKind

FINAL = {JobState.DONE, JobState.FAILED, JobState.CANCELLED, JobState.UNKNOWN_SUBMISSION}


def submits(simulator) -> list:
    return [e for e in simulator.log if e.method == "POST" and e.model_id]


def uploads(simulator) -> list:
    return [
        e
        for e in simulator.log
        if e.path.startswith("/files/upload") or e.path.startswith("/storage/upload/initiate")
    ]


async def test_a_text_to_video_job_lands_in_the_library(harness: EngineHarness, simulator) -> None:
    engine = harness.engine
    (job,) = await engine.enqueue(quick_shot(seed=42))
    assert await harness.wait_for(job.id, FINAL) is JobState.DONE
    job = engine.jobs.get(job.id)
    assert [h.state for h in engine.jobs.history(job.id)] == [
        JobState.QUEUED,
        JobState.UPLOADING,
        JobState.SUBMITTING,
        JobState.IN_QUEUE,
        JobState.IN_PROGRESS,
        JobState.FETCHING,
        JobState.DOWNLOADING,
        JobState.DONE,
    ]
    entry = engine.library.get(job.id)
    assert entry is not None and entry.path == Path(job.result_path)
    with av.open(str(entry.path)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (864, 496)
        assert abs(float(container.duration / 1e6) - 4.0) < 0.2
    assert entry.thumbnail is not None and entry.thumbnail.exists()
    assert entry.seed == 42 and entry.request_id == job.request_id
    assert entry.input == {
        "prompt": job.prompt,
        "resolution": "480p",
        "duration": "4",
        "aspect_ratio": "16:9",
        "seed": 42,
    }
    assert job.final_cost == pytest.approx(864 * 496 * 4 * 24 / 1024 / 1000 * 0.014, rel=0.05)
    assert engine.spend().today_usd == pytest.approx(job.final_cost)
    assert len(submits(simulator)) == 1
    assert engine.jobs.logs(job.id), "fal's progress logs are kept"
    kinds = {type(e) for e in harness.events}
    assert {JobAdded, JobChanged} <= kinds
    assert not list(harness.paths.library.rglob("*.part"))


async def test_invalid_shots_are_refused_before_anything_is_spent(
    harness: EngineHarness, simulator
) -> None:
    with pytest.raises(InvalidShot) as caught:
        await harness.engine.enqueue(quick_shot(prompt="  ", duration="99"))
    assert {p.field for p in caught.value.problems} == {"prompt", "duration"}
    assert harness.engine.jobs.all() == []
    assert submits(simulator) == []


async def test_references_are_stored_and_each_distinct_file_uploaded_once(
    harness: EngineHarness, simulator, tmp_path: Path
) -> None:
    engine = harness.engine
    image = make_image(tmp_path / "hero.png", 800, 600)
    clip = make_video(tmp_path / "moves.mp4", 832, 832, seconds=2.0)
    shot = Shot(
        Mode.REFERENCE_TO_VIDEO,
        prompt="[Image1] dances like [Video1]",
        resolution="480p",
        duration="4",
        images=(str(image),),
        videos=(str(clip),),
    )
    jobs = await engine.enqueue(shot, variations=2)
    assert len({j.seed for j in jobs}) == 2
    for job in jobs:
        assert await harness.wait_for(job.id, FINAL) is JobState.DONE
    assert len(uploads(simulator)) == 2, "two distinct files, uploaded once each"

    # The originals go away; reusing the settings still works, from the store.
    image.unlink()
    clip.unlink()
    reused = engine.library.reuse(jobs[0].id)
    assert all(Path(r).exists() for r in (*reused.images, *reused.videos))
    assert Path(reused.images[0]).is_relative_to(harness.paths.reference_store)
    (again,) = await engine.enqueue(reused)
    assert await harness.wait_for(again.id, FINAL) is JobState.DONE
    assert len(uploads(simulator)) == 2, "fresh uploads are reused"
    refs = engine.library.references(jobs[0].id)
    assert sorted(r["original"] for r in refs) == ["hero.png", "moves.mp4"]


async def test_expired_upload_urls_are_replaced(
    harness: EngineHarness, simulator, tmp_path: Path
) -> None:
    engine = harness.engine
    image = make_image(tmp_path / "a.png", 800, 600)
    shot = Shot(
        Mode.IMAGE_TO_VIDEO,
        prompt="slow push in",
        resolution="480p",
        duration="4",
        start_image=str(image),
    )
    (first,) = await engine.enqueue(shot)
    assert await harness.wait_for(first.id, FINAL) is JobState.DONE
    simulator.expire_uploads()
    (second,) = await engine.enqueue(shot)
    assert await harness.wait_for(second.id, FINAL) is JobState.DONE
    assert len(uploads(simulator)) == 2


async def test_in_flight_limit_is_never_exceeded(harness: EngineHarness, simulator) -> None:
    engine = harness.engine
    simulator.config.max_concurrent = 10  # fal would take them all; the app must hold back
    jobs = []
    for n in range(5):
        jobs += await engine.enqueue(quick_shot(f"shot number {n}", seed=n))
    for job in jobs:
        assert await harness.wait_for(job.id, FINAL) is JobState.DONE
    # Each request is in flight from its submit to its result fetch.
    spans: dict[str, list[float]] = {}
    for entry in simulator.log:
        if entry.request_id and entry.status and entry.status < 300:
            spans.setdefault(entry.request_id, []).append(entry.time)
    events = sorted([(min(t), 1) for t in spans.values()] + [(max(t), -1) for t in spans.values()])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    assert peak <= 2

    def taken_at(job_id: int) -> float:
        return next(h.at for h in engine.jobs.history(job_id) if h.state is JobState.UPLOADING)

    order = [taken_at(j.id) for j in jobs]
    assert order == sorted(order), "jobs are taken in queue order"


async def test_reorder_pause_and_resume(harness: EngineHarness, simulator) -> None:
    engine = harness.engine
    engine.pause()
    a, b, c = [(await engine.enqueue(quick_shot(f"shot {n}")))[0] for n in "abc"]
    await engine.settled()
    assert submits(simulator) == [], "a paused queue sends nothing"
    engine.move(c.id, 0)
    assert [j.id for j in engine.jobs.all()] == [c.id, a.id, b.id]
    engine.settings.max_in_flight = 1
    engine.resume()
    for job in (a, b, c):
        assert await harness.wait_for(job.id, FINAL) is JobState.DONE
    first = min((a, b, c), key=lambda j: engine.jobs.get(j.id).submitted_at)
    assert first.id == c.id


async def test_cancel_a_queued_job_sends_nothing(harness: EngineHarness, simulator) -> None:
    engine = harness.engine
    engine.pause()
    (job,) = await engine.enqueue(quick_shot())
    job = await engine.cancel(job.id)
    assert job.state is JobState.CANCELLED
    engine.resume()
    await engine.settled()
    assert submits(simulator) == []
    with pytest.raises(ActionRefused):
        await engine.cancel(job.id)


async def test_cancel_a_running_job_is_honest(harness: EngineHarness, simulator) -> None:
    engine = harness.engine
    (job,) = await engine.enqueue(quick_shot("a long take #sim:slow"))
    await harness.wait_for(job.id, {JobState.IN_PROGRESS})
    await engine.cancel(job.id)
    assert await harness.wait_for(job.id, FINAL) is JobState.CANCELLED
    states = [h.state for h in engine.jobs.history(job.id)]
    # "Cancel requested" until fal says so, never straight to cancelled.
    assert states[states.index(JobState.CANCEL_REQUESTED) + 1 :][-1] is JobState.CANCELLED
    assert engine.library.get(job.id) is None


async def test_failed_jobs_keep_their_reason_and_retry_as_a_new_attempt(
    harness: EngineHarness, simulator
) -> None:
    engine = harness.engine
    (job,) = await engine.enqueue(quick_shot("forbidden #sim:content_policy"))
    assert await harness.wait_for(job.id, FINAL) is JobState.FAILED
    job = engine.jobs.get(job.id)
    assert job.error_kind == "content_policy" and job.error
    job = await engine.retry(job.id)
    assert job.attempt == 2 and job.request_id is None
    assert await harness.wait_for(job.id, FINAL) is JobState.FAILED
    attempts = {h.attempt for h in engine.jobs.history(job.id)}
    assert attempts == {1, 2}, "the earlier attempt's history is kept"
    assert len(submits(simulator)) == 2


async def test_an_ambiguous_submit_is_never_resent(harness: EngineHarness, simulator) -> None:
    engine = harness.engine
    simulator.faults.drop_after_submit = 1.0
    (job,) = await engine.enqueue(quick_shot())
    assert await harness.wait_for(job.id, FINAL) is JobState.UNKNOWN_SUBMISSION
    await engine.settled()
    assert len(submits(simulator)) == 1
    # A restart does not resend it either.
    engine = await harness.restart()
    await engine.settled()
    assert engine.jobs.get(job.id).state is JobState.UNKNOWN_SUBMISSION
    assert len(submits(simulator)) == 1
    simulator.faults.drop_after_submit = 0.0
    await engine.resolve_unknown(job.id, Resolution.RESUBMIT)
    assert await harness.wait_for(job.id, FINAL) is JobState.DONE
    assert len(submits(simulator)) == 2


async def test_dropping_an_unknown_submission(harness: EngineHarness, simulator) -> None:
    simulator.faults.drop_after_submit = 1.0
    (job,) = await harness.engine.enqueue(quick_shot())
    await harness.wait_for(job.id, {JobState.UNKNOWN_SUBMISSION})
    job = await harness.engine.resolve_unknown(job.id, Resolution.DROP)
    assert job.state is JobState.CANCELLED


async def test_jobs_survive_a_restart_mid_way(harness: EngineHarness, simulator) -> None:
    engine = harness.engine
    (job,) = await engine.enqueue(quick_shot("a long take #sim:slow"))
    await harness.wait_for(job.id, {JobState.IN_PROGRESS})
    engine = await harness.restart()
    assert await harness.wait_for(job.id, FINAL) is JobState.DONE
    assert len(submits(simulator)) == 1


async def test_offline_jobs_wait_and_go_when_the_network_returns(
    harness: EngineHarness, simulator
) -> None:
    engine = harness.engine
    simulator.go_offline()
    (job,) = await engine.enqueue(quick_shot())
    await harness.wait_until(lambda: not engine.connectivity.online)
    await engine.settled()
    assert engine.jobs.get(job.id).state is JobState.QUEUED
    simulator.go_online()
    assert await harness.wait_for(job.id, FINAL) is JobState.DONE
    online = [e.online for e in harness.events if isinstance(e, ConnectivityChanged)]
    assert online[:1] == [False] and online[-1] is True


async def test_the_network_dropping_mid_job(harness: EngineHarness, simulator) -> None:
    engine = harness.engine
    (job,) = await engine.enqueue(quick_shot("a long take #sim:slow"))
    await harness.wait_for(job.id, {JobState.IN_PROGRESS})
    simulator.go_offline()
    await harness.wait_until(lambda: not engine.connectivity.online)
    simulator.go_online()
    assert await harness.wait_for(job.id, FINAL) is JobState.DONE
    assert len(submits(simulator)) == 1


async def test_faults_at_high_rates_still_finish_every_job_once(
    harness: EngineHarness, simulator
) -> None:
    engine = harness.engine
    simulator.faults.rate_429 = 0.2
    simulator.faults.rate_5xx = 0.2
    simulator.faults.rate_drop = 0.1
    simulator.faults.truncate_download_rate = 0.5
    jobs = []
    for n in range(4):
        jobs += await engine.enqueue(quick_shot(f"stormy shot {n}", seed=n))
    states = [await harness.wait_for(j.id, FINAL, timeout=90) for j in jobs]
    unknown = [j for j, s in zip(jobs, states) if s is JobState.UNKNOWN_SUBMISSION]
    assert all(s in (JobState.DONE, JobState.UNKNOWN_SUBMISSION) for s in states), states
    by_model = [e.request_id for e in submits(simulator) if e.status and e.status < 300]
    done = [j for j, s in zip(jobs, states) if s is JobState.DONE]
    assert len(set(by_model)) == len(by_model)
    assert len(done) + len(unknown) == 4
    for job in done:
        entry = engine.library.get(job.id)
        with av.open(str(entry.path)) as container:
            assert container.streams.video[0].frames > 0


async def test_budget_cap_holds_jobs_with_a_reason(harness: EngineHarness, simulator) -> None:
    """A job queued before the budget was lowered waits (new ones are refused at Queue time)."""
    engine = harness.engine
    engine.pause()
    (job,) = await engine.enqueue(quick_shot())
    settings = engine.settings
    settings.budget_month_usd = 0.05
    engine.update_settings(settings)
    engine.resume()
    await engine.settled()
    assert engine.jobs.get(job.id).state is JobState.QUEUED
    wait = engine.wait_reason(job.id)
    assert wait is not None and wait.kind is WaitKind.BUDGET and "budget" in wait.message
    assert submits(simulator) == []
    settings.budget_month_usd = 10.0
    engine.update_settings(settings)
    assert await harness.wait_for(job.id, FINAL) is JobState.DONE


async def test_an_invalid_key_holds_the_queue(harness: EngineHarness, simulator) -> None:
    harness.config = harness.config.with_key("invalid-key:nope")
    engine = await harness.restart()
    (job,) = await engine.enqueue(quick_shot())
    await harness.wait_until(lambda: engine.queue_block is not None)
    assert engine.jobs.get(job.id).state is JobState.QUEUED
    assert TEST_KEY not in engine.queue_block and "nope" not in engine.queue_block
    assert "key" in engine.queue_block.lower()


async def test_an_unwritable_library_fails_clearly_and_retry_does_not_pay_twice(
    harness: EngineHarness, simulator
) -> None:
    engine = harness.engine
    harness.paths.library.parent.mkdir(parents=True, exist_ok=True)
    harness.paths.library.write_text("a file where the library folder should be")
    (job,) = await engine.enqueue(quick_shot())
    assert await harness.wait_for(job.id, FINAL) is JobState.FAILED
    job = engine.jobs.get(job.id)
    assert job.error_kind == "local" and job.retryable
    harness.paths.library.unlink()
    await engine.retry(job.id)
    assert await harness.wait_for(job.id, FINAL) is JobState.DONE
    assert len(submits(simulator)) == 1


def test_commits_are_in_the_log_at_once_and_reach_the_disk_on_sync(tmp_path: Path) -> None:
    """A commit never waits for the disk (it would hold up the window's loop); a killed process
    loses none, since it is in the write-ahead log; `sync_to_disk` makes it outlive a power cut."""
    path = tmp_path / "jobs.sqlite3"
    db = Database.open(path)
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    with db.transaction() as tx:
        tx.execute("INSERT INTO settings (key, value_json) VALUES ('k', '1')")
    wal = path.with_name(path.name + "-wal")
    assert wal.stat().st_size > 0  # the commit is in the log
    db.sync_to_disk()
    reader = Database.open(path)  # another connection, as after a crash
    assert reader.execute("SELECT value_json FROM settings").fetchone()[0] == "1"
    reader.close()
    db.close()  # the last connection checkpoints and removes the log
    assert not wal.exists()
    Database.open(path).sync_to_disk()  # nothing to sync: fine


async def test_a_damaged_database_is_set_aside_not_a_crash_loop(
    harness: EngineHarness, simulator
) -> None:
    await harness.stop()
    for suffix in ("", "-wal", "-shm"):
        Path(str(harness.paths.database) + suffix).unlink(missing_ok=True)
    harness.paths.database.write_bytes(b"\x00garbage" * 512)
    engine = await harness.start()
    assert harness.db.report.recovered_from is not None
    assert "damaged" in harness.db.report.message
    (job,) = await engine.enqueue(quick_shot())
    assert await harness.wait_for(job.id, FINAL) is JobState.DONE


async def test_library_search_filters_star_export_and_delete(
    harness: EngineHarness, simulator, tmp_path: Path
) -> None:
    from seedance_desktop.engine.library import ExportItem, export_files, export_name, sidecar

    engine = harness.engine
    fox = (await engine.enqueue(quick_shot("A red fox in snow", seed=7)))[0]
    owl = (await engine.enqueue(quick_shot("An owl at dusk", seed=8)))[0]
    for job in (fox, owl):
        assert await harness.wait_for(job.id, FINAL) is JobState.DONE
    library = engine.library
    assert [e.job_id for e in library.list(LibraryFilter(search="fox"))] == [fox.id]
    assert [e.job_id for e in library.list(LibraryFilter(search="ow"))] == [owl.id]
    assert library.list(LibraryFilter(search='"; DROP TABLE library; --')) == []
    library.star(owl.id)
    assert [e.job_id for e in library.list(LibraryFilter(starred=True))] == [owl.id]
    assert len(library.list(LibraryFilter(mode=Mode.TEXT_TO_VIDEO))) == 2
    assert library.list(LibraryFilter(mode=Mode.IMAGE_TO_VIDEO)) == []

    entry = library.get(fox.id)
    name = export_name(entry, "{date}_{mode}_{seed}_{prompt}")
    assert name.endswith("_text-to-video_7_a-red-fox-in-snow")
    out = tmp_path / "exports"
    item = ExportItem(entry.path, name, sidecar(entry, library.references(fox.id)))
    first = export_files([item], out)
    second = export_files([item], out)
    assert first[0] != second[0] and first[0].read_bytes() == entry.path.read_bytes()
    side = json.loads(first[0].with_suffix(".json").read_text())
    assert side["seed"] == 7 and side["input"]["prompt"] == "A red fox in snow"
    assert TEST_KEY.split(":")[1] not in first[0].with_suffix(".json").read_text()

    library.delete(fox.id)
    assert library.get(fox.id) is None and not entry.path.exists()
    assert [e.job_id for e in library.list(LibraryFilter(search="fox"))] == []


async def test_continue_from_the_last_frame(harness: EngineHarness, simulator) -> None:
    from seedance_desktop.engine.library import continue_shot
    from seedance_desktop.media.frames import last_frame

    engine = harness.engine
    (job,) = await engine.enqueue(quick_shot())
    assert await harness.wait_for(job.id, FINAL) is JobState.DONE
    entry = engine.library.get(job.id)
    frame = last_frame(entry.path, harness.paths.data / "frames" / f"{entry.uid}.png")
    shot = continue_shot(frame, entry)
    assert shot.mode is Mode.IMAGE_TO_VIDEO and shot.start_image == str(frame)
    plan = await engine.plan(shot.__class__(**{**vars(shot), "prompt": "and then it flies"}))
    assert plan.ok, plan.problems


async def test_no_secret_in_the_database_or_logs(
    harness: EngineHarness, simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    (job,) = await harness.engine.enqueue(quick_shot())
    assert await harness.wait_for(job.id, FINAL) is JobState.DONE
    await harness.stop()
    secret = TEST_KEY.split(":")[1]
    for path in harness.paths.data.glob("seedance.sqlite3*"):
        assert secret.encode() not in path.read_bytes()
    assert secret not in caplog.text


def test_states_allow_only_the_designed_moves() -> None:
    from seedance_desktop.engine.states import TRANSITIONS, can_move

    assert can_move(JobState.SUBMITTING, JobState.UNKNOWN_SUBMISSION)
    assert not can_move(JobState.UNKNOWN_SUBMISSION, JobState.SUBMITTING)
    assert not can_move(JobState.DONE, JobState.QUEUED)
    assert set(TRANSITIONS) == set(JobState)


class JumpyClock:
    """Wall-clock time that the test can throw forwards or backwards, like a laptop waking up
    in another time zone or a clock being corrected."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        import time

        return time.time() + self.offset


async def test_clock_jumps_lose_nothing_and_never_reuse_a_doubtful_upload(
    simulator, tmp_path: Path
) -> None:
    from engine_fixtures import fal_config_for

    from seedance_desktop.engine.settings import EngineSettings
    from seedance_desktop.paths import AppPaths

    clock = JumpyClock()
    root = tmp_path / "app"
    paths = AppPaths(root / "data", root / "cache", root / "config", root / "logs")
    harness = EngineHarness(paths, fal_config_for(simulator.url), EngineSettings(), clock)
    engine = await harness.start()
    try:
        image = make_image(tmp_path / "a.png", 800, 600)
        shot = Shot(Mode.IMAGE_TO_VIDEO, prompt="pan left", resolution="480p", duration="4",
                    start_image=str(image))  # fmt: skip
        (first,) = await engine.enqueue(shot)
        await harness.wait_for(first.id, {JobState.IN_PROGRESS, JobState.FETCHING, *FINAL})
        clock.offset = -3 * 3600  # the clock goes back three hours mid-job
        assert await harness.wait_for(first.id, FINAL) is JobState.DONE
        (second,) = await engine.enqueue(shot)
        assert await harness.wait_for(second.id, FINAL) is JobState.DONE
        assert len(uploads(simulator)) == 2, "an upload from 'the future' is not trusted"
        clock.offset = 30 * 24 * 3600  # a month later: the cached URL has expired
        (third,) = await engine.enqueue(shot)
        assert await harness.wait_for(third.id, FINAL) is JobState.DONE
        assert len(uploads(simulator)) == 3
        assert len(submits(simulator)) == 3
        totals = engine.spend()
        assert totals.month_usd >= 0 and totals.committed_usd == 0
    finally:
        await harness.stop()
