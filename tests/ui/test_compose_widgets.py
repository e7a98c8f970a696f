"""Compose widgets: drop slots, the prompt editor and the compose panel, with real files."""

from __future__ import annotations

import json
from pathlib import Path

from dnd import drop_files
from engine_fixtures import eventually
from media_factory import make_audio, make_image, make_video
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QTextCharFormat

from seedance_desktop.compose.model import ComposeModel
from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.domain.media_info import MediaKind
from seedance_desktop.domain.shot import Shot
from seedance_desktop.engine.states import JobState
from seedance_desktop.paths import AppPaths
from seedance_desktop.ui.compose.panel import ComposePanel
from seedance_desktop.ui.compose.prompt_editor import PromptEditor
from seedance_desktop.ui.compose.slots import SlotGroup
from seedance_desktop.ui.tasks import TaskRunner


def images_group(
    qtbot, tmp_path: Path, model: ComposeModel | None = None
) -> tuple[SlotGroup, list[str]]:
    messages: list[str] = []
    model = model or ComposeModel(Mode.REFERENCE_TO_VIDEO)
    group = SlotGroup(
        model, "image_urls", MediaKind.IMAGE, "Reference image", TaskRunner(), tmp_path / "thumbs"
    )
    qtbot.addWidget(group)
    group.message.connect(messages.append)
    return group, messages


async def test_a_drop_fills_consecutive_slots_with_thumbnails(qtbot, tmp_path: Path) -> None:
    group, messages = images_group(qtbot, tmp_path)
    files = [make_image(tmp_path / f"i{n}.png", 80 + n, 60) for n in range(10)]
    drop_files(group, files)
    await eventually(lambda: group.pending() == 0)
    assert group.references() == [str(f) for f in files[:9]]
    assert group.model.references("image_urls") == tuple(str(f) for f in files[:9])
    assert "1 file(s) were left out" in messages[-1]
    slot = group.slots[0]
    assert "80×60" in slot.details.text()
    await eventually(lambda: not slot.thumb.pixmap().isNull())
    assert slot.accessibleName() == "Reference image 1: i0.png"
    assert set(group.media()) == {str(f) for f in files[:9]}  # probe results went to the model


async def test_wrong_kinds_and_bad_files_are_explained(qtbot, tmp_path: Path) -> None:
    group, messages = images_group(qtbot, tmp_path)
    handed_on: list[list[str]] = []
    group.foreignFiles.connect(handed_on.append)
    clip = make_video(tmp_path / "moves.mp4", 640, 480, seconds=1.0)
    disguised = tmp_path / "clip.png"  # a video named like a picture: found out by the probe
    disguised.write_bytes(clip.read_bytes())
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    drop_files(group, [clip, disguised, broken])
    await eventually(lambda: group.pending() == 0)
    assert handed_on == [[str(clip)]]  # by its name a video: the panel routes it by kind
    assert group.references() == [str(broken)]
    assert any("clip.png is a video" in m for m in messages)
    assert "damaged" in group.slots[0].problems.text()


async def test_keyboard_moves_and_deletes_renumber_the_prompt_through_the_model(
    qtbot, tmp_path: Path
) -> None:
    model = ComposeModel(Mode.REFERENCE_TO_VIDEO)
    group, _ = images_group(qtbot, tmp_path, model)
    files = [str(make_image(tmp_path / f"i{n}.png", 64, 48)) for n in range(3)]
    group.add_references(files)
    model.set_prompt("[Image1] looks at [Image2]; [Image3] waits")
    group.slots[0].setFocus()
    qtbot.keyClick(group.slots[0], Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert group.references() == [files[1], files[0], files[2]]
    assert model.prompt == "[Image2] looks at [Image1]; [Image3] waits"
    qtbot.keyClick(group.slots[2], Qt.Key.Key_Delete)
    assert group.references() == [files[1], files[0]]
    assert model.prompt == "[Image2] looks at [Image1]; [Image?] waits"
    assert group.slots[2].reference is None
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


async def test_prompt_editor_marks_tokens_and_follows_renumbering(qtbot) -> None:
    model = ComposeModel(Mode.REFERENCE_TO_VIDEO)
    model.add_references("image_urls", ["/a.png", "/b.png"])
    editor = PromptEditor()
    qtbot.addWidget(editor)
    editor.bind(model)
    qtbot.keyClicks(editor, "[Image1] meets [Image3]")
    assert model.prompt == "[Image1] meets [Image3]"
    block = editor.document().firstBlock()
    formats = {(r.start, r.length): r.format.underlineStyle() for r in block.layout().formats()}
    assert formats[(15, 8)] == QTextCharFormat.UnderlineStyle.WaveUnderline  # [Image3]: no slot
    assert formats[(0, 8)] != QTextCharFormat.UnderlineStyle.WaveUnderline
    model.move_reference("image_urls", 0, 1)
    assert editor.toPlainText() == "[Image2] meets [Image3]"
    editor.document().undo()  # the renumbering is one undo step, and the undo reaches the model
    assert editor.toPlainText() == model.prompt == "[Image1] meets [Image3]"
    editor.moveCursor(editor.textCursor().MoveOperation.End)
    editor.insert_token("[Audio1]")
    assert model.prompt.endswith("[Image3] [Audio1]")


async def test_the_prompt_editor_reports_only_real_edits(qtbot) -> None:
    """Re-highlighting (every refresh did it) changes formats, not text: no edit is reported,
    so the save timer is not restarted forever."""
    editor = PromptEditor()
    qtbot.addWidget(editor)
    edits: list[str] = []
    editor.edited.connect(edits.append)
    qtbot.keyClicks(editor, "[Image1]")
    assert edits[-1] == "[Image1]"
    count = len(edits)
    for filled in (1, 0, 2):
        editor.set_filled({MediaKind.IMAGE: filled})
    editor.highlighter.rehighlight()
    assert len(edits) == count


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
    qtbot.keyClicks(tab.prompt, "A heron lifts off a misty lake")
    tab.parameters.set_values(resolution="720p", duration="10", aspect_ratio="16:9")
    assert tab.model.shot.duration == "10" and tab.model.shot.aspect_ratio == "16:9"
    tab.refresh()
    assert tab.queue_button.isEnabled()
    assert tab.estimate.text().startswith("$3.02")
    tab.variations.setValue(3)
    assert tab.model.variations == 3
    tab.refresh()
    assert tab.estimate.text().startswith("3 × $3.02 = $9.07")
    assert tab.queue_button.text() == "Queue 3"
    tab.parameters.set_values(duration="auto")
    tab.refresh()
    assert "–" in tab.estimate.text()
    image_tab = panel.mode_tabs[Mode.IMAGE_TO_VIDEO]
    qtbot.keyClicks(image_tab.prompt, "slow push in")
    image_tab.refresh()
    assert not image_tab.queue_button.isEnabled()
    assert any("Start frame is required" in image_tab.problems.item(i).text()
               for i in range(image_tab.problems.count()))  # fmt: skip


async def test_widgets_show_what_the_model_holds(qtbot, app_paths: AppPaths, tmp_path) -> None:
    panel = panel_for(qtbot, app_paths)
    tab = panel.mode_tabs[Mode.REFERENCE_TO_VIDEO]
    hero = str(make_image(tmp_path / "hero.png", 320, 240))
    tab.model.load(
        Shot(
            Mode.REFERENCE_TO_VIDEO,
            fast=True,
            prompt="[Image1] waves",
            duration="6",
            aspect_ratio="9:16",
            seed=42,
            images=(hero,),
        )
    )
    tab.model.set_variations(2)
    assert tab.prompt.toPlainText() == "[Image1] waves"
    assert tab.fast.isChecked() and not tab.standard.isChecked()
    assert tab.parameters.duration.currentData() == "6"
    assert tab.parameters.aspect.currentData() == "9:16"
    assert tab.parameters.seed_fixed.isChecked() and tab.parameters.seed.value() == 42
    assert tab.variations.value() == 2
    assert tab.images.slots[0].reference == hero
    await eventually(lambda: tab.images.pending() == 0)
    await eventually(lambda: tab.queue_button.isEnabled())


async def test_the_model_follows_the_widgets(qtbot, app_paths: AppPaths) -> None:
    panel = panel_for(qtbot, app_paths)
    tab = panel.mode_tabs[Mode.TEXT_TO_VIDEO]
    qtbot.keyClicks(tab.prompt, "Rain on neon")
    tab.fast.setChecked(True)
    tab.parameters.resolution.setCurrentText("480p")
    tab.parameters.audio.setChecked(False)
    tab.parameters.new_seed()
    shot = tab.model.shot
    assert shot.prompt == "Rain on neon" and shot.fast and shot.resolution == "480p"
    assert shot.generate_audio is False and shot.seed == tab.parameters.seed.value()
    assert panel.current_shot() == shot


async def test_queueing_variations_through_the_engine(
    qtbot, app_paths: AppPaths, ui_engine
) -> None:
    panel = panel_for(qtbot, app_paths)
    panel.attach(ui_engine.engine)
    queued: list = []
    panel.queued.connect(queued.append)
    tab = panel.mode_tabs[Mode.TEXT_TO_VIDEO]
    qtbot.keyClicks(tab.prompt, "Lanterns drift over a dark river")
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
    song = make_audio(tmp_path / "song.wav", 1.0)
    hero = make_image(tmp_path / "hero.png", 320, 240)
    panel = panel_for(qtbot, app_paths)
    tab = panel.mode_tabs[Mode.REFERENCE_TO_VIDEO]
    panel.tabs.setCurrentWidget(tab)
    qtbot.keyClicks(tab.prompt, "[Image1] sings along to [Audio1]")
    tab.images.add_references([str(hero)])
    tab.audios.add_references([str(song)])
    tab.fast.setChecked(True)
    panel.save_drafts()
    await eventually(lambda: tab.images.pending() == 0 and tab.audios.pending() == 0)
    again = panel_for(qtbot, app_paths)
    assert again.current_tab().mode is Mode.REFERENCE_TO_VIDEO  # the tab shown last
    restored = again.mode_tabs[Mode.REFERENCE_TO_VIDEO]
    assert restored.prompt.toPlainText() == "[Image1] sings along to [Audio1]"
    shot = restored.model.shot
    assert shot.images == (str(hero),) and shot.audios == (str(song),) and shot.fast
    await eventually(lambda: restored.images.pending() == 0 and restored.audios.pending() == 0)
    drafts = app_paths.drafts
    assert drafts.parent == app_paths.data
    (drafts / "text-to-video.json").write_text("{not json")
    panel_for(qtbot, app_paths)  # a damaged draft is set aside, not a crash
    assert (drafts / "text-to-video.damaged").exists()


async def test_a_draft_is_saved_within_a_second_of_typing(qtbot, app_paths: AppPaths) -> None:
    panel = panel_for(qtbot, app_paths)
    tab = panel.current_tab()
    qtbot.keyClicks(tab.prompt, "Dust in a sunbeam")
    draft = app_paths.drafts / f"{tab.mode.value}.json"
    await eventually(lambda: draft.exists(), timeout=1.0)
    assert json.loads(draft.read_text())["shot"]["prompt"] == "Dust in a sunbeam"


async def test_a_missing_file_in_a_draft_is_a_problem(qtbot, app_paths: AppPaths) -> None:
    gone = "/nowhere/start.png"
    panel = panel_for(qtbot, app_paths)
    panel.models[Mode.IMAGE_TO_VIDEO].load(
        Shot(Mode.IMAGE_TO_VIDEO, prompt="it flies", start_image=gone)
    )
    panel.save_drafts()
    again = panel_for(qtbot, app_paths)
    tab = again.mode_tabs[Mode.IMAGE_TO_VIDEO]
    await eventually(lambda: tab.start.pending() == 0)
    tab.refresh()
    messages = [tab.problems.item(i).text() for i in range(tab.problems.count())]
    assert any("start.png was not found" in m for m in messages), messages
    assert not tab.queue_button.isEnabled()


async def test_loading_a_result_keeps_the_draft_it_replaces(
    qtbot, app_paths: AppPaths, tmp_path: Path
) -> None:
    start = make_image(tmp_path / "start.png", 320, 240)
    panel = panel_for(qtbot, app_paths)
    panel.show()
    tab = panel.mode_tabs[Mode.IMAGE_TO_VIDEO]
    panel.tabs.setCurrentWidget(tab)
    qtbot.keyClicks(tab.prompt, "my own idea")
    shot = Shot(Mode.IMAGE_TO_VIDEO, fast=True, prompt="and then it flies", duration="6",
                start_image=str(start), seed=99)  # fmt: skip
    panel.load_shot(shot)
    assert panel.tabs.currentWidget() is tab
    current = panel.current_shot()
    assert current.start_image == str(start) and current.seed == 99 and current.duration == "6"
    assert current.fast and tab.prompt.toPlainText() == "and then it flies"
    assert panel.undo_button.isVisible() and "Undo load" in panel.status.text()
    panel.save_drafts()  # the undo history is in the draft: it survives a restart
    assert "my own idea" in (app_paths.drafts / "image-to-video.json").read_text()
    qtbot.keyClick(tab.prompt, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert tab.prompt.toPlainText() == "my own idea"
    assert panel.current_shot().start_image is None and not panel.current_shot().fast
    assert not panel.undo_button.isVisible()
    await eventually(lambda: tab.start.pending() == 0)


async def test_undo_load_button_and_prompt_undo_come_first(qtbot, app_paths: AppPaths) -> None:
    panel = panel_for(qtbot, app_paths)
    panel.show()
    tab = panel.current_tab()
    qtbot.keyClicks(tab.prompt, "before")
    panel.load_shot(Shot(tab.mode, prompt="loaded"))
    qtbot.keyClicks(tab.prompt, "!")
    qtbot.keyClick(tab.prompt, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert tab.prompt.toPlainText() == "loaded"  # the editor's own undo first
    qtbot.mouseClick(panel.undo_button, Qt.MouseButton.LeftButton)
    assert tab.prompt.toPlainText() == "before"


async def test_a_reused_seed_beyond_the_spin_box_is_kept(qtbot, app_paths: AppPaths) -> None:
    panel = panel_for(qtbot, app_paths)
    tab = panel.mode_tabs[Mode.TEXT_TO_VIDEO]
    tab.model.load(Shot(Mode.TEXT_TO_VIDEO, prompt="same seed", seed=4_000_000_000))
    tab.parameters.resolution.setCurrentText("480p")
    assert tab.model.shot.resolution == "480p" and tab.model.shot.seed == 4_000_000_000
