"""The window's one interface to the engine, over the real engine, SQLite file and simulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_fixtures import quick_shot

from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.engine.events import JobAdded, LibraryChanged
from seedance_desktop.engine.interface import (
    ActionRefused,
    EngineInterface,
    InvalidShot,
    JobAction,
    LibraryFilter,
    LibrarySort,
)
from seedance_desktop.engine.states import JobState


async def test_queue_follow_and_act_through_the_interface(harness) -> None:
    api = EngineInterface(harness.engine)
    api.set_paused(True)
    assert api.paused
    jobs = await api.enqueue(quick_shot("A lantern in fog", seed=3), variations=2)
    assert [j.variation_label for j in jobs] == ["#1 of 2 · seed 3", "#2 of 2 · seed 4"]
    assert [e.job.id for e in harness.events if isinstance(e, JobAdded)] == [j.id for j in jobs]
    assert api.wait_reason(jobs[0].id) is None or api.wait_reason(jobs[0].id).message
    cancelled = await api.perform(JobAction.CANCEL, jobs[1].id)
    assert cancelled is not None and cancelled.state is JobState.CANCELLED
    with pytest.raises(ActionRefused):
        await api.perform(JobAction.FETCH_AGAIN, jobs[1].id)
    assert await api.perform(JobAction.REMOVE, jobs[1].id) is None
    assert [j.id for j in api.jobs()] == [jobs[0].id]
    api.set_paused(False)
    await harness.wait_for(jobs[0].id, {JobState.DONE})
    assert [h.state for h in api.history(jobs[0].id)][-1] is JobState.DONE
    with pytest.raises(InvalidShot):
        await api.enqueue(quick_shot(""))


async def test_library_commands_emit_events_and_export(
    harness, tmp_path: Path, private_trash: Path
) -> None:
    api = EngineInterface(harness.engine)
    (job,) = await api.enqueue(quick_shot("A heron at dawn", seed=8))
    await harness.wait_for(job.id, {JobState.DONE})
    harness.events.clear()
    api.star([job.id], True)
    assert [e for e in harness.events if isinstance(e, LibraryChanged)] == [LibraryChanged(job.id)]
    assert api.library_page(LibraryFilter(starred=True))[0].job_id == job.id
    assert api.thumbnail_path(job).exists()

    written = await api.export([job.id], tmp_path / "out", "{seed}_{prompt}")
    assert [p.name for p in written] == ["8_a-heron-at-dawn.mp4"]
    assert written[0].read_bytes() == api.library_entry(job.id).path.read_bytes()

    shot = await api.continue_from(job.id)
    assert shot.mode is Mode.IMAGE_TO_VIDEO and Path(shot.start_image or "").exists()
    assert api.reuse(job.id).prompt == "A heron at dawn"

    harness.events.clear()
    path = api.library_entry(job.id).path
    assert await api.delete([job.id]) == [job.id]
    assert api.library_entry(job.id) is None and path.exists()  # undoable until finished
    assert api.library_page(LibraryFilter()) == []
    assert LibraryChanged(job.id) in harness.events
    api.undo_delete([job.id])
    assert api.library_entry(job.id) is not None
    await api.delete([job.id])
    assert await api.finish_deletes() == [path]
    assert not path.exists() and (private_trash / path.name).exists()  # the system trash
    with pytest.raises(ActionRefused):
        await api.continue_from(job.id)


async def test_settings_round_trip_and_copies(harness) -> None:
    api = EngineInterface(harness.engine)
    settings = api.engine_settings()
    settings.budget_month_usd = 12.5
    assert api.engine_settings().budget_month_usd is None  # a copy until saved
    preferences = api.preferences()
    preferences.export_template = "{id}"
    api.save_settings(settings, preferences)
    assert api.engine_settings().budget_month_usd == 12.5
    assert api.preferences().export_template == "{id}"
    assert api.spend().budget_month_usd == 12.5


async def test_variations_stack_sort_and_keep_their_batch(harness) -> None:
    api = EngineInterface(harness.engine)
    jobs = await api.enqueue(quick_shot("Three takes of a heron", seed=40), variations=3)
    (single,) = await api.enqueue(quick_shot("A single fox", duration="8"))
    for job in [*jobs, single]:
        await harness.wait_for(job.id, {JobState.DONE})
    entries = api.library_page(LibraryFilter())
    assert len(entries) == 4
    labels = sorted(e.variation_label or "" for e in entries if e.batch)
    assert [label.split(" · ")[0] for label in labels] == ["#1 of 3", "#2 of 3", "#3 of 3"]
    assert all("seed" in label for label in labels)
    stacked = api.library_page(LibraryFilter(stacks=True))
    sizes = sorted((e.stack_size, e.variation) for e in stacked)
    assert sizes == [(1, 1), (3, 1)]
    batch = next(e.batch for e in stacked if e.stack_size == 3)
    assert len(api.library_page(LibraryFilter(batch=batch))) == 3
    await api.delete([next(e.job_id for e in stacked if e.stack_size == 3)])
    assert sorted(e.stack_size for e in api.library_page(LibraryFilter(stacks=True))) == [1, 2]
    longest = api.library_page(LibraryFilter(sort=LibrarySort.DURATION))[0]
    assert longest.job_id == single.id and (longest.duration_s or 0) > 7
    dearest = api.library_page(LibraryFilter(sort=LibrarySort.COST))
    assert [e.cost_usd for e in dearest] == sorted((e.cost_usd for e in dearest), reverse=True)
