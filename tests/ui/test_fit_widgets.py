"""Fitting in the window: "Fit…" on a tile's problem line opens the dialog, which fits the chosen
range off the UI thread; "Fit all" fits every reference with a problem, no dialog; cancel keeps
nothing. Real files, the real compose panel, the real fit runner."""

from __future__ import annotations

from pathlib import Path

from dnd import drop_files
from engine_fixtures import eventually
from media_factory import make_audio, make_image, make_video

from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.domain.fit import TimeRange
from seedance_desktop.paths import AppPaths
from seedance_desktop.ui.compose.panel import ComposePanel
from seedance_desktop.ui.fit_dialog import FitDialog
from seedance_desktop.ui.tasks import TaskRunner


def reference_tab(qtbot, paths: AppPaths):  # type: ignore[no-untyped-def]
    panel = ComposePanel(paths, TaskRunner())
    qtbot.addWidget(panel)
    tab = panel.mode_tabs[Mode.REFERENCE_TO_VIDEO]
    panel.tabs.setCurrentWidget(tab)
    panel.show()
    return panel, tab


async def test_fit_on_the_tile_opens_the_dialog_and_fits_the_range(
    qtbot, app_paths: AppPaths, tmp_path: Path
) -> None:
    panel, tab = reference_tab(qtbot, app_paths)
    clip = make_video(tmp_path / "phone.mp4", 1920, 1080, seconds=20, fps=4)
    drop_files(tab.images, [make_image(tmp_path / "face.png")])
    drop_files(tab.videos, [clip])
    await eventually(lambda: tab.videos.pending() == 0 and tab.images.pending() == 0)
    await eventually(lambda: tab.videos.slots[0].fit_button.isVisible())
    assert not tab.images.slots[0].fit_button.isVisible()
    assert tab.fit_all_button.text() == "Fit all (1)"
    assert not tab.queue_button.isEnabled()

    tab.videos.slots[0].fit_button.click()
    dialog = panel.fitting.dialog
    assert isinstance(dialog, FitDialog) and dialog.isVisible()
    assert "1280×720 · 0–15 s · H.264 MP4" in dialog.outcome.text()
    dialog.start.setValue(4.0)
    dialog.end.setValue(10.0)
    assert "4–10 s" in dialog.outcome.text()
    await eventually(lambda: len(dialog.strip.frames) > 10)  # read off the UI thread
    dialog.play_button.click()  # the range plays in the preview, looping within it
    await eventually(lambda: (dialog._playhead or 0) > 4.5)
    assert 4.0 <= (dialog._playhead or 0) <= 10.0
    dialog.play_button.click()
    assert dialog._playhead is None
    dialog.fit_button.click()
    model = tab.model
    await eventually(lambda: model.references("video_urls") != (str(clip),), timeout=30)
    (fitted,) = model.references("video_urls")
    record = model.shot.fit_of(fitted)
    assert record is not None and record.source == str(clip)
    assert record.settings.time_range == TimeRange(4.0, 10.0)
    model.set_prompt("[Image1] moves like [Video1]")
    await eventually(lambda: tab.queue_button.isEnabled())
    assert not tab.fit_all_button.isVisible()
    assert not tab.videos.slots[0].fit_button.isVisible()


async def test_fit_all_needs_no_dialog(qtbot, app_paths: AppPaths, tmp_path: Path) -> None:
    panel, tab = reference_tab(qtbot, app_paths)
    drop_files(tab.images, [make_image(tmp_path / "face.png")])
    drop_files(tab.videos, [make_video(tmp_path / "phone.mp4", 1080, 1920, seconds=18, fps=4)])
    drop_files(tab.audios, [make_audio(tmp_path / "song.mp3", seconds=40, fmt="mp3")])
    await eventually(lambda: tab.fit_all_button.text() == "Fit all (2)")
    tab.fit_all_button.click()
    assert tab.fit_all_button.text() == "Cancel fitting"
    await eventually(lambda: "Fitted 2 references." in panel.status.text(), timeout=30)
    assert panel.fitting.dialog is None
    model = tab.model
    model.set_prompt("[Image1] dances to [Audio1]")
    await eventually(lambda: model.ready)
    assert len(model.shot.fits) == 2 and not tab.fit_all_button.isVisible()


async def test_cancel_in_the_dialog_keeps_nothing(
    qtbot, app_paths: AppPaths, tmp_path: Path
) -> None:
    panel, tab = reference_tab(qtbot, app_paths)
    clip = make_video(tmp_path / "long.mp4", 1920, 1080, seconds=30, fps=6)
    drop_files(tab.videos, [clip])
    await eventually(lambda: tab.videos.slots[0].fit_button.isVisible())
    tab.videos.slots[0].fit_button.click()
    dialog = panel.fitting.dialog
    assert dialog is not None
    closed: list[int] = []
    dialog.finished.connect(closed.append)
    dialog.fit_button.click()
    await eventually(lambda: dialog.progress.value() > 5, timeout=30)
    dialog.cancel_button.click()
    await eventually(lambda: bool(closed), timeout=30)
    assert tab.model.references("video_urls") == (str(clip),)
    assert not any(app_paths.fitted.glob("*"))


async def test_fit_on_a_tile_needs_no_dialog_when_there_is_nothing_to_choose(
    qtbot, app_paths: AppPaths, tmp_path: Path
) -> None:
    from fit_media import make_heic

    panel, tab = reference_tab(qtbot, app_paths)
    photo = make_heic(tmp_path / "IMG_0042.HEIC")
    clip = make_video(tmp_path / "short.mp4", 1920, 1080, seconds=6, fps=4)  # only too big
    drop_files(tab.images, [photo])
    drop_files(tab.videos, [clip])
    await eventually(lambda: tab.images.slots[0].fit_button.isVisible())
    await eventually(lambda: tab.videos.slots[0].fit_button.isVisible())
    tab.images.slots[0].fit_button.click()
    assert panel.fitting.dialog is None
    model = tab.model
    await eventually(lambda: model.references("image_urls") != (str(photo),), timeout=30)
    tab.videos.slots[0].fit_button.click()
    assert panel.fitting.dialog is None
    await eventually(lambda: model.references("video_urls") != (str(clip),), timeout=30)
    (record,) = [f for f in model.shot.fits if f.source == str(clip)]
    assert "→ 1280×720, 0–6 s" in record.summary
    model.set_prompt("[Image1] moves like [Video1]")
    await eventually(lambda: model.ready)


async def test_closing_the_dialog_before_its_frames_come_is_quiet(
    qtbot, app_paths: AppPaths, tmp_path: Path
) -> None:
    panel, tab = reference_tab(qtbot, app_paths)
    failures: list[tuple[str, str]] = []
    panel.tasks.failed.connect(lambda what, message: failures.append((what, message)))
    clip = make_video(tmp_path / "long.mp4", 1920, 1080, seconds=20, fps=4)
    drop_files(tab.videos, [clip])
    await eventually(lambda: tab.videos.slots[0].fit_button.isVisible())
    tab.videos.slots[0].fit_button.click()
    dialog = panel.fitting.dialog
    assert isinstance(dialog, FitDialog)
    dialog.reject()  # at once: the frames are still being read
    dialog.deleteLater()
    await eventually(lambda: panel.tasks.pending == 0, timeout=20)
    assert failures == []  # no "Internal C++ object already deleted"
