"""The sequence strip against the real engine and simulator: drops, edits, Continue, export."""

from __future__ import annotations

from engine_fixtures import eventually, quick_shot
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.engine.interface import EngineInterface, FollowUpKind
from seedance_desktop.engine.states import JobState
from seedance_desktop.ui.bridge import EngineBridge
from seedance_desktop.ui.player import PlayerWidget
from seedance_desktop.ui.result_drag import result_mime
from seedance_desktop.ui.sequence_strip import SequenceStrip
from seedance_desktop.ui.tasks import TaskRunner


def drop_results(strip: SequenceStrip, job_ids: list[int]) -> None:
    widget = strip.shots
    point = QPointF(widget.viewport().rect().center())
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    mime = result_mime(job_ids)
    enter = QDragEnterEvent(point.toPoint(), Qt.DropAction.CopyAction, mime, buttons, keys)
    QApplication.sendEvent(widget.viewport(), enter)
    drop = QDropEvent(point, Qt.DropAction.CopyAction, mime, buttons, keys)
    QApplication.sendEvent(widget.viewport(), drop)


async def made(ui_engine, prompt: str) -> int:
    (job,) = await ui_engine.engine.enqueue(quick_shot(prompt))
    await ui_engine.wait_for(job.id, {JobState.DONE})
    return job.id


async def test_results_dropped_on_the_strip_become_shots(qtbot, ui_engine, tmp_path) -> None:
    a, b = await made(ui_engine, "A bell rings"), await made(ui_engine, "Birds take off")
    player = PlayerWidget()
    qtbot.addWidget(player)
    strip = SequenceStrip(EngineBridge(ui_engine.engine.events), TaskRunner(), player)
    qtbot.addWidget(strip)
    strip.resize(900, 170)
    api = EngineInterface(ui_engine.engine)
    strip.attach(api)
    assert strip.shots.count() == 0 and not strip.play_button.isEnabled()

    drop_results(strip, [a])  # no sequence yet: one is made for the drop
    await eventually(lambda: strip.shots.count() == 1)
    assert strip.picker.currentText() == "Scene 1"
    drop_results(strip, [b])
    await eventually(lambda: strip.shots.count() == 2)
    assert strip.summary.text() == "2 shots · 00:00:08:00"

    before = [s.job_id for s in api.sequences()[0].shots]
    assert sorted(before) == sorted([a, b])  # where it landed depends on the drop point
    strip.shots.setCurrentRow(0)
    strip._nudge(1)  # Ctrl+→
    await eventually(lambda: [s.job_id for s in api.sequences()[0].shots] == before[::-1])
    shot = api.sequences()[0].shots[0]
    api.trim_shot(shot.id, 1.0, 3.0)
    await eventually(lambda: strip.summary.text() == "2 shots · 00:00:06:00")

    composed: list[object] = []
    strip.composeRequested.connect(composed.append)
    strip.follow_up(shot, FollowUpKind.CONTINUE)
    await eventually(lambda: len(composed) == 1)
    assert composed[0].mode is Mode.IMAGE_TO_VIDEO

    strip.play_from(4.0)  # the whole scene, from 4 s into its timeline
    await eventually(lambda: player.source() is not None, timeout=60)
    assert player.source().exists() and player.timing is not None
    assert player.frame == player.timing.frame_at_ms(4000) and player.playing
    player.pause()

    strip.export_to(tmp_path / "scene.mp4")
    await eventually(lambda: (tmp_path / "scene.mp4").exists(), timeout=60)
    await eventually(lambda: not strip.progress.isVisible())

    strip.shots.setCurrentRow(1)
    strip.remove_selected()  # Delete
    await eventually(lambda: strip.shots.count() == 1)
    await strip.tasks.cancel_all()
