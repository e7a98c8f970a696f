"""Judging shots in the whole window: the player's keys wherever focus is (but not while
typing), the queue's double-click selecting the result in the library, the spend line in the
status bar, and Compare keeping two results on one clock."""

from __future__ import annotations

from engine_fixtures import eventually, quick_shot
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from test_ui_main_window import open_window

from seedance_desktop.engine.interface import EngineInterface
from seedance_desktop.engine.states import JobState
from seedance_desktop.paths import AppPaths
from seedance_desktop.ui.compare import CompareWindow
from seedance_desktop.ui.queue_model import Column
from seedance_desktop.ui.tasks import TaskRunner


async def finished(runtime, shots) -> list:
    engine = runtime.engine
    jobs = []
    for shot in shots:
        jobs += await engine.enqueue(shot)
    for job in jobs:
        await eventually(lambda j=job: engine.jobs.get(j.id).state is JobState.DONE, timeout=60)
    return jobs


async def test_space_works_after_a_library_click_but_not_while_typing(
    qtbot, simulator, app_paths: AppPaths
) -> None:
    async with open_window(qtbot, simulator, app_paths) as (window, runtime):
        (_job,) = await finished(runtime, [quick_shot("A heron on a lake")])
        library, player = window.library, window.player
        await eventually(lambda: library.model.rowCount() == 1)
        window.activateWindow()
        await eventually(window.isActiveWindow)
        rect = library.grid.visualRect(library.model.index(0))
        QTest.mouseClick(library.grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert player.source() == library.current_entry().path
        assert player.time.text().endswith("/ 00:00:04:00")  # the length, before any play
        assert library.grid.hasFocus()
        QTest.keyClick(library.grid, Qt.Key.Key_Space)
        assert player.playing
        QTest.keyClick(library.grid, Qt.Key.Key_Space)
        assert not player.playing
        QTest.keyClick(library.grid, Qt.Key.Key_Period)  # a frame step, from the library
        assert player.frame >= 1
        before = player.frame
        QTest.keyClick(library.grid, Qt.Key.Key_Right)  # arrows move through the results there
        assert player.frame == before
        library.search.setFocus()
        QTest.keyClicks(library.search, "k l. ")  # typing: the text's keys, not the player's
        assert library.search.text() == "k l. " and not player.playing and player.frame == before
        prompt = window.compose.tabs.currentWidget().prompt
        prompt.setFocus()
        QTest.keyClick(prompt, Qt.Key.Key_Space)
        assert not player.playing and prompt.toPlainText().endswith(" ")


async def test_a_double_click_in_the_queue_selects_and_plays_the_result(
    qtbot, simulator, app_paths: AppPaths
) -> None:
    async with open_window(qtbot, simulator, app_paths) as (window, runtime):
        fox, owl = await finished(runtime, [quick_shot("A red fox"), quick_shot("An owl")])
        library, queue = window.library, window.queue
        await eventually(lambda: library.model.rowCount() == 2)
        library.select_job(fox.id)
        row = queue.model.row_of(owl.id)
        await eventually(lambda: queue.model.job_at(row).state is JobState.DONE)
        rect = queue.table.visualRect(queue.model.index(row, Column.SHOT))
        # a double-click is a click, then a second press within the interval
        QTest.mouseClick(queue.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        QTest.mouseDClick(queue.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert library.current_entry().job_id == owl.id
        assert [e.job_id for e in library.selected_entries()] == [owl.id]
        assert "An owl" in library.details.text()
        assert window.player.source() == library.current_entry().path and window.player.playing
        assert queue.table.iconSize().width() >= 64  # a thumbnail that says which take


async def test_the_spend_line_stays_when_the_queue_is_hidden(
    qtbot, simulator, app_paths: AppPaths
) -> None:
    async with open_window(qtbot, simulator, app_paths) as (window, _runtime):
        await eventually(lambda: window.spend_line.text() != "")
        assert window.spend_line.parent() is window.statusBar()
        assert "today" in window.spend_line.text().lower() or "$" in window.spend_line.text()
        window.set_panel_visible("queue", False)  # View → Queue, unchecked
        assert not window.queue.isVisible()
        assert window.spend_line.isVisible()


async def test_compare_plays_two_results_on_one_clock(qtbot, ui_engine, private_trash) -> None:
    engine = ui_engine.engine
    takes = await engine.enqueue(quick_shot("Two takes of a kite", seed=3), variations=2)
    for job in takes:
        await ui_engine.wait_for(job.id, {JobState.DONE})
    api = EngineInterface(engine)
    left, right = (api.library_entry(job.id) for job in takes)
    window = CompareWindow(api, TaskRunner())
    qtbot.addWidget(window)
    window.show()
    discarded: list[list[int]] = []
    window.discardRequested.connect(discarded.append)
    window.compare(left, right)
    assert window.captions[0].text().endswith("#1 of 2 · seed 3")
    await eventually(lambda: window.shown_frame == 0)
    assert not window.surface.left.isNull() and not window.surface.right.isNull()
    window.play()
    await eventually(lambda: window.frame > 12, timeout=20)
    window.pause()
    a, b = window.timecode_texts()
    assert a == b and a.startswith(("00:00:00:", "00:00:01:"))
    await eventually(lambda: window.shown_frame == window.frame)
    QTest.keyClick(window, Qt.Key.Key_Right)
    QTest.keyClick(window, Qt.Key.Key_Right)
    stepped = window.frame
    await eventually(lambda: window.shown_frame == stepped)
    assert window.timecode_texts()[0] == window.timecode_texts()[1]
    assert f"frame {stepped + 1}" in window.timecode_texts()[0]
    window.wipe.setChecked(True)
    assert window.surface.wipe
    whole = window.surface.grab().toImage()
    assert not whole.isNull()
    window.keep(1)
    assert api.library_entry(right.job_id).starred
    assert discarded == [[left.job_id]]


async def test_compare_from_the_library_keeps_one_and_deletes_the_other_undoably(
    qtbot, simulator, app_paths: AppPaths, private_trash
) -> None:
    async with open_window(qtbot, simulator, app_paths) as (window, runtime):
        takes = await runtime.engine.enqueue(quick_shot("Two kites", seed=8), variations=2)
        for job in takes:
            await eventually(
                lambda j=job: runtime.engine.jobs.get(j.id).state is JobState.DONE, timeout=60
            )
        library = window.library
        await eventually(lambda: library.model.rowCount() == 1)  # one stack of two
        library.select_job(library.model.entry(0).job_id)
        library.open_stack(library.model.entry(0))
        assert library.model.rowCount() == 2
        library.grid.selectAll()
        assert library.buttons["compare"].isEnabled()
        library.buttons["compare"].click()
        compare = window.compare_window
        assert compare.isVisible() and {e.job_id for e in compare.entries} == {
            job.id for job in takes
        }
        keeper = compare.entries[0]
        compare.keep_buttons[0].click()
        await eventually(lambda: library.model.rowCount() == 1)
        assert library.model.entry(0).job_id == keeper.job_id and library.model.entry(0).starred
        assert library.undo_button.isVisible()
        library.undo_button.click()
        await eventually(lambda: library.model.rowCount() == 2)
