"""The compose workspace: panels that can be hidden but never lost, a window inside the screen,
the prompt first with the focus, files dropped or pasted anywhere in compose going by kind, each
mode in its own words, token completion, the theme and its contrast."""

from __future__ import annotations

from pathlib import Path

from dnd import drop_files
from engine_fixtures import eventually
from media_factory import make_audio, make_image, make_video
from PySide6.QtCore import QMimeData, QRect, Qt, QUrl
from PySide6.QtGui import QGuiApplication, QImage, QPalette
from PySide6.QtWidgets import QApplication

from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.domain.media_info import MediaKind
from seedance_desktop.domain.shot import Shot
from seedance_desktop.engine.states import JobState
from seedance_desktop.paths import AppPaths
from seedance_desktop.ui.compose.panel import ComposePanel
from seedance_desktop.ui.compose.prompt_editor import PromptEditor
from seedance_desktop.ui.main_window import MainWindow
from seedance_desktop.ui.tasks import TaskRunner
from seedance_desktop.ui.theme import DARK, LIGHT, Appearance, contrast, effective_dark, theme


def built_window(qtbot, paths: AppPaths) -> MainWindow:
    window = MainWindow(paths)
    qtbot.addWidget(window)
    window.show()
    window.build_panels()
    return window


def compose_panel(qtbot, paths: AppPaths) -> ComposePanel:
    panel = ComposePanel(paths, TaskRunner())
    qtbot.addWidget(panel)
    panel.show()
    return panel


# The window ----------------------------------------------------------------------------------


def test_the_window_opens_inside_the_screen(qtbot, app_paths: AppPaths) -> None:
    window = built_window(qtbot, app_paths)
    area = window.screen().availableGeometry()
    assert area.contains(window.frameGeometry())
    # a geometry saved on a bigger screen, half off this one, comes back inside it
    window.setGeometry(QRect(area.right() - 100, area.bottom() - 50, 4000, 3000))
    window.close()
    again = built_window(qtbot, app_paths)
    assert area.contains(again.frameGeometry()), (again.frameGeometry(), area)


def test_hidden_panels_come_back_from_the_view_menu(qtbot, app_paths: AppPaths) -> None:
    window = built_window(qtbot, app_paths)
    view = {a.text(): a for a in window.view_menu.actions()}
    for splitter in (window.splitter, window.centre):
        assert not splitter.childrenCollapsible()  # a dragged handle cannot lose a panel
    queue = view["Queue panel"]
    assert queue.shortcut().toString() == "Ctrl+Shift+Q"
    queue.trigger()
    assert window.queue.isHidden() and not queue.isChecked()
    view["Player"].trigger()
    view["Library"].trigger()
    assert not window.centre.isHidden()  # the sequence strip is still there
    view["Sequence strip"].trigger()
    assert window.centre.isHidden()  # nothing left in the middle: no empty column
    view["Compose panel"].trigger()  # the last one shown stays
    assert window.compose.isVisible() and view["Compose panel"].isChecked()
    window.close()  # hidden panels are remembered ...
    again = built_window(qtbot, app_paths)
    assert again.queue.isHidden() and again.player.isHidden()
    again_view = {a.text(): a for a in again.view_menu.actions()}
    again_view["Queue panel"].trigger()  # ... and come back from the View menu
    assert again.queue.isVisible() and again.splitter.sizes()[2] > 0
    again_view["Reset layout"].trigger()
    panels = ("compose", "player", "library", "sequence", "queue")
    assert all(again.panel(n).isVisible() for n in panels)
    assert all(size > 0 for size in again.splitter.sizes() + again.centre.sizes())


def test_a_collapsed_layout_from_an_older_version_is_undone(qtbot, app_paths: AppPaths) -> None:
    window = built_window(qtbot, app_paths)
    window.splitter.setChildrenCollapsible(True)
    window.splitter.setSizes([600, 800, 0])  # the queue dragged shut, as older versions allowed
    window.close()
    again = built_window(qtbot, app_paths)
    assert again.splitter.sizes()[2] > 0 and again.queue.isVisible()


def test_the_prompt_has_the_focus_at_start(qtbot, app_paths: AppPaths) -> None:
    window = built_window(qtbot, app_paths)
    assert window.focusWidget() is window.compose.current_tab().prompt
    window.compose.tabs.setCurrentIndex(2)
    assert window.focusWidget() is window.compose.current_tab().prompt


async def test_queued_is_said_once(qtbot, simulator, app_paths: AppPaths) -> None:
    from test_ui_main_window import open_window

    async with open_window(qtbot, simulator, app_paths) as (window, runtime):
        said: list[str] = []
        window.statusBar().messageChanged.connect(said.append)
        tab = window.compose.current_tab()
        qtbot.keyClicks(tab.prompt, "A paper boat on a rainy street")
        tab.parameters.set_values(resolution="480p", duration="4")
        await eventually(lambda: tab.queue_button.isEnabled())
        qtbot.keyClick(tab.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        await eventually(lambda: window.compose.status.text() == "Queued 1 job.")
        assert not any("Queued" in message for message in said)  # said beside Queue, once
        (job,) = runtime.engine.jobs.all()
        await eventually(lambda: runtime.engine.jobs.get(job.id).state is JobState.DONE, timeout=60)


# Prompt first, compact references, each mode's own words --------------------------------------


async def test_prompt_first_and_compact_reference_rows(
    qtbot, app_paths: AppPaths, tmp_path
) -> None:
    panel = compose_panel(qtbot, app_paths)
    tab = panel.mode_tabs[Mode.REFERENCE_TO_VIDEO]
    panel.tabs.setCurrentWidget(tab)
    body = tab.prompt.parentWidget()
    assert tab.prompt.mapTo(body, tab.prompt.rect().topLeft()).y() < tab.images.y()
    assert [s.isVisible() for s in tab.images.slots] == [True] + [False] * 8  # one "add" tile
    files = [str(make_image(tmp_path / f"i{n}.png", 320, 240)) for n in range(3)]
    tab.images.add_references(files)
    assert [s.isVisible() for s in tab.images.slots] == [True] * 4 + [False] * 5
    assert "3/9" in tab.images.header.text()
    await eventually(lambda: tab.images.pending() == 0)


async def test_tiles_show_pictures_sizes_durations_and_whole_problems(
    qtbot, app_paths: AppPaths, tmp_path
) -> None:
    panel = compose_panel(qtbot, app_paths)
    tab = panel.mode_tabs[Mode.REFERENCE_TO_VIDEO]
    panel.tabs.setCurrentWidget(tab)
    clip = make_video(tmp_path / "moves.mp4", 640, 480, seconds=1.0)  # too small for fal
    song = make_audio(tmp_path / "song.wav", seconds=1.5)
    tab.videos.add_references([str(clip)])
    tab.audios.add_references([str(song)])
    await eventually(lambda: tab.videos.pending() == 0 and tab.audios.pending() == 0)
    tab.refresh()
    video, audio = tab.videos.slots[0], tab.audios.slots[0]
    assert "1.0 s" in video.details.text() and "640×480" in video.details.text()
    assert "1.5 s" in audio.details.text()
    await eventually(lambda: not video.thumb.pixmap().isNull())
    await eventually(lambda: not audio.thumb.pixmap().isNull())  # the waveform
    assert video.problems.wordWrap() and video.problems.isVisible()
    assert "pixels" in video.problems.text()  # the message itself, not only in a tooltip
    messages = [tab.problems.item(i).text() for i in range(tab.problems.count())]
    assert messages and all(not m.startswith(("⛔", "⚠")) for m in messages)  # drawn icons
    assert tab.problems.wordWrap()


def test_image_to_video_speaks_of_start_and_end_frames(qtbot, app_paths: AppPaths) -> None:
    panel = compose_panel(qtbot, app_paths)
    tab = panel.mode_tabs[Mode.IMAGE_TO_VIDEO]
    panel.tabs.setCurrentWidget(tab)
    assert tab.start.slots[0].token.text() == "Start frame"
    assert tab.end.slots[0].token.text() == "End frame"
    labels = [s.token.text() for g in tab.groups.values() for s in g.slots]
    assert not any("[Image" in text for text in labels)
    for mode, other in panel.mode_tabs.items():
        placeholder = other.prompt.placeholderText()
        assert ("[Video1]" in placeholder) is (mode is Mode.REFERENCE_TO_VIDEO), mode
    qtbot.keyClicks(tab.prompt, "Push in [")
    assert not tab.prompt.completer.popup().isVisible()  # no tokens to offer in this mode


# Drop and paste anywhere -----------------------------------------------------------------------


async def test_drops_anywhere_go_by_kind(qtbot, app_paths: AppPaths, tmp_path) -> None:
    hero = make_image(tmp_path / "hero.png", 640, 480)
    clip = make_video(tmp_path / "moves.mp4", 832, 832, seconds=2.0)
    song = make_audio(tmp_path / "song.wav", seconds=1.0)
    panel = compose_panel(qtbot, app_paths)
    reference = panel.mode_tabs[Mode.REFERENCE_TO_VIDEO]
    panel.tabs.setCurrentWidget(reference)
    drop_files(reference.parameters, [song, clip, hero])  # not on a slot: anywhere in compose
    assert reference.images.references() == [str(hero)]
    assert reference.videos.references() == [str(clip)]
    assert reference.audios.references() == [str(song)]
    drop_files(reference.images, [clip])  # a video on the image row goes to the videos
    assert reference.videos.references() == [str(clip), str(clip)]

    text = panel.mode_tabs[Mode.TEXT_TO_VIDEO]
    panel.tabs.setCurrentWidget(text)
    drop_files(text.prompt, [clip])  # dropped on the prompt: a file, not its path as text
    assert text.prompt.toPlainText() == ""
    assert panel.offer.isVisible() and "Reference to video" in panel.offer_button.text()
    reference.videos.clear()
    qtbot.mouseClick(panel.offer_button, Qt.MouseButton.LeftButton)
    assert panel.current_tab() is reference and reference.videos.references() == [str(clip)]

    image = panel.mode_tabs[Mode.IMAGE_TO_VIDEO]
    panel.tabs.setCurrentWidget(image)
    other = make_image(tmp_path / "dusk.png", 640, 480)
    drop_files(image, [hero, other])
    assert image.model.shot.start_image == str(hero) and image.model.shot.end_image == str(other)
    await eventually(lambda: all(g.pending() == 0 for t in panel.mode_tabs.values()
                                 for g in t.groups.values()))  # fmt: skip


async def test_paste_works_from_anywhere_in_compose(qtbot, app_paths: AppPaths, tmp_path) -> None:
    panel = compose_panel(qtbot, app_paths)
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow)
    tab = panel.mode_tabs[Mode.REFERENCE_TO_VIDEO]
    panel.tabs.setCurrentWidget(tab)
    picture = QImage(320, 200, QImage.Format.Format_RGB32)
    picture.fill(Qt.GlobalColor.darkCyan)
    QGuiApplication.clipboard().setImage(picture)
    tab.parameters.resolution.setFocus()  # a settings control, not a slot
    qtbot.keyClick(tab.parameters.resolution, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    (pasted,) = tab.images.references()
    assert Path(pasted).parent == app_paths.pasted and Path(pasted).suffix == ".png"  # app data

    clip = make_video(tmp_path / "moves.mp4", 832, 832, seconds=2.0)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(clip))])
    QGuiApplication.clipboard().setMimeData(mime)
    tab.prompt.setFocus()
    qtbot.keyClicks(tab.prompt, "The dancer ")
    qtbot.keyClick(tab.prompt, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert tab.videos.references() == [str(clip)]
    assert tab.prompt.toPlainText() == "The dancer "  # files go to slots, not into the text
    QGuiApplication.clipboard().setText("a quiet street")
    qtbot.keyClick(tab.prompt, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert tab.prompt.toPlainText() == "The dancer a quiet street"  # text pastes as text
    await eventually(lambda: tab.images.pending() == 0 and tab.videos.pending() == 0)


async def test_a_moved_file_says_so_and_can_be_located(
    qtbot, app_paths: AppPaths, tmp_path
) -> None:
    (tmp_path / "now").mkdir()
    moved = make_image(tmp_path / "now" / "hero.png", 320, 240)
    panel = compose_panel(qtbot, app_paths)
    tab = panel.mode_tabs[Mode.REFERENCE_TO_VIDEO]
    tab.model.load(
        Shot(Mode.REFERENCE_TO_VIDEO, prompt="[Image1] waves", images=("/gone/hero.png",))
    )
    await eventually(lambda: tab.images.pending() == 0)
    tab.refresh()
    slot = tab.images.slots[0]
    assert "not found" in slot.problems.text() and slot.locate_button.isVisibleTo(tab)
    tab.images.relocate(0, str(moved))
    await eventually(lambda: tab.images.pending() == 0)
    tab.refresh()
    assert tab.model.shot.images == (str(moved),) and tab.model.prompt == "[Image1] waves"
    assert not slot.locate_button.isVisibleTo(tab) and "not found" not in slot.problems.text()


def test_a_focused_tile_shows_a_ring_in_the_accent_colour(qtbot, app_paths: AppPaths) -> None:
    from PySide6.QtGui import QColor

    theme().apply(Appearance.DARK)
    panel = compose_panel(qtbot, app_paths)
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow)
    tab = panel.mode_tabs[Mode.REFERENCE_TO_VIDEO]
    panel.tabs.setCurrentWidget(tab)
    tile = tab.images.slots[0]

    def left_edge() -> QColor:
        picture = tile.grab().toImage()
        return picture.pixelColor(1, picture.height() // 2)

    tab.prompt.setFocus()
    assert left_edge() != QColor(DARK.accent)
    tile.setFocus()
    qtbot.waitUntil(tile.hasFocus)
    assert left_edge() == QColor(DARK.accent)


def test_tiles_have_a_focus_ring_and_an_action_row(qtbot, app_paths: AppPaths) -> None:
    from PySide6.QtWidgets import QPushButton

    theme().apply(Appearance.DARK)
    panel = compose_panel(qtbot, app_paths)
    slot = panel.mode_tabs[Mode.REFERENCE_TO_VIDEO].images.slots[0]
    assert slot.focusPolicy() & Qt.FocusPolicy.TabFocus and slot.objectName() == "tile"
    ring = f"QFrame#tile:focus {{ border: 2px solid {DARK.accent}; }}"
    assert ring in QApplication.instance().styleSheet()
    fit = QPushButton("Fit…")
    slot.add_action(fit)
    assert slot.actions_row.indexOf(fit) >= 0


# Token completion ----------------------------------------------------------------------------


def test_completion_takes_the_first_offer_and_closes_on_a_whole_token(qtbot) -> None:
    editor = PromptEditor()
    qtbot.addWidget(editor)
    editor.show()
    editor.set_filled({MediaKind.IMAGE: 2, MediaKind.VIDEO: 1})
    qtbot.keyClicks(editor, "See [")
    assert editor.completer.popup().isVisible()
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # nothing chosen: the first offer, not a bare "["
    assert editor.toPlainText() == "See [Image1]"
    qtbot.keyClicks(editor, " and @Vi")
    assert editor.completer.popup().isVisible()
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert editor.toPlainText() == "See [Image1] and [Video1]"
    qtbot.keyClicks(editor, " then [Image2")
    assert editor.completer.popup().isVisible()
    qtbot.keyClicks(editor, "]")
    assert not editor.completer.popup().isVisible()  # a whole token typed: nothing to offer
    assert editor.toPlainText() == "See [Image1] and [Video1] then [Image2]"


# Theme ---------------------------------------------------------------------------------------


def test_dark_by_default_and_light_from_settings(qtbot, app_paths: AppPaths) -> None:
    window = built_window(qtbot, app_paths)
    background = QApplication.instance().palette().color(QPalette.ColorRole.Window)
    assert background.lightnessF() < 0.2
    window.set_appearance(Appearance.LIGHT)
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window).lightnessF() > 0.8
    window.close()
    again = built_window(qtbot, app_paths)  # the choice is kept
    assert again.theme.choice is Appearance.LIGHT
    again.set_appearance(Appearance.SYSTEM)
    assert effective_dark(Appearance.SYSTEM, Qt.ColorScheme.Unknown)  # no statement: dark
    assert not effective_dark(Appearance.SYSTEM, Qt.ColorScheme.Light)
    assert effective_dark(Appearance.SYSTEM, Qt.ColorScheme.Dark)


def test_text_contrast_is_at_least_4_5_to_1_in_both_themes() -> None:
    for colours in (DARK, LIGHT):
        texts = (colours.text, colours.muted_text, colours.error_text, colours.warning_text,
                 colours.reference_tag)  # fmt: skip
        for text in texts:
            for background in (colours.window, colours.base, colours.alternate, colours.raised):
                ratio = contrast(text, background)
                assert ratio >= 4.5, (colours.dark, text, background, round(ratio, 2))
        assert contrast(colours.accent_text, colours.accent) >= 4.5
        assert contrast(colours.text, colours.raised) >= 4.5
