"""Compose widgets: drop slots, the prompt editor and the compose panel, with real files."""

from __future__ import annotations

import json
from pathlib import Path

from dnd import drop_files
from engine_fixtures import eventually
from media_factory import make_audio, make_image, make_video
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QTextCharFormat

from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.domain.media_info import MediaKind
from seedance_desktop.domain.shot import Shot
from seedance_desktop.engine.states import JobState
from seedance_desktop.paths import AppPaths
from seedance_desktop.ui.compose.panel import ComposePanel
from seedance_desktop.ui.compose.prompt_editor import PromptEditor
from seedance_desktop.ui.compose.slots import SlotGroup
from seedance_desktop.ui.tasks import TaskRunner


def images_group(qtbot, tmp_path: Path) -> tuple[SlotGroup, list[str]]:
    messages: list[str] = []
    group = SlotGroup(MediaKind.IMAGE, 3, "Reference image", TaskRunner(), tmp_path / "thumbs")
    qtbot.addWidget(group)
    group.message.connect(messages.append)
    return group, messages


async def test_a_drop_fills_consecutive_slots_with_thumbnails(qtbot, tmp_path: Path) -> None:
    group, messages = images_group(qtbot, tmp_path)
    files = [make_image(tmp_path / f"i{n}.png", 800, 600) for n in range(4)]
    drop_files(group, files)
    await eventually(lambda: group.pending() == 0)
    assert group.references() == [str(f) for f in files[:3]]
    assert "1 file(s) were left out" in messages[-1]
    slot = group.slots[0]
    assert "800×600" in slot.details.text()
    assert not slot.thumb.pixmap().isNull()
    assert slot.accessibleName() == "Reference image 1: i0.png"
    assert set(group.media()) == {str(f) for f in files[:3]}


async def test_wrong_kinds_and_bad_files_are_explained(qtbot, tmp_path: Path) -> None:
    group, messages = images_group(qtbot, tmp_path)
    clip = make_video(tmp_path / "moves.mp4", 640, 480, seconds=1.0)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    drop_files(group, [clip, broken])
    await eventually(lambda: group.pending() == 0)
    assert group.references() == [str(broken)]
    assert any("moves.mp4 is a video" in m for m in messages)
    assert "damaged" in group.slots[0].problems.text()


async def test_keyboard_reorder_and_delete_report_the_new_numbers(qtbot, tmp_path: Path) -> None:
    group, _ = images_group(qtbot, tmp_path)
    files = [str(make_image(tmp_path / f"i{n}.png", 640, 480)) for n in range(3)]
    group.set_references(files)
    moves: list[dict] = []
    group.reordered.connect(moves.append)
    group.slots[0].setFocus()
    qtbot.keyClick(group.slots[0], Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert group.references() == [files[1], files[0], files[2]]
    assert moves[-1] == {2: 1, 1: 2, 3: 3}
    qtbot.keyClick(group.slots[2], Qt.Key.Key_Delete)
    assert group.references() == [files[1], files[0]]
    assert moves[-1] == {1: 1, 2: 2, 3: None}
    group.clear()
    assert group.references() == []
    await eventually(lambda: group.pending() == 0)


async def test_paste_takes_links_and_picture_data(qtbot, tmp_path: Path) -> None:
    group, _ = images_group(qtbot, tmp_path)
    QGuiApplication.clipboard().setText("https://example.com/hero.png")
    group.paste()
    assert group.references() == ["https://example.com/hero.png"]
    from PySide6.QtGui import QImage

    image = QImage(320, 200, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.darkCyan)
    QGuiApplication.clipboard().setImage(image)
    group.paste()
    await eventually(lambda: group.pending() == 0)
    pasted = Path(group.references()[1])
    assert pasted.exists() and pasted.suffix == ".png"


async def test_prompt_editor_marks_renumbers_and_inserts_tokens(qtbot) -> None:
    editor = PromptEditor()
    qtbot.addWidget(editor)
    editor.setPlainText("[Image1] meets [Image2] and [Video1]")
    editor.set_filled({MediaKind.IMAGE: 1, MediaKind.VIDEO: 1})
    block = editor.document().firstBlock()
    formats = {(r.start, r.length): r.format.underlineStyle() for r in block.layout().formats()}
    assert formats[(15, 8)] == QTextCharFormat.UnderlineStyle.WaveUnderline  # [Image2]: no slot
    assert formats[(0, 8)] != QTextCharFormat.UnderlineStyle.WaveUnderline
    editor.renumber(MediaKind.IMAGE, {1: 2, 2: 1})
    assert editor.toPlainText() == "[Image2] meets [Image1] and [Video1]"
    editor.document().undo()
    assert editor.toPlainText() == "[Image1] meets [Image2] and [Video1]"
    editor.moveCursor(editor.textCursor().MoveOperation.End)
    editor.insert_token("[Audio1]")
    assert editor.toPlainText().endswith("[Video1] [Audio1]")


async def test_typing_a_token_offers_completion(qtbot) -> None:
    editor = PromptEditor()
    qtbot.addWidget(editor)
    editor.show()
    editor.set_filled({MediaKind.IMAGE: 2})
    qtbot.keyClicks(editor, "See [")
    assert editor.completer.popup().isVisible()
    editor._complete("[Image2]")
    assert editor.toPlainText() == "See [Image2]"


def panel_for(qtbot, paths: AppPaths) -> ComposePanel:
    panel = ComposePanel(paths, TaskRunner())
    qtbot.addWidget(panel)
    return panel


async def test_estimate_problems_and_the_queue_button(qtbot, app_paths: AppPaths) -> None:
    panel = panel_for(qtbot, app_paths)
    tab = panel.mode_tabs[Mode.TEXT_TO_VIDEO]
    assert not tab.queue_button.isEnabled()
    tab.prompt.setPlainText("A heron lifts off a misty lake")
    tab.parameters.set_values(resolution="720p", duration="10", aspect_ratio="16:9")
    tab.refresh()
    assert tab.queue_button.isEnabled()
    assert tab.estimate.text().startswith("$3.02")
    tab.parameters.set_values(duration="auto")
    tab.refresh()
    assert "–" in tab.estimate.text()
    image_tab = panel.mode_tabs[Mode.IMAGE_TO_VIDEO]
    image_tab.prompt.setPlainText("slow push in")
    image_tab.refresh()
    assert not image_tab.queue_button.isEnabled()
    assert any("Start frame is required" in image_tab.problems.item(i).text()
               for i in range(image_tab.problems.count()))  # fmt: skip


async def test_queueing_variations_through_the_engine(
    qtbot, app_paths: AppPaths, ui_engine
) -> None:
    panel = panel_for(qtbot, app_paths)
    panel.attach(ui_engine.engine)
    queued: list = []
    panel.queued.connect(queued.append)
    tab = panel.mode_tabs[Mode.TEXT_TO_VIDEO]
    tab.prompt.setPlainText("Lanterns drift over a dark river")
    tab.parameters.set_values(resolution="480p", duration="4")
    tab.variations.setValue(2)
    tab.refresh()
    qtbot.keyClick(tab.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    await eventually(lambda: bool(queued))
    jobs = queued[0]
    assert len(jobs) == 2 and jobs[0].seed != jobs[1].seed
    for job in jobs:
        await ui_engine.wait_for(job.id, {JobState.DONE})


async def test_drafts_survive_a_restart(qtbot, app_paths: AppPaths, tmp_path: Path) -> None:
    song = make_audio(tmp_path / "song.wav", 3.0)
    hero = make_image(tmp_path / "hero.png", 800, 600)
    panel = panel_for(qtbot, app_paths)
    tab = panel.mode_tabs[Mode.REFERENCE_TO_VIDEO]
    tab.prompt.setPlainText("[Image1] sings along to [Audio1]")
    tab.images.set_references([str(hero)])
    tab.audios.set_references([str(song)])
    tab.fast.setChecked(True)
    panel.save_drafts()
    again = panel_for(qtbot, app_paths)
    restored = again.mode_tabs[Mode.REFERENCE_TO_VIDEO].shot()
    assert restored.prompt == "[Image1] sings along to [Audio1]"
    assert restored.images == (str(hero),) and restored.audios == (str(song),)
    assert restored.fast
    (app_paths.config / "drafts" / "text-to-video.json").write_text("{not json")
    panel_for(qtbot, app_paths)  # a damaged draft is ignored, not a crash
    assert json.loads((app_paths.config / "drafts" / "image-to-video.json").read_text())


async def test_load_shot_fills_the_right_tab(qtbot, app_paths: AppPaths, tmp_path: Path) -> None:
    start = make_image(tmp_path / "start.png", 800, 600)
    panel = panel_for(qtbot, app_paths)
    shot = Shot(Mode.IMAGE_TO_VIDEO, fast=True, prompt="and then it flies", duration="6",
                start_image=str(start), seed=99)  # fmt: skip
    panel.load_shot(shot)
    assert panel.tabs.currentWidget() is panel.mode_tabs[Mode.IMAGE_TO_VIDEO]
    current = panel.current_shot()
    assert current.start_image == str(start) and current.seed == 99 and current.duration == "6"
    assert current.fast
