"""Sequences over the real engine, SQLite file and simulator: made, edited, kept across a
restart, and Continue/Extend results landing right after their source."""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio
import pytest
from engine_fixtures import quick_shot

from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.engine.events import SequencesChanged
from seedance_desktop.engine.interface import (
    EngineInterface,
    FollowUpKind,
    SequenceError,
    SequenceExportError,
)
from seedance_desktop.engine.states import JobState


async def results(harness, *prompts: str, variations: int = 1) -> list[int]:
    api = EngineInterface(harness.engine)
    ids = []
    for prompt in prompts:
        for job in await api.enqueue(quick_shot(prompt), variations=variations):
            await harness.wait_for(job.id, {JobState.DONE})
            ids.append(job.id)
    return ids


async def test_a_sequence_is_edited_and_survives_a_restart(harness) -> None:
    a, b, c = await results(harness, "A fox wakes", "The fox runs", "The fox sleeps")
    api = EngineInterface(harness.engine)
    scene = api.create_sequence("  Fox   scene ", [a, b])
    assert scene.name == "Fox scene" and [s.job_id for s in scene.shots] == [a, b]
    assert SequencesChanged(scene.id) in harness.events
    with pytest.raises(SequenceError, match="already a sequence named"):
        api.create_sequence("fox scene")
    with pytest.raises(SequenceError, match="no result 999"):
        api.add_to_sequence(scene.id, 999)

    third = api.add_to_sequence(scene.id, c, index=0)
    api.trim_shot(third.id, 0.5, 2.0)
    api.move_shot(third.id, 2)
    api.remove_shot(scene.shots[0].id)
    with pytest.raises(SequenceError, match="within the shot"):
        api.trim_shot(third.id, 1.0, 99.0)
    api.create_sequence("Second")

    harness.events.clear()
    await harness.restart()
    api = EngineInterface(harness.engine)
    assert [s.name for s in api.sequences()] == ["Fox scene", "Second"]
    kept = api.sequences()[0]
    assert [(s.job_id, s.in_s, s.end_s) for s in kept.shots] == [(b, 0.0, 4.0), (c, 0.5, 2.0)]
    assert kept.duration_s == pytest.approx(5.5)
    assert kept.starts_s() == [0.0, 4.0]


async def test_variations_are_alternates_that_can_be_switched(harness) -> None:
    first, second = await results(harness, "A kite over dunes", variations=2)
    api = EngineInterface(harness.engine)
    scene = api.create_sequence("Kites", [first])
    (shot,) = scene.shots
    assert shot.takes == (first, second)
    switched = api.use_take(shot.id, second)
    assert switched.job_id == second and switched.takes == (first, second)
    with pytest.raises(SequenceError, match="not one of this shot's alternates"):
        api.use_take(shot.id, 12345)


@pytest.mark.parametrize("kind", [FollowUpKind.CONTINUE, FollowUpKind.EXTEND])
async def test_continue_and_extend_land_right_after_their_source(harness, kind) -> None:
    a, b = await results(harness, "A door opens", "A long hallway")
    api = EngineInterface(harness.engine)
    scene = api.create_sequence("Hall", [a, b])
    source = scene.shots[0]

    shot = await api.follow_up(source.id, kind)
    if kind is FollowUpKind.CONTINUE:
        assert shot.mode is Mode.IMAGE_TO_VIDEO and Path(shot.start_image or "").exists()
        shot = shot.__class__(**{**vars(shot), "prompt": "She steps through the door"})
    else:
        assert shot.mode is Mode.REFERENCE_TO_VIDEO and shot.videos == (str(source.path),)
        assert "[Video1]" in shot.prompt
        shot = shot.__class__(**{**vars(shot), "prompt": shot.prompt + "she steps through"})
    jobs = await api.enqueue(shot, variations=2)
    for job in jobs:
        await harness.wait_for(job.id, {JobState.DONE})
    await harness.wait_until(lambda: len(api.sequences()[0].shots) == 3)

    placed = api.sequences()[0]
    made = {job.id for job in jobs}
    # The first variation ready is the new shot; the other is its alternate (either may finish
    # first: two are at fal at once).
    assert placed.shots[0].job_id == a and placed.shots[2].job_id == b
    assert placed.shots[1].job_id in made and set(placed.shots[1].takes) == made
    assert SequencesChanged(scene.id) in harness.events


async def test_a_result_that_landed_while_no_one_watched_is_placed_at_start(harness) -> None:
    (a,) = await results(harness, "Rain on a window")
    api = EngineInterface(harness.engine)
    scene = api.create_sequence("Rain", [a])
    shot = await api.follow_up(scene.shots[0].id, FollowUpKind.CONTINUE)
    shot = shot.__class__(**{**vars(shot), "prompt": "The rain stops"})
    (job,) = await api.enqueue(shot)
    await harness.wait_for(job.id, {JobState.DONE})
    harness.engine.db.execute("DELETE FROM sequence_takes")  # as if it had not been placed
    harness.engine.db.execute("DELETE FROM sequence_shots WHERE job_id = ?", (job.id,))
    await harness.restart()
    api = EngineInterface(harness.engine)
    assert [s.job_id for s in api.sequences()[0].shots] == [a, job.id]


async def test_export_through_the_interface_and_a_deleted_result(harness, tmp_path) -> None:
    a, b = await results(harness, "A boat leaves", "The boat at sea")
    api = EngineInterface(harness.engine)
    scene = api.create_sequence("Boat", [a, b])
    api.trim_shot(scene.shots[1].id, 1.0, 3.0)
    seen: list[tuple[int, int]] = []
    report = await api.export_sequence(
        scene.id, tmp_path / "boat.mp4", progress=lambda d, t: seen.append((d, t))
    )
    assert report.frames == (4 + 2) * 24 and seen[-1] == (144, 144)
    written = await api.export_timeline(scene.id, tmp_path / "boat.otio")
    timeline = otio.adapters.read_from_file(str(tmp_path / "boat.otio"))
    assert len(list(timeline.find_clips())) == 4  # two shots, picture and sound
    assert all(p.exists() for p in written)

    empty = api.create_sequence("Empty")
    with pytest.raises(SequenceExportError, match="“Empty” has no shots yet"):
        await api.export_sequence(empty.id, tmp_path / "empty.mp4")
    await api.delete([a])
    with pytest.raises(SequenceExportError, match="Shot 1: its result was deleted"):
        await api.export_sequence(scene.id, tmp_path / "again.mp4")
    assert api.sequence(scene.id).shots[0].missing
    assert not (tmp_path / "again.mp4").exists() and not (tmp_path / "empty.mp4").exists()
