"""Open the real window under Xvfb with sample data and save screenshots for the README.

    .venv/bin/python scripts/screenshots.py [OUT_DIR]      (default: docs/screenshots)

Without a display it re-runs itself under `xvfb-run` (Debian package xvfb). Everything runs on
the bundled simulator in a temporary SEEDANCE_HOME: no key, no network, nothing billed.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZE = (1600, 1000)


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "screenshots").resolve()
    if not os.environ.get("DISPLAY"):
        xvfb = shutil.which("xvfb-run")
        if xvfb is None:
            print("Needs a display or xvfb-run (apt-get install xvfb xauth).", file=sys.stderr)
            return 1
        screen = f"-screen 0 {SIZE[0]}x{SIZE[1]}x24"
        command = [xvfb, "-a", "-s", screen, sys.executable, __file__, str(out)]
        return subprocess.call(command)
    os.environ.pop("QT_QPA_PLATFORM", None)
    os.environ.setdefault("QT_API", "pyside6")
    os.environ["SEEDANCE_SIMULATOR_INSTANT"] = "1"
    home = Path(tempfile.mkdtemp(prefix="seedance-shots-"))
    os.environ["SEEDANCE_HOME"] = str(home)
    for name in (
        "FAL_KEY",
        "SEEDANCE_FAL_QUEUE_URL",
        "SEEDANCE_FAL_REST_URL",
        "SEEDANCE_FAL_CDN_URL",
    ):
        os.environ.pop(name, None)
    out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtWidgets import QApplication

    from seedance_desktop.ui.event_loop import QtEventLoop

    app = QApplication([sys.argv[0]])
    app.setApplicationName("Seedance Desktop")
    # As in the app: closing the window ends `_shoot` (which closes the engine), not Qt's loop.
    app.setQuitOnLastWindowClosed(False)
    try:
        with asyncio.Runner(loop_factory=lambda: QtEventLoop(app)) as runner:
            runner.run(_shoot(app, home, out))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(f"Screenshots in {out}")
    return 0


async def _shoot(app: object, home: Path, out: Path) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from media_factory import make_audio, make_image, make_video

    from seedance_desktop.domain.endpoints import Mode
    from seedance_desktop.domain.shot import Shot
    from seedance_desktop.engine.states import JobState
    from seedance_desktop.paths import app_paths
    from seedance_desktop.runtime import running_engine
    from seedance_desktop.ui.main_window import MainWindow

    paths = app_paths().ensure()
    samples = home / "samples"
    samples.mkdir()
    hero = make_image(samples / "hero.png", 1024, 768, color=(210, 120, 60))
    dusk = make_image(samples / "dusk.jpg", 1024, 768, fmt="jpeg", color=(60, 90, 200))
    moves = make_video(samples / "moves.mp4", 832, 832, seconds=3.0)
    beat = make_audio(samples / "beat.wav", seconds=4.0)

    window = MainWindow(paths)
    window.resize(*SIZE)
    window.show()
    async with running_engine(paths, events=window.events) as runtime:
        window.attach(runtime)
        engine = runtime.engine
        shots = [
            Shot(Mode.TEXT_TO_VIDEO, prompt="A red fox runs through fresh snow at dawn, low "
                 "tracking shot, golden light", resolution="480p", duration="4", seed=11),
            Shot(Mode.IMAGE_TO_VIDEO, prompt="Slow push in as the sky turns from amber to blue",
                 resolution="480p", duration="4", start_image=str(hero), end_image=str(dusk)),
            Shot(Mode.REFERENCE_TO_VIDEO, prompt="The dancer from [Image1] performs the moves "
                 "from [Video1] to the beat of [Audio1]", resolution="480p", duration="5",
                 images=(str(hero),), videos=(str(moves),), audios=(str(beat),)),
        ]  # fmt: skip
        jobs = [job for shot in shots for job in await engine.enqueue(shot)]
        await engine.run_until_idle()
        engine.pause()
        await engine.enqueue(
            Shot(Mode.TEXT_TO_VIDEO, prompt="A lighthouse in a storm, waves crashing, night",
                 resolution="720p", duration="8")
        )  # fmt: skip
        window.compose.load_shot(shots[2])
        done = [j for j in jobs if engine.jobs.get(j.id).state is JobState.DONE]
        if done:
            window.show_result(done[-1].id)
        await asyncio.sleep(2.0)
        _save(window, out / "main-window.png")
        if done:  # the scene strip: the finished shots joined, one trimmed, then played
            scene = runtime.interface.create_sequence("Fox at dawn", [j.id for j in done])
            runtime.interface.trim_shot(scene.shots[0].id, 0.5, 3.5)
            window.strip.select(scene.id)
            window.strip.shots.setCurrentRow(1)
            window.strip.play_from(scene.starts_s()[1] - 0.5)
            await asyncio.sleep(4.0)
            _save(window, out / "sequence.png")
        window.open_settings()
        await asyncio.sleep(0.8)
        _save(window.settings_dialog, out / "settings.png")
        window.settings_dialog.close()
        window.close()
        await window.detach()


def _save(widget: object, path: Path) -> None:
    from PySide6.QtGui import QGuiApplication

    screen = QGuiApplication.primaryScreen()
    picture = screen.grabWindow(widget.winId())  # type: ignore[attr-defined]
    if picture.isNull():
        picture = widget.grab()  # type: ignore[attr-defined]
    picture.save(str(path))
    print(f"saved {path}")


if __name__ == "__main__":
    sys.exit(main())
