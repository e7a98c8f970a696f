"""The queue table model without a window: rows, captions, variations, progress, waits."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from engine_fixtures import quick_shot
from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon

from seedance_desktop.domain.pricing import Estimate
from seedance_desktop.domain.shot import shot_to_json
from seedance_desktop.engine.events import JobProgress, ProgressPhase
from seedance_desktop.engine.jobs import Job
from seedance_desktop.engine.states import JobState
from seedance_desktop.engine.waits import Wait, WaitKind
from seedance_desktop.ui.queue_model import (
    DETAIL_ROLE,
    JOB_ID_ROLE,
    PROGRESS_ROLE,
    Column,
    QueueModel,
)


def make_job(job_id: int, state: JobState = JobState.QUEUED, **changes: object) -> Job:
    job = Job(
        id=job_id,
        uid=f"uid{job_id}",
        position=job_id,
        state=state,
        endpoint="bytedance/seedance-2.0/text-to-video",
        shot_json=json.dumps(shot_to_json(quick_shot(f"Shot number {job_id}"))),
        input_json=None,
        attempt=1,
        request_id=None,
        status_url=None,
        response_url=None,
        cancel_url=None,
        estimate=Estimate(0.5, 0.9),
        final_cost=None,
        seed=None,
        result_json=None,
        error=None,
        error_kind=None,
        retryable=None,
        cancel_requested=False,
        result_path=None,
        created_at=1000.0 + job_id,
        updated_at=1000.0 + job_id,
        submitted_at=None,
        completed_at=None,
        finished_at=None,
    )
    return replace(job, **changes)  # type: ignore[arg-type]


def text(model: QueueModel, job_id: int, column: Column) -> str:
    row = model.row_of(job_id)
    assert row is not None
    return model.index(row, column).data()


def test_rows_newest_first_with_captions_and_ids(qapp) -> None:
    model = QueueModel()
    model.reset([make_job(1), make_job(2), make_job(3)])
    assert model.rowCount() == 3 and model.columnCount() == len(Column)
    assert [model.index(r, 0).data(JOB_ID_ROLE) for r in range(3)] == [3, 2, 1]
    model.upsert(make_job(4))
    assert model.row_of(4) == 0 and model.row_of(1) == 3
    assert text(model, 4, Column.SHOT) == "Shot number 4"
    assert model.headerData(Column.STATE, Qt.Orientation.Horizontal) == "State"
    model.remove(3)
    assert model.rowCount() == 3 and model.row_of(3) is None and model.row_of(2) == 1


def test_variations_say_which_is_which(qapp) -> None:
    model = QueueModel()
    jobs = [make_job(i, batch="b", variation=i, variations=3, seed=100 + i) for i in (1, 2, 3)]
    model.reset([*jobs, make_job(9)])
    assert text(model, 2, Column.TAKE) == "#2 of 3 · seed 102"
    assert text(model, 9, Column.TAKE) == ""
    # the Shot cell's second line, for the narrow panel that shows no Take column
    row = model.row_of(2)
    assert model.index(row, Column.SHOT).data(DETAIL_ROLE) == "#2 of 3 · seed 102 · ≈$0.50–$0.90"


def test_the_state_cell_draws_a_progress_bar_with_time_and_place(qtbot) -> None:
    from PySide6.QtWidgets import QTableView

    from seedance_desktop.ui.progress_delegate import ProgressDelegate

    clock = [2000.0]
    model = QueueModel(clock=lambda: clock[0])
    model.reset([make_job(1, JobState.UPLOADING), make_job(2, JobState.IN_QUEUE,
                                                          submitted_at=1990.0)])  # fmt: skip
    model.progress(JobProgress(2, ProgressPhase.QUEUE, queue_position=1))
    assert model.index(model.row_of(2), Column.STATE).data(DETAIL_ROLE) == "0:10 · 2nd in line"
    table = QTableView()
    qtbot.addWidget(table)
    table.setModel(model)
    table.setItemDelegateForColumn(Column.STATE, ProgressDelegate(table))
    table.setColumnWidth(Column.STATE, 200)
    table.verticalHeader().setDefaultSectionSize(48)
    table.resize(900, 200)
    table.show()
    cell = table.visualRect(model.index(model.row_of(1), Column.STATE))
    before = table.viewport().grab(cell).toImage()
    model.progress(JobProgress(1, ProgressPhase.UPLOAD, done=150, total=200))
    after = table.viewport().grab(cell).toImage()
    changed = sum(
        1 for x in range(cell.width()) if before.pixelColor(x, 12) != after.pixelColor(x, 12)
    )
    assert changed > cell.width() // 3  # a bar filled three quarters, where text was


def test_progress_position_cost_and_failure(qapp) -> None:
    clock = [2000.0]
    model = QueueModel(clock=lambda: clock[0])
    model.reset([make_job(1, JobState.UPLOADING)])
    model.progress(JobProgress(1, ProgressPhase.UPLOAD, done=50, total=200))
    assert text(model, 1, Column.STATE) == "Uploading references · 25%"
    assert model.index(0, Column.STATE).data(PROGRESS_ROLE) == 25
    model.upsert(make_job(1, JobState.IN_QUEUE, submitted_at=1990.0))
    assert text(model, 1, Column.STATE) == "Waiting at fal"  # progress of the old state is gone
    model.progress(JobProgress(1, ProgressPhase.QUEUE, queue_position=2))
    assert text(model, 1, Column.POSITION) == "3rd in line"
    assert text(model, 1, Column.ELAPSED) == "0:10"
    clock[0] = 2075.0
    assert text(model, 1, Column.ELAPSED) == "1:25"
    assert text(model, 1, Column.COST) == "≈$0.50–$0.90"
    model.upsert(make_job(1, JobState.FAILED, error="The prompt was refused."))
    assert text(model, 1, Column.STATE) == "Failed: The prompt was refused."
    model.upsert(make_job(1, JobState.DONE, final_cost=0.61))
    assert text(model, 1, Column.COST) == "$0.61"


def test_a_queued_job_says_why_it_waits(qapp) -> None:
    waits = {1: Wait(WaitKind.BUDGET, "Over budget.")}
    model = QueueModel(wait_reason=waits.get)
    model.reset([make_job(1), make_job(2)])
    assert text(model, 1, Column.STATE) == "Queued · Over budget."
    assert text(model, 2, Column.STATE) == "Queued"
    waits[2] = Wait(WaitKind.PAUSED, "The queue is paused.")
    model.refresh_waits()
    assert text(model, 2, Column.STATE) == "Queued · The queue is paused."


async def test_a_finished_jobs_thumbnail_is_read_off_the_ui_thread_once(
    qapp, tmp_path: Path
) -> None:
    from engine_fixtures import eventually
    from PIL import Image
    from PySide6.QtCore import QSize

    from seedance_desktop.ui.tasks import TaskRunner
    from seedance_desktop.ui.thumbnails import ThumbnailLoader

    asked: list[int] = []

    def thumbnail(job: Job) -> Path:
        asked.append(job.id)
        return tmp_path / f"{job.uid}.jpg"

    Image.new("RGB", (160, 90), (200, 40, 40)).save(tmp_path / "uid1.jpg")
    loader = ThumbnailLoader(TaskRunner(), QSize(48, 27), capacity=10)
    model = QueueModel(thumbnail=thumbnail, thumbnails=loader)
    model.mode_icons = {quick_shot().mode: QIcon()}
    model.reset([make_job(1, JobState.DONE), make_job(2)])
    assert asked == []  # nothing is looked up until a row is painted
    decorations: list[object] = []
    model.dataChanged.connect(lambda top, *_: decorations.append(top.row()))
    first = model.index(1, Column.SHOT).data(Qt.ItemDataRole.DecorationRole)
    assert first is not None and first.isNull()  # the mode's icon until the picture is read
    await eventually(lambda: loader.is_loaded(str(tmp_path / "uid1.jpg")))
    assert decorations == [1]  # the row was told
    for _ in range(3):
        for row in (0, 1):
            model.index(row, Column.SHOT).data(Qt.ItemDataRole.DecorationRole)
    icon = model.index(1, Column.SHOT).data(Qt.ItemDataRole.DecorationRole)
    assert not icon.isNull() and icon.availableSizes()[0] == QSize(48, 27)
    assert asked == [1]
