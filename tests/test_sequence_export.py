"""Exporting a sequence: one MP4 with real decoded frames and sound, and a timeline for editors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest

from seedance_desktop.media.sequence_export import (
    ExportCancelled,
    ExportClip,
    ExportOptions,
    Fit,
    SequenceExportError,
    export_mp4,
)
from seedance_desktop.media.sequence_timeline import TimelineClip, media_folder, write_timeline
from tests.media_factory import make_video

RED, DARK_RED = (220, 30, 30), (90, 10, 10)
GREEN, BLUE = (30, 200, 40), (40, 60, 220)


def decoded(path: Path) -> tuple[list[np.ndarray], np.ndarray, float]:
    """Every picture (RGB), the sound (mono float) and the container duration."""
    with av.open(str(path)) as container:
        duration = float(container.duration or 0) / 1_000_000
        pictures = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    with av.open(str(path)) as container:
        sound = np.concatenate([f.to_ndarray().mean(axis=0) for f in container.decode(audio=0)])
    return pictures, sound, duration


def middle(picture: np.ndarray) -> np.ndarray:
    """The average colour of the centre of a picture (below the moving white bar)."""
    h, w, _ = picture.shape
    return picture[h // 2 - 8 : h // 2 + 8, w // 2 - 8 : w // 2 + 8].reshape(-1, 3).mean(axis=0)


def close_to(picture: np.ndarray, colour: tuple[int, int, int]) -> bool:
    return bool(np.abs(middle(picture) - np.array(colour)).max() < 25)


@pytest.fixture
def three_shots(tmp_path: Path) -> list[ExportClip]:
    first = make_video(tmp_path / "a.mp4", 640, 360, 2.0, color=RED, last_color=DARK_RED)
    second = make_video(tmp_path / "b.mp4", 480, 480, 1.5, color=GREEN)
    third = make_video(tmp_path / "c.mp4", 640, 360, 2.0, color=BLUE, with_audio=False)
    return [
        ExportClip(first, 0.5, 1.5, "Shot 1"),
        ExportClip(second, 0.0, 1.0, "Shot 2"),
        ExportClip(third, 0.25, 2.0, "Shot 3"),
    ]


def test_three_shots_become_one_film_cut_where_trimmed(
    three_shots: list[ExportClip], tmp_path: Path
) -> None:
    done: list[tuple[int, int]] = []
    report = export_mp4(
        three_shots, tmp_path / "film.mp4", progress=lambda d, t: done.append((d, t))
    )
    pictures, sound, duration = decoded(report.path)

    assert (report.width, report.height) == (640, 360)  # the first shot's size
    assert len(pictures) == 24 + 24 + 42  # 1 s + 1 s + 1.75 s at 24 fps
    assert abs(duration - 3.75) <= 1 / 24
    assert done[-1] == (90, 90)
    # Shot 1 from 0.5 s: its first colour, then its last-second colour from its 1.0 s mark.
    assert close_to(pictures[0], RED) and close_to(pictures[11], RED)
    assert close_to(pictures[12], DARK_RED) and close_to(pictures[23], DARK_RED)
    # Shot 2 (square) letterboxed: its colour in the middle, black bars left and right.
    assert close_to(pictures[24], GREEN) and close_to(pictures[47], GREEN)
    assert pictures[30][180, :60].max() < 20 and pictures[30][180, -60:].max() < 20
    assert close_to(pictures[48], BLUE) and close_to(pictures[89], BLUE)
    # Sound through the whole film: the tone where shots have it, silence where shot 3 has none.
    assert abs(len(sound) / 48_000 - 3.75) <= 1 / 24
    rms = [float(np.sqrt(np.mean(sound[i : i + 4800] ** 2))) for i in range(0, len(sound), 4800)]
    assert all(level > 0.1 for level in rms[1:19])  # 0.1 s … 1.9 s: shots 1 and 2
    assert all(level < 0.01 for level in rms[21:36])  # 2.1 s … 3.6 s: shot 3, no sound
    assert any("Shot 3 has no sound" in note for note in report.notes)
    assert any("letterboxed" in note for note in report.notes)


def test_fill_crops_instead_of_bars_and_crossfades_overlap(
    three_shots: list[ExportClip], tmp_path: Path
) -> None:
    options = ExportOptions(fit=Fit.FILL, crossfade_frames=6)
    report = export_mp4(three_shots, tmp_path / "film.mp4", options)
    pictures, _, _ = decoded(report.path)
    assert len(pictures) == 90 - 2 * 6
    assert close_to(pictures[30][:, :60], GREEN)  # filled to the edge, no bars
    between = middle(pictures[20])  # the third of six frames mixing dark red into green
    assert 20 < between[1] < 180 and 20 < between[0] < 90


def test_other_frame_rates_play_at_the_sequence_rate(tmp_path: Path) -> None:
    thirty = make_video(tmp_path / "thirty.mp4", 320, 240, 1.0, fps=30, color=GREEN)
    report = export_mp4([ExportClip(thirty, 0.0, 1.0, "Shot 1")], tmp_path / "f.mp4")
    pictures, _, _ = decoded(report.path)
    assert len(pictures) == 24
    assert any("30 fps" in note for note in report.notes)


@pytest.mark.parametrize(
    ("clips", "message"),
    [
        ([], "no shots yet"),
        (
            [ExportClip(Path("/nowhere/gone.mp4"), 0, 1, "Shot 2 (a fox)")],
            r"Shot 2 \(a fox\): its video file is gone",
        ),
    ],
)
def test_bad_sequences_are_refused_before_anything_is_written(
    clips: list[ExportClip], message: str, tmp_path: Path
) -> None:
    with pytest.raises(SequenceExportError, match=message):
        export_mp4(clips, tmp_path / "film.mp4")
    assert list(tmp_path.iterdir()) == []


def test_cancel_leaves_nothing_behind(three_shots: list[ExportClip], tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    cancel = threading.Event()
    with pytest.raises(ExportCancelled):
        export_mp4(three_shots, out / "film.mp4", progress=lambda d, t: cancel.set(), cancel=cancel)
    assert list(out.iterdir()) == []


def test_a_full_disk_is_a_clear_message_and_nothing_half_written(
    three_shots: list[ExportClip], tmp_path: Path
) -> None:
    """A real process whose files may not grow past 20 kB: the write fails like a full disk."""
    out = tmp_path / "out"
    out.mkdir()
    shots = [(str(c.path), c.in_s, c.out_s, c.label) for c in three_shots]
    script = textwrap.dedent(
        f"""
        import resource, signal
        from pathlib import Path
        from seedance_desktop.media import sequence_export as export
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
        clips = [export.ExportClip(Path(p), a, b, label) for p, a, b, label in {shots!r}]
        try:
            export.export_mp4(clips, Path({str(out / "film.mp4")!r}))
        except export.SequenceExportError as exc:
            print(exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert "not enough room on the disk for film.mp4" in result.stdout, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("suffix", [".otio", ".xml", ".edl"])
def test_timeline_points_at_copied_shots_with_their_in_and_out(
    three_shots: list[ExportClip], tmp_path: Path, suffix: str
) -> None:
    target = tmp_path / f"cut{suffix}"
    clips = [TimelineClip(c.path, c.in_s, c.out_s, c.path.stem, c.label) for c in three_shots]
    written = write_timeline("My scene", clips, target)

    timeline = otio.adapters.read_from_file(str(target))
    video = next(t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video)
    shots = list(video.find_clips())
    assert len(shots) == 3
    ranges = [
        (c.source_range.start_time.to_seconds(), c.source_range.end_time_exclusive().to_seconds())
        for c in shots
    ]
    assert ranges == [(0.5, 1.5), (0.0, 1.0), (0.25, 2.0)]
    assert [p.parent for p in written] == [media_folder(target)] * 3
    if suffix != ".edl":  # an EDL names reels, not files
        urls = [c.media_reference.target_url for c in shots]
        assert urls == [p.resolve().as_uri() for p in written]
        assert all(p.exists() for p in written)


def test_timeline_with_a_missing_shot_writes_nothing(tmp_path: Path) -> None:
    gone = TimelineClip(tmp_path / "gone.mp4", 0, 1, "gone", "Shot 1")
    with pytest.raises(SequenceExportError, match="Shot 1: its video file is gone"):
        write_timeline("x", [gone], tmp_path / "cut.otio")
    assert list(tmp_path.iterdir()) == []
