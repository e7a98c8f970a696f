"""The queue panel, the player and the library view against the real engine and simulator."""

from __future__ import annotations

from pathlib import Path

from engine_fixtures import eventually, quick_shot
from media_factory import make_video
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.engine.actions import JobAction
from seedance_desktop.engine.interface import EngineInterface
from seedance_desktop.engine.library import LibraryFilter
from seedance_desktop.engine.states import JobState
from seedance_desktop.ui.bridge import EngineBridge
from seedance_desktop.ui.library_model import LibraryModel
from seedance_desktop.ui.library_view import LibraryView
from seedance_desktop.ui.player import PlayerWidget
from seedance_desktop.ui.queue_model import Column
from seedance_desktop.ui.queue_panel import QueuePanel
from seedance_desktop.ui.tasks import TaskRunner


def queue_panel(qtbot, engine) -> QueuePanel:
    panel = QueuePanel(EngineBridge(engine.events), TaskRunner())
    qtbot.addWidget(panel)
    panel.attach(EngineInterface(engine))
    return panel


def cell(panel: QueuePanel, job_id: int, column: Column) -> str:
    row = panel.model.row_of(job_id)
    assert row is not None, f"job {job_id} has no row"
    return panel.model.index(row, column).data()


def row_text(panel: QueuePanel, job_id: int) -> str:
    return cell(panel, job_id, Column.STATE)


def shown_state(panel: QueuePanel, job_id: int) -> JobState | None:
    row = panel.model.row_of(job_id)
    job = panel.model.job_at(row) if row is not None else None
    return job.state if job else None


def select(panel: QueuePanel, job_id: int) -> None:
    panel.select(job_id)


async def test_jobs_move_to_done_and_notify(qtbot, ui_engine) -> None:
    engine = ui_engine.engine
    panel = queue_panel(qtbot, engine)
    (job,) = await engine.enqueue(quick_shot("A kite over dunes"))
    assert panel.model.row_of(job.id) == 0
    await ui_engine.wait_for(job.id, {JobState.DONE})
    await eventually(lambda: row_text(panel, job.id) == "Done")
    assert cell(panel, job.id, Column.COST).startswith("$")
    assert ("Video ready", "A kite over dunes") in panel.notifier.shown
    assert ("Queue done", "Every queued job has finished.") in panel.notifier.shown
    opened: list[int] = []
    panel.openResult.connect(opened.append)
    select(panel, job.id)
    panel.job_actions["open"].trigger()
    assert opened == [job.id]


async def test_cancel_retry_and_remove(qtbot, ui_engine) -> None:
    engine = ui_engine.engine
    panel = queue_panel(qtbot, engine)
    panel.pause_button.click()
    assert engine.settings.paused and panel.pause_button.text() == "Resume queue"
    (job,) = await engine.enqueue(quick_shot())
    select(panel, job.id)
    assert panel.job_actions[JobAction.CANCEL].isEnabled()
    panel.show()
    panel.activateWindow()
    await eventually(panel.isActiveWindow)
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_Period, Qt.KeyboardModifier.ControlModifier)
    await ui_engine.wait_for(job.id, {JobState.CANCELLED})
    await eventually(lambda: row_text(panel, job.id) == "Cancelled")
    panel.pause_button.click()
    assert not engine.settings.paused
    (bad,) = await engine.enqueue(quick_shot("forbidden #sim:content_policy"))
    await ui_engine.wait_for(bad.id, {JobState.FAILED})
    await eventually(lambda: row_text(panel, bad.id).startswith("Failed:"))
    assert any(title == "Job failed" for title, _ in panel.notifier.shown)
    select(panel, bad.id)
    panel.job_actions[JobAction.RETRY].trigger()
    await eventually(lambda: engine.jobs.get(bad.id).attempt == 2)
    await ui_engine.wait_for(bad.id, {JobState.FAILED})
    select(panel, job.id)
    panel.job_actions[JobAction.REMOVE].trigger()
    await eventually(lambda: panel.model.row_of(job.id) is None)


async def test_cancelling_at_fal_asks_first(qtbot, ui_engine) -> None:
    engine = ui_engine.engine
    panel = queue_panel(qtbot, engine)
    (job,) = await engine.enqueue(quick_shot("long #sim:slow"))
    await ui_engine.wait_for(job.id, {JobState.IN_PROGRESS})
    # the panel asks from what it shows, which follows the engine's events a moment later
    await eventually(lambda: shown_state(panel, job.id) is JobState.IN_PROGRESS)
    select(panel, job.id)
    panel.job_actions[JobAction.CANCEL].trigger()
    box = panel._message
    assert isinstance(box, QMessageBox) and "billed" in box.text()
    box.accept()
    await ui_engine.wait_for(job.id, {JobState.CANCELLED})


async def test_offline_banner_and_logs(qtbot, ui_engine, simulator) -> None:
    engine = ui_engine.engine
    panel = queue_panel(qtbot, engine)
    panel.show()
    simulator.go_offline()
    (job,) = await engine.enqueue(quick_shot())
    # a dropped network is retried a few times (about 8 s of backoff) before it counts as offline
    await eventually(lambda: not engine.connectivity.online, timeout=40)
    assert panel.offline_banner.isVisible()
    simulator.go_online()
    await ui_engine.wait_for(job.id, {JobState.DONE})
    await eventually(lambda: not panel.offline_banner.isVisible())
    select(panel, job.id)
    panel.job_actions["logs"].trigger()
    text = panel.logs_dialog.findChild(type(panel.logs_dialog.children()[-1])).toPlainText()
    assert "Done" in text and "Queued" in text


async def test_the_player_without_multimedia_keeps_the_rest(qtbot, tmp_path: Path) -> None:
    player = PlayerWidget()
    qtbot.addWidget(player)
    player._start_multimedia(loader=lambda: (None, "libpulse.so.0: cannot open shared object"))
    assert not player.available
    assert "libpulse" in player.notice.text()
    player.load(tmp_path / "missing.mp4")
    assert player.external.isEnabled() and player.folder.isEnabled()
    assert "cannot be read" in player.notice.text()
    player.toggle()  # nothing to play, nothing breaks
    video = make_video(tmp_path / "clip.mp4", 320, 240, seconds=1.0, with_audio=False)
    player.load(video)
    player.seek_frame(12)  # stepping and seeking need no QtMultimedia
    await eventually(lambda: player.shown_frame == 12)
    player.toggle()
    assert not player.playing


async def test_a_thumbnail_loader_cancelled_before_it_ran_does_not_stop_later_ones(
    qtbot, ui_engine
) -> None:
    engine = ui_engine.engine
    (job,) = await engine.enqueue(quick_shot("A heron on a lake", seed=7))
    await ui_engine.wait_for(job.id, {JobState.DONE})
    tasks = TaskRunner()
    model = LibraryModel(tasks)
    model.set_source(engine.library.list, LibraryFilter())
    model.data(model.index(0), Qt.ItemDataRole.DecorationRole)  # painted: a loader starts
    await tasks.cancel_all()  # e.g. the view was detached before the loader got to run
    assert not model.thumbnail_loaded(0)
    model.data(model.index(0), Qt.ItemDataRole.DecorationRole)  # painted again
    await eventually(lambda: model.thumbnail_loaded(0))


async def test_library_search_star_reuse_continue_export_delete(
    qtbot, ui_engine, tmp_path: Path, private_trash: Path
) -> None:
    engine = ui_engine.engine
    fox = (await engine.enqueue(quick_shot("A red fox in snow", seed=5)))[0]
    owl = (await engine.enqueue(quick_shot("An owl at dusk", seed=6)))[0]
    for job in (fox, owl):
        await ui_engine.wait_for(job.id, {JobState.DONE})
    view = LibraryView(EngineBridge(engine.events), TaskRunner())
    qtbot.addWidget(view)
    view.attach(EngineInterface(engine))
    view.show()
    model = view.model
    assert model.rowCount() == 2 and view.status.text() == "2 results"
    await eventually(lambda: model.thumbnail_loaded(0) and model.thumbnail_loaded(1))
    view.search.setText("zebra")  # no hits: nothing more to come either
    await eventually(lambda: view.status.text() == "0 results")
    view.search.setText("fox")
    await eventually(lambda: model.rowCount() == 1)
    assert view.status.text() == "1 result"
    assert view.select_job(fox.id)
    entry = view.current_entry()
    assert entry is not None and entry.job_id == fox.id
    assert "Seed: 5" in view.details.text() and str(entry.request_id) in view.details.text()

    shots: list = []
    view.reuseRequested.connect(shots.append)
    view.buttons["reuse"].click()
    assert shots[-1].prompt == "A red fox in snow" and shots[-1].seed == 5
    view.continueRequested.connect(shots.append)
    view.buttons["continue"].click()
    await eventually(lambda: shots[-1].mode is Mode.IMAGE_TO_VIDEO)
    assert Path(shots[-1].start_image).exists()

    view.export_to(tmp_path / "out", [fox.id])
    await eventually(lambda: len(getattr(view, "exported", [])) == 1)
    view.export_to(tmp_path / "out", [fox.id])
    await eventually(lambda: len(list((tmp_path / "out").glob("*.mp4"))) == 2)

    view.buttons["star"].click()
    assert engine.library.list(LibraryFilter(starred=True))[0].job_id == fox.id
    # the view follows the engine's event, with no reload by hand
    await eventually(lambda: view.current_entry() is not None and view.current_entry().starred)
    assert view.buttons["star"].text() == "Unstar"
    view.search.clear()
    view.starred.setChecked(True)
    await eventually(lambda: model.rowCount() == 1)
    view.starred.setChecked(False)
    await eventually(lambda: model.rowCount() == 2)
    assert view.select_job(owl.id)
    view.buttons["delete"].click()  # undoable, so nothing is asked
    await eventually(lambda: model.rowCount() == 1)
    assert engine.library.get(owl.id) is None
