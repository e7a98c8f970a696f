"""7. Fitting a phone clip: a 30 s 1920×1080 30 fps H.264 clip with sound, fitted to its first
15 s at 1280×720 (H.264 + AAC in MP4), against the ffmpeg command line doing the same transform
in the same run (same encoder preset and rate control; ffmpeg from the system packages, used by
this benchmark only). Bars: at most 1.5× ffmpeg's time (medians); the window's heartbeat p99
under 16 ms while a fit runs as the window runs it (FitRunner, its own worker thread); peak
memory growth of the process while fitting under 200 MB (its libraries already imported, as
in the window once it has probed a file).
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from common import Entry, entry, main, peak_rss_mb, reset_peak_rss, rss_mb


def make_source(path: Path, seconds: int) -> None:
    """A moving test pattern with a tone (ffmpeg's lavfi sources: quick to make)."""
    subprocess.run(
        ["ffmpeg", "-y", "-v", "error",
         "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=48000:duration={seconds}",
         "-c:v", "libx264", "-preset", "veryfast", "-b:v", "12M", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )  # fmt: skip


def ffmpeg_fit(source: Path, target: Path, seconds: float, kbps: int) -> float:
    """The same transform on the command line: first `seconds`, 1280×720, same x264 settings."""
    from seedance_desktop.media.fit_video import PRESET

    started = time.perf_counter()
    subprocess.run(
        ["ffmpeg", "-y", "-v", "error", "-i", str(source), "-t", str(seconds),
         "-vf", "scale=1280:720:flags=bicubic,format=yuv420p",
         "-c:v", "libx264", "-preset", PRESET, "-crf", "20",
         "-maxrate", f"{kbps}k", "-bufsize", f"{kbps}k",
         "-c:a", "aac", "-ar", "48000", "-ac", "2", "-movflags", "+faststart", str(target)],
        check=True,
    )  # fmt: skip
    return time.perf_counter() - started


def app_fit(source: Path, folder: Path) -> tuple[float, object]:
    from seedance_desktop.domain.fit import FitSettings, TimeRange
    from seedance_desktop.media.fit import fit_file

    shutil.rmtree(folder, ignore_errors=True)  # a fresh store: the fit is made, not found
    started = time.perf_counter()
    fitted = fit_file(source, folder, FitSettings(TimeRange(0.0, 15.0)))
    return time.perf_counter() - started, fitted


async def fit_in_window(source: Path, folder: Path) -> dict[str, float]:
    from heartbeat import Heartbeat
    from qt_app import open_window

    from seedance_desktop.compose.fitting import FitRunner, FitTarget
    from seedance_desktop.domain.fit import Budget, FitSettings, TimeRange
    from seedance_desktop.domain.media_info import MediaInfo, MediaKind
    from seedance_desktop.media.probe import probe

    info = probe(source)
    assert isinstance(info, MediaInfo)
    target = FitTarget("video_urls", str(source), MediaKind.VIDEO, info, Budget(), ("jpeg",))
    async with open_window():
        await asyncio.sleep(0.5)
        runner = FitRunner(folder)
        beat = Heartbeat(interval_ms=5)
        beat.start()
        progress: list[float] = []
        await runner.fit(target, FitSettings(TimeRange(0.0, 15.0)), progress.append)
        beat.stop()
        runner.shutdown()
    return beat.summary()


def run(quick: bool = False) -> list[Entry]:
    from qt_app import run_qt, use_home

    if shutil.which("ffmpeg") is None:
        raise RuntimeError("this benchmark needs ffmpeg: apt-get install ffmpeg")
    seconds, runs = (4, 1) if quick else (30, 3)
    fit_s = min(15.0, seconds / 2)
    with tempfile.TemporaryDirectory(prefix="seedance-bench-fit-") as tmp:
        root = Path(tmp)
        source = root / "phone.mp4"
        make_source(source, seconds)
        app_times, ffmpeg_times = [], []
        growth = 0.0
        import seedance_desktop.media.fit  # noqa: F401  (growth is the fit's, not the imports')

        for index in range(runs):  # alternate, so load on the machine falls on both alike
            base = rss_mb()
            reset_peak_rss()
            took, fitted = app_fit(source, root / "fitted")
            growth = max(growth, peak_rss_mb() - base)
            app_times.append(took)
            kbps = fitted.plan.video_kbps  # type: ignore[attr-defined]
            ffmpeg_times.append(ffmpeg_fit(source, root / f"ffmpeg-{index}.mp4", fit_s, kbps))
        app, baseline = statistics.median(app_times), statistics.median(ffmpeg_times)
        use_home(root / "home", None)
        beat = run_qt(lambda: fit_in_window(source, root / "window-fitted"))
    ratio = app / baseline
    return [
        entry("fit: 30 s 1080p30 clip to 15 s 720p", app, "s", baseline, "≤ 1.5× ffmpeg",
              ratio <= 1.5),
        entry("fit: heartbeat lateness p99 while fitting", beat["p99"], "ms", None, "< 16 ms",
              beat["p99"] < 16),
        entry("fit: heartbeat lateness max while fitting", beat["max"], "ms"),
        entry("fit: peak memory growth", growth, "MB", None, "< 200 MB", growth < 200),
    ]  # fmt: skip


if __name__ == "__main__":
    main(run, "7. Fitting a phone clip")
