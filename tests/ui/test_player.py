"""The player, judged on decoded pixels: the frame on screen is the frame the timecode names.

Test clips (media_factory.make_video) draw a white bar along the top that grows by one step
per frame, so the picture itself says which frame it is."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from engine_fixtures import eventually
from media_factory import make_video
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

from seedance_desktop.media.frames import last_frame, poster_frame
from seedance_desktop.ui.frame_reader import timecode
from seedance_desktop.ui.player import PlayerWidget

WIDTH, HEIGHT = 320, 240


def bar_frame(image: QImage, frames: int) -> int:
    """Which frame a test clip's picture is, read from the length of its white bar."""
    row = image.height() // 32
    white = sum(1 for x in range(image.width()) if image.pixelColor(x, row).lightness() > 230)
    return round(white * frames / image.width())


def player_for(qtbot, video: Path, poster: Path | None = None) -> PlayerWidget:
    player = PlayerWidget()
    qtbot.addWidget(player)
    player.resize(640, 480)
    player.show()
    player.load(video, poster)
    return player


async def shows(player: PlayerWidget, frame: int) -> None:
    await eventually(lambda: player.shown_frame == frame, timeout=15)


def test_timecodes_count_frames_at_the_file_rate() -> None:
    assert timecode(0, Fraction(24)) == "00:00:00:00"
    assert timecode(37, Fraction(24)) == "00:00:01:13"
    assert timecode(24 * 3661 + 5, Fraction(24)) == "01:01:01:05"
    assert timecode(59, Fraction(30000, 1001)) == "00:00:01:29"  # 29.97 counts 30 a second


async def test_the_last_frame_stays_on_screen_at_the_end(qtbot, tmp_path: Path) -> None:
    video = make_video(
        tmp_path / "clip.mp4", WIDTH, HEIGHT, seconds=1.5, color=(200, 30, 30),
        last_color=(30, 200, 60),
    )  # fmt: skip
    poster = poster_frame(video, tmp_path / "poster.jpg")
    player = player_for(qtbot, video, poster)
    assert player.available, player.notice.text()
    assert player.time.text() == "00:00:00:00 / 00:00:01:12"  # the length before any play
    await shows(player, 0)
    player.player.setPlaybackRate(4.0)
    player.toggle()
    assert player.play_button.text() == "Pause"
    await eventually(lambda: not player.playing, timeout=20)
    await shows(player, 35)
    expected = QImage(str(last_frame(video, tmp_path / "last.png")))
    shown = player.surface.image.convertToFormat(expected.format())
    assert shown.size() == expected.size()
    for x, y in ((5, 5), (WIDTH - 3, 3), (WIDTH // 2, HEIGHT // 2), (10, HEIGHT - 10)):
        a, b = shown.pixelColor(x, y), expected.pixelColor(x, y)
        assert abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) < 12
    assert player.time.text() == "00:00:01:11 / 00:00:01:12"
    assert player.frame_label.text().startswith("Frame 36 of 36")


async def test_a_click_anywhere_on_the_timeline_seeks_to_that_frame(qtbot, tmp_path) -> None:
    video = make_video(tmp_path / "clip.mp4", WIDTH, HEIGHT, seconds=2.0, with_audio=False)
    player = player_for(qtbot, video)
    await shows(player, 0)
    timeline = player.timeline
    x = timeline.width() * 3 // 4
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=QPoint(x, timeline.height() // 2))
    target = timeline.frame_at_x(x)
    assert 30 <= target <= 40 and player.frame == target
    await shows(player, target)
    assert bar_frame(player.surface.image, 48) == target
    assert player.time.text().startswith(timecode(target, Fraction(24)))


async def test_the_timecode_names_the_frame_shown_after_steps_and_seeks(qtbot, tmp_path) -> None:
    video = make_video(tmp_path / "clip.mp4", WIDTH, HEIGHT, seconds=2.0, fps=30,
                       with_audio=False)  # fmt: skip
    player = player_for(qtbot, video)
    await shows(player, 0)
    player.seek_frame(37)
    await shows(player, 37)
    assert player.time.text() == "00:00:01:07 / 00:00:02:00"
    assert bar_frame(player.surface.image, 60) == 37
    player.setFocus()
    steps = [(Qt.Key.Key_Period, 38), (Qt.Key.Key_Right, 39), (Qt.Key.Key_Comma, 38),
             (Qt.Key.Key_Left, 37), (Qt.Key.Key_End, 59), (Qt.Key.Key_Home, 0)]  # fmt: skip
    for key, frame in steps:
        qtbot.keyClick(player, key)
        await shows(player, frame)
        assert player.time.text().startswith(timecode(frame, Fraction(30)))
        assert bar_frame(player.surface.image, 60) == frame


async def test_in_and_out_points_mark_the_loop_range(qtbot, tmp_path) -> None:
    video = make_video(tmp_path / "clip.mp4", WIDTH, HEIGHT, seconds=2.0, with_audio=False)
    player = player_for(qtbot, video)
    player.seek_frame(10)
    qtbot.keyClick(player, Qt.Key.Key_I)
    player.seek_frame(20)
    qtbot.keyClick(player, Qt.Key.Key_O)
    assert (player.in_point, player.out_point) == (10, 20)
    assert (player.timeline.in_point, player.timeline.out_point) == (10, 20)
    player.loop.setChecked(True)
    player.player.setPlaybackRate(2.0)
    player.toggle()  # at the out point: plays from the in point
    assert player.frame == 10
    seen: list[int] = []
    player.frameChanged.connect(seen.append)
    await eventually(lambda: len(seen) > 30, timeout=20)
    player.pause()
    assert all(10 <= f <= 20 for f in seen[1:]), seen


async def test_esc_f_and_a_double_click_leave_full_screen(qtbot, tmp_path) -> None:
    video = make_video(tmp_path / "clip.mp4", WIDTH, HEIGHT, seconds=1.0, with_audio=False)
    player = player_for(qtbot, video)
    await shows(player, 0)
    qtbot.keyClick(player, Qt.Key.Key_F)
    view = player.fullscreen
    assert view is not None and player.is_fullscreen() and view.isFullScreen()
    assert view.overlay.isVisible() and view.exit_button.isVisible()
    assert view.transport.time.text() == player.time.text()
    assert not view.surface.image.isNull()
    qtbot.keyClick(view, Qt.Key.Key_Period)  # the keys work there too
    assert player.frame == 1 and view.transport.time.text().startswith("00:00:00:01")
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert not player.is_fullscreen()
    player.enter_fullscreen()
    qtbot.keyClick(view, Qt.Key.Key_F)
    assert not player.is_fullscreen()
    player.enter_fullscreen()
    qtbot.mouseDClick(view.surface, Qt.MouseButton.LeftButton)
    assert not player.is_fullscreen()
    player.enter_fullscreen()
    view.exit_button.click()
    assert not player.is_fullscreen()


@pytest.mark.parametrize("key", [Qt.Key.Key_L, Qt.Key.Key_Space])
async def test_play_keys_play_and_k_stops_on_an_exact_frame(qtbot, tmp_path, key) -> None:
    video = make_video(tmp_path / "clip.mp4", WIDTH, HEIGHT, seconds=3.0, with_audio=False)
    player = player_for(qtbot, video)
    await shows(player, 0)
    qtbot.keyClick(player, key)
    assert player.playing
    await eventually(lambda: player.frame > 5, timeout=20)
    qtbot.keyClick(player, Qt.Key.Key_K)
    assert not player.playing
    stopped = player.frame
    await shows(player, stopped)
    assert bar_frame(player.surface.image, 72) == stopped
    qtbot.keyClick(player, Qt.Key.Key_J)  # backwards
    await eventually(lambda: player.frame < stopped, timeout=10)
    qtbot.keyClick(player, Qt.Key.Key_K)
    assert not player.playing


async def test_a_jump_shows_the_scrub_cache_frame_then_the_exact_one(qtbot, tmp_path) -> None:
    video = make_video(tmp_path / "clip.mp4", 1280, 720, seconds=1.5, with_audio=False)
    player = player_for(qtbot, video)
    await shows(player, 0)
    cache = player.fetcher.cache
    await eventually(lambda: len(cache.frames) == 36, timeout=30)  # made once, off the UI thread
    assert cache.image(30).width() == 960  # small enough to keep every frame in memory
    pictures: list[tuple[int, int]] = []
    player.fetcher.ready.connect(lambda _p, n, image, _exact: pictures.append((n, image.width())))
    player.seek_frame(30)
    await shows(player, 30)
    assert player.preview_frame == 30
    assert pictures == [(30, 960), (30, 1280)]  # the cached frame first, then the exact one
    assert player.surface.image.width() == 1280
