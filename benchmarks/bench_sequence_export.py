"""Exporting a sequence: 10 shots of 5 s 720p into one H.264 + AAC film, against the ffmpeg
command line re-encoding the same concatenation (same x264 preset and quality) in the same run.

The product never needs ffmpeg; this benchmark only uses it as the baseline and says so, without
a baseline figure, when no ffmpeg program is installed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import entry, main
from media import make_clip

from seedance_desktop.media.sequence_export import ExportClip, ExportOptions, export_mp4

BAR = "≤ 1.5× ffmpeg"


def _ffmpeg(ffmpeg: str, clips: list[Path], out: Path, options: ExportOptions) -> float:
    listing = out.with_suffix(".txt")
    listing.write_text("".join(f"file '{c}'\n" for c in clips))
    command = [ffmpeg, "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
               "-c:v", "libx264", "-preset", "veryfast", "-crf", str(options.crf),
               "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart",
               str(out)]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - started


def _heartbeat_while_exporting(sequence: list[ExportClip], target: Path) -> dict[str, float]:
    """The export in a worker thread, as the window runs it, with a heartbeat in Qt's loop."""
    import os
    import threading

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from heartbeat import Heartbeat
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    beat = Heartbeat(interval_ms=5)
    worker = threading.Thread(target=export_mp4, args=(sequence, target, ExportOptions()))
    loop = QEventLoop()
    check = QTimer()
    check.timeout.connect(lambda: None if worker.is_alive() else loop.quit())
    beat.start()
    worker.start()
    check.start(50)
    loop.exec()
    beat.stop()
    worker.join()
    del app
    return beat.summary()


def run(quick: bool) -> list:
    shots, seconds, size = (2, 1.0, (320, 180)) if quick else (10, 5.0, (1280, 720))
    options = ExportOptions()
    with tempfile.TemporaryDirectory(prefix="seedance-bench-seq-") as tmp:
        folder = Path(tmp)
        clips = [make_clip(folder / f"shot{i}.mp4", *size, seconds, seed=i) for i in range(shots)]
        sequence = [ExportClip(c, 0.0, seconds, f"Shot {i + 1}") for i, c in enumerate(clips)]
        runs = 1 if quick else 2
        ours, theirs = [], []
        ffmpeg = shutil.which("ffmpeg")
        for _ in range(runs):  # alternated, so both see the same machine load
            started = time.perf_counter()
            export_mp4(sequence, folder / "film.mp4", options)
            ours.append(time.perf_counter() - started)
            if ffmpeg is not None:
                theirs.append(_ffmpeg(ffmpeg, clips, folder / "baseline.mp4", options))
        beats = _heartbeat_while_exporting(sequence, folder / "film.mp4")
    app = sorted(ours)[len(ours) // 2]
    name = f"sequence export, {shots} shots of {seconds:g} s {size[1]}p"
    p99 = beats["p99"]
    loop = entry("sequence export: heartbeat lateness p99", p99, "ms", None, "< 16 ms", p99 < 16)
    if not theirs:
        print("note: no ffmpeg program installed; the baseline is skipped", file=sys.stderr)
        return [entry(name + " (no ffmpeg here: baseline skipped)", app, "s"), loop]
    base = sorted(theirs)[len(theirs) // 2]
    return [entry(name, app, "s", base, BAR, app <= 1.5 * base), loop]


if __name__ == "__main__":
    main(run, "Sequence export")
