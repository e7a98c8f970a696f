"""The library with many results: stacks of variations, multi-select and bulk actions, the star
badge, hover-scrub, sorting and dragging results out — on the real engine and simulator."""

from __future__ import annotations

from pathlib import Path

from engine_fixtures import eventually, quick_shot
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest

from seedance_desktop.engine.interface import EngineInterface, LibrarySort
from seedance_desktop.engine.states import JobState
from seedance_desktop.ui.bridge import EngineBridge
from seedance_desktop.ui.library_view import MIN_DETAILS_WIDTH, LibraryView
from seedance_desktop.ui.tasks import TaskRunner


async def library_with_variations(qtbot, ui_engine) -> tuple[LibraryView, list]:
    engine = ui_engine.engine
    takes = await engine.enqueue(quick_shot("Three takes of a heron", seed=40), variations=3)
    (single,) = await engine.enqueue(quick_shot("A single fox", duration="6"))
    for job in [*takes, single]:
        await ui_engine.wait_for(job.id, {JobState.DONE})
    view = LibraryView(EngineBridge(engine.events), TaskRunner())
    qtbot.addWidget(view)
    view.resize(1366 - 360, 520)  # the library's share of a 1366 px laptop screen
    view.show()
    view.attach(EngineInterface(engine))
    return view, [*takes, single]


def click(view: LibraryView, row: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    rect = view.grid.visualRect(view.model.index(row))
    QTest.mouseClick(view.grid.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


async def test_variations_stack_and_open_labelled_by_seed(qtbot, ui_engine) -> None:
    view, _jobs = await library_with_variations(qtbot, ui_engine)
    model = view.model
    assert model.rowCount() == 2  # the three takes are one stack
    stack_row = next(r for r in range(2) if model.entry(r).stack_size == 3)
    assert model.index(stack_row).data(Qt.ItemDataRole.UserRole + 3).startswith("3 variations")
    view.grid.setCurrentIndex(model.index(stack_row))
    view.grid.activated.emit(model.index(stack_row))  # Enter or a double-click opens it
    assert view.stack_bar.isVisible() and model.rowCount() == 3
    subtitles = sorted(model.index(r).data(Qt.ItemDataRole.UserRole + 3) for r in range(3))
    assert [s.split(" · ")[0] for s in subtitles] == ["#1 of 3", "#2 of 3", "#3 of 3"]
    assert all(" · seed " in s for s in subtitles)
    view.stack_back.click()
    assert model.rowCount() == 2
    view.stacks.setChecked(False)
    assert model.rowCount() == 4


async def test_multi_select_exports_stars_and_deletes_with_undo(
    qtbot, ui_engine, tmp_path: Path, private_trash: Path
) -> None:
    view, _jobs = await library_with_variations(qtbot, ui_engine)
    model = view.model
    view.stacks.setChecked(False)
    assert model.rowCount() == 4
    click(view, 0)
    click(view, 2, Qt.KeyboardModifier.ControlModifier)
    assert len(view.selected_entries()) == 2
    assert view.buttons["export"].text() == "Export 2…" and view.buttons["compare"].isEnabled()
    click(view, 0)
    click(view, 2, Qt.KeyboardModifier.ShiftModifier)
    assert [e.job_id for e in view.selected_entries()] == [model.entry(r).job_id for r in range(3)]
    # a rubber band from the empty space after the last result selects every result
    viewport = view.grid.viewport()
    corner = QPoint(viewport.width() - 4, viewport.height() - 4)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, corner)
    QTest.mouseMove(viewport, QPoint(2, 2))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPoint(2, 2))  # fmt: skip
    assert len(view.selected_entries()) == 4

    view.buttons["export"].click()
    view._dialog.fileSelected.emit(str(tmp_path / "out"))
    view._dialog.close()
    await eventually(lambda: len(view.exported) == 4)
    assert len(list((tmp_path / "out").glob("*.mp4"))) == 4

    view.buttons["star"].click()
    await eventually(lambda: all(model.entry(r).starred for r in range(4)))
    assert len(view.selected_entries()) == 4  # the selection outlives the reload
    assert view.buttons["star"].text() == "Unstar 4"
    picture = view.grid.viewport().grab().toImage()
    badge = view.delegate.thumb_rect(view.grid.visualRect(model.index(0))).topLeft()
    star = picture.pixelColor(badge + QPoint(15, 15))
    assert _near(star, QColor(255, 196, 0)) or _yellow_in(picture, badge), star.name()

    paths = [model.entry(r).path for r in range(4)]
    view.buttons["delete"].click()
    await eventually(lambda: model.rowCount() == 0)
    assert view.undo_button.isVisible() and all(p.exists() for p in paths)
    view.undo_button.click()
    await eventually(lambda: model.rowCount() == 4)
    view.grid.selectAll()
    view.delete_selected()
    await eventually(lambda: model.rowCount() == 0)
    await view.engine.finish_deletes()
    assert not any(p.exists() for p in paths)
    assert sorted(p.name for p in private_trash.iterdir()) == sorted(p.name for p in paths)


async def test_sort_drag_out_stable_grid_and_hover_scrub(qtbot, ui_engine) -> None:
    view, jobs = await library_with_variations(qtbot, ui_engine)
    model = view.model
    view.stacks.setChecked(False)
    view.sort.setCurrentIndex(view.sort.findData(LibrarySort.DURATION))
    assert model.entry(0).job_id == jobs[-1].id  # the 6 s fox is the longest
    assert "Longest" in view.sort.currentText()

    data = model.mimeData([model.index(0), model.index(1)])
    assert [u.toLocalFile() for u in data.urls()] == [str(model.entry(r).path) for r in (0, 1)]
    assert all(u.isLocalFile() for u in data.urls())

    width, details = view.grid.width(), view.details_area.width()
    assert details >= MIN_DETAILS_WIDTH
    for row in range(4):  # details of every length: the grid keeps its columns
        click(view, row)
        assert view.grid.width() == width and view.details_area.width() == details

    rect = view.grid.visualRect(model.index(1))
    thumb = view.delegate.thumb_rect(rect)
    view.hover_at(thumb.left() + 2, thumb.center().y())
    await eventually(lambda: model.filmstrip(1) is not None, timeout=20)
    assert view.engine.filmstrip_path(model.entry(1)).exists()  # made once, kept
    early = view.grid.viewport().grab(thumb).toImage()
    view.hover_at(thumb.right() - 2, thumb.center().y())
    late = view.grid.viewport().grab(thumb).toImage()
    assert early != late  # another frame of the shot under the pointer
    view.hover_at(None, None)


def _near(a: QColor, b: QColor) -> bool:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) < 60


def _yellow_in(picture, corner: QPoint) -> bool:
    return any(
        _near(picture.pixelColor(corner + QPoint(x, y)), QColor(255, 196, 0))
        for x in range(4, 26)
        for y in range(4, 26)
    )
