"""The whole window against the real engine and simulator: the main path end to end, by mouse
and drop and by keyboard alone, and a clean close with jobs in flight that resume next start."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from dnd import drop_files
from engine_fixtures import eventually, fal_config_for
from media_factory import make_image, make_video
from PySide6.QtCore import Qt

from seedance_desktop.backend import Backend
from seedance_desktop.engine.states import JobState
from seedance_desktop.paths import AppPaths
from seedance_desktop.runtime import Runtime, running_engine
from seedance_desktop.ui.main_window import MainWindow


@asynccontextmanager
async def open_window(
    qtbot, simulator, paths: AppPaths
) -> AsyncIterator[tuple[MainWindow, Runtime]]:
    window = MainWindow(paths)
    qtbot.addWidget(window)
    window.show()
    backend = Backend(fal_config_for(simulator.url), "custom")
    async with running_engine(paths, backend=backend, events=window.events) as runtime:
        window.attach(runtime)
        try:
            yield window, runtime
        finally:
            await window.detach()
    window.close()


async def test_drop_queue_wait_and_play(qtbot, simulator, app_paths: AppPaths, tmp_path) -> None:
    hero = make_image(tmp_path / "hero.png", 1024, 768)
    moves = make_video(tmp_path / "moves.mp4", 832, 832, seconds=2.0)
    async with open_window(qtbot, simulator, app_paths) as (window, runtime):
        compose = window.compose
        compose.tabs.setCurrentIndex(2)
        tab = compose.tabs.currentWidget()
        drop_files(tab.images, [hero])
        drop_files(tab.videos, [moves])
        await eventually(lambda: tab.images.pending() == 0 and tab.videos.pending() == 0)
        assert tab.images.references() == [str(hero)]
        tab.prompt.setPlainText("The dancer from [Image1] moves like [Video1]")
        tab.parameters.set_values(resolution="480p", duration="4")
        await eventually(lambda: tab.queue_button.isEnabled())
        qtbot.mouseClick(tab.queue_button, Qt.MouseButton.LeftButton)
        engine = runtime.engine
        await eventually(lambda: len(engine.jobs.all()) == 1)
        (job,) = engine.jobs.all()
        await eventually(lambda: engine.jobs.get(job.id).state is JobState.DONE, timeout=60)
        window.show_result(job.id)
        await eventually(lambda: window.player.has_frame(), timeout=20)
        assert window.player.source() == Path(engine.jobs.get(job.id).result_path)


async def test_the_main_path_by_keyboard_alone(qtbot, simulator, app_paths: AppPaths) -> None:
    async with open_window(qtbot, simulator, app_paths) as (window, runtime):
        qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
        tab = window.compose.tabs.currentWidget()
        tab.prompt.setFocus()
        qtbot.keyClicks(tab.prompt, "A paper boat on a rainy street")
        tab.parameters.set_values(resolution="480p", duration="4")
        await eventually(lambda: tab.queue_button.isEnabled())
        qtbot.keyClick(tab.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        engine = runtime.engine
        await eventually(lambda: len(engine.jobs.all()) == 1)
        (job,) = engine.jobs.all()
        await eventually(lambda: engine.jobs.get(job.id).state is JobState.DONE, timeout=60)


async def test_closing_with_jobs_in_flight_and_resuming(
    qtbot, simulator, app_paths: AppPaths
) -> None:
    from engine_fixtures import quick_shot

    async with open_window(qtbot, simulator, app_paths) as (_window, runtime):
        (job,) = await runtime.engine.enqueue(quick_shot("a long take #sim:slow"))
        await eventually(lambda: runtime.engine.jobs.get(job.id).state is JobState.IN_PROGRESS)
    # closed with the job running at "fal"; the next start picks it up
    async with open_window(qtbot, simulator, app_paths) as (_window, runtime):
        engine = runtime.engine
        await eventually(lambda: engine.jobs.get(job.id).state is JobState.DONE, timeout=60)
        submits = [e for e in simulator.log if e.method == "POST" and e.model_id]
        assert len(submits) == 1


async def test_reuse_and_continue_keep_unsaved_work(qtbot, simulator, app_paths: AppPaths) -> None:
    """ "Reuse settings" and "Continue from last frame" open in the tab as a fresh draft; the work
    they replaced comes back with Undo load (and with Ctrl+Z in the prompt)."""
    from engine_fixtures import quick_shot

    from seedance_desktop.domain.endpoints import Mode

    async with open_window(qtbot, simulator, app_paths) as (window, runtime):
        engine = runtime.engine
        (job,) = await engine.enqueue(quick_shot("A red fox in snow", seed=5))
        await eventually(lambda: engine.jobs.get(job.id).state is JobState.DONE, timeout=60)
        compose, library = window.compose, window.library
        await eventually(lambda: library.model.rowCount() == 1)
        library.grid.setCurrentIndex(library.model.index(0))
        text_tab = compose.mode_tabs[Mode.TEXT_TO_VIDEO]
        image_tab = compose.mode_tabs[Mode.IMAGE_TO_VIDEO]
        compose.tabs.setCurrentWidget(text_tab)
        qtbot.keyClicks(text_tab.prompt, "my unsaved idea")
        compose.tabs.setCurrentWidget(image_tab)
        qtbot.keyClicks(image_tab.prompt, "a second idea")

        library.buttons["reuse"].click()
        assert compose.current_tab() is text_tab
        assert text_tab.prompt.toPlainText() == "A red fox in snow"
        assert compose.undo_button.isVisible()
        library.buttons["continue"].click()
        await eventually(lambda: compose.current_tab() is image_tab)
        assert image_tab.model.shot.start_image and image_tab.prompt.toPlainText() == ""

        qtbot.mouseClick(compose.undo_button, Qt.MouseButton.LeftButton)
        assert image_tab.prompt.toPlainText() == "a second idea"
        assert image_tab.model.shot.start_image is None
        compose.tabs.setCurrentWidget(text_tab)
        text_tab.prompt.setFocus()
        qtbot.keyClick(text_tab.prompt, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert text_tab.prompt.toPlainText() == "my unsaved idea"
