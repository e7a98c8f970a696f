"""Open the real window under Xvfb with sample data and save the screenshots the README shows.

    .venv/bin/python scripts/screenshots.py [OUT_DIR] [--only NAME ...]

Without a display it re-runs itself under `xvfb-run` (Debian package xvfb) on a 1920×1080 screen.
Everything runs on the bundled simulator in a temporary SEEDANCE_HOME: no key, no network, nothing
billed.

Each screenshot is one entry of SHOTS: a name (the PNG's file name without ".png") and an async
function that gets the Studio (the window, the running engine, the sample files) and saves its
picture with `studio.save(widget, name)`. To add one, write a function and append it to SHOTS;
shots run in order on the same window, so leave the window as you found it (size, tab, theme).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seedance_desktop.domain.shot import Shot
    from seedance_desktop.runtime import Runtime
    from seedance_desktop.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's code, not a copy installed in the virtualenv
sys.path.insert(1, str(ROOT / "tests"))  # sample media makers shared with the tests
SCREEN = (1920, 1080)
LAPTOP = (1366, 768)


@dataclass
class Studio:
    """What every shot function gets."""

    app: Any
    window: MainWindow
    runtime: Runtime
    samples: dict[str, Path]
    shots: dict[str, Shot]
    out: Path
    saved: list[Path] = field(default_factory=list)
    made: dict[str, Any] = field(default_factory=dict)  # sample work shared by several shots

    def save(self, widget: Any, name: str) -> Path:
        """The widget as on screen (the video too: a screen grab, not a widget render)."""
        from PySide6.QtGui import QGuiApplication

        path = self.out / f"{name}.png"
        screen = QGuiApplication.primaryScreen()
        picture = screen.grabWindow(widget.winId()) if widget.isWindow() else widget.grab()
        if picture.isNull():
            picture = widget.grab()
        picture.save(str(path))
        self.saved.append(path)
        print(f"saved {path} ({picture.width()}×{picture.height()})")
        return path

    async def settle(self, seconds: float = 0.6) -> None:
        """Let layouts, thumbnails and the player's frame arrive."""
        await asyncio.sleep(seconds)
        self.app.processEvents()

    def resize(self, size: tuple[int, int]) -> None:
        self.window.move(0, 0)
        self.window.resize(*size)


# The shots -------------------------------------------------------------------------------------


async def shot_main_window(studio: Studio) -> None:
    """1920×1080, dark, sample data: a reference-to-video shot in compose, a result playing."""
    from seedance_desktop.domain.endpoints import Mode

    studio.resize(SCREEN)
    studio.window.compose.tabs.setCurrentWidget(
        studio.window.compose.mode_tabs[Mode.REFERENCE_TO_VIDEO]
    )
    await studio.settle(1.5)
    studio.save(studio.window, "main-window")


async def shot_laptop(studio: Studio) -> None:
    """Exactly 1366×768: everything a person needs on the smallest common laptop screen."""
    studio.resize(LAPTOP)
    studio.window.reset_layout()
    await studio.settle(1.0)
    studio.save(studio.window, "laptop-1366x768")
    studio.resize(SCREEN)
    studio.window.reset_layout()


async def shot_reference_to_video(studio: Studio) -> None:
    """The compose panel: 3 images, 1 video, 1 audio and a prompt that uses them."""
    from seedance_desktop.domain.endpoints import Mode

    compose = studio.window.compose
    compose.tabs.setCurrentWidget(compose.mode_tabs[Mode.REFERENCE_TO_VIDEO])
    await studio.settle(0.8)
    studio.save(compose, "reference-to-video")


async def shot_light_theme(studio: Studio) -> None:
    from seedance_desktop.ui.theme import Appearance

    before = studio.window.theme.choice
    studio.window.theme.apply(Appearance.LIGHT)
    await studio.settle(1.0)
    studio.save(studio.window, "light-theme")
    studio.window.theme.apply(before)
    await studio.settle(0.3)


async def shot_settings(studio: Studio) -> None:
    studio.window.open_settings()
    await studio.settle(0.8)
    dialog = studio.window.settings_dialog
    studio.save(dialog, "settings")
    dialog.close()


async def _heron_takes(studio: Studio) -> list[Any]:
    """Three variations of one shot, made once for the judging shots (the queue paused after)."""
    if "heron" not in studio.made:
        from seedance_desktop.domain.endpoints import Mode
        from seedance_desktop.domain.shot import Shot

        engine = studio.runtime.engine
        prompt = "A heron lifts off a misty lake at sunrise, slow motion, mist curling over water"
        shot = Shot(Mode.TEXT_TO_VIDEO, prompt=prompt, resolution="480p", duration="4", seed=40)
        studio.made["heron"] = await engine.enqueue(shot, variations=3)
        engine.resume()
        await engine.run_until_idle()
        engine.pause()
    return studio.made["heron"]


async def shot_library_multiselect(studio: Studio) -> None:
    """Three variations in the library: several selected, one starred."""
    from PySide6.QtCore import QItemSelectionModel

    from seedance_desktop.engine.interface import LibraryFilter

    await _heron_takes(studio)
    window, interface = studio.window, studio.runtime.interface
    keeper = interface.library_page(LibraryFilter())[1]  # a heron take, near the top
    interface.star([keeper.job_id], True)
    await studio.settle(0.5)
    library = window.library
    library.stacks.setChecked(False)
    window.centre.setSizes([330, 560])
    selection, model = library.grid.selectionModel(), library.model
    for row in range(min(3, model.rowCount())):
        selection.select(model.index(row), QItemSelectionModel.SelectionFlag.Select)
    selection.setCurrentIndex(model.index(0), QItemSelectionModel.SelectionFlag.NoUpdate)
    await studio.settle(2.5)  # thumbnails load in a worker thread
    library.grid.viewport().update()
    await studio.settle(0.5)
    studio.save(window, "library-multiselect")
    library.stacks.setChecked(True)
    window.reset_layout()


async def shot_compare(studio: Studio) -> None:
    """Two variations side by side, on one clock."""
    takes = await _heron_takes(studio)
    window, interface = studio.window, studio.runtime.interface
    left, right = (interface.library_entry(job.id) for job in takes[:2])
    window.open_compare(left, right, [job.id for job in takes])
    compare = window.compare_window
    compare.resize(1500, 720)
    compare.seek_frame(54)
    await studio.settle(1.5)
    studio.save(compare, "compare")
    compare.close()


async def shot_player_fullscreen(studio: Studio) -> None:
    """The player full screen, with its controls over the picture and an in/out range."""
    from PySide6.QtCore import Qt

    takes = await _heron_takes(studio)
    entry = studio.runtime.interface.library_entry(takes[1].id)
    player = studio.window.player
    player.load(entry.path, entry.thumbnail)
    player.seek_frame(60)
    player.set_in()
    player.seek_frame(84)
    player.set_out()
    player.seek_frame(70)
    player.enter_fullscreen()
    player.fullscreen.setWindowState(Qt.WindowState.WindowFullScreen)
    await studio.settle(1.5)
    studio.save(player.fullscreen, "player-fullscreen")
    player.leave_fullscreen()


async def shot_fit(studio: Studio) -> None:
    """The fit dialog on a phone clip: 1920×1080, 24 s, too many pixels and too long."""
    from fit_media import make_phone_clip  # tests/: the sample phone clip

    from seedance_desktop.domain.endpoints import Mode
    from seedance_desktop.domain.shot import Shot

    clip = make_phone_clip(studio.samples["dancer"].parent / "PXL_20260412_dance.mp4")
    compose = studio.window.compose
    shot = Shot(Mode.REFERENCE_TO_VIDEO, prompt="The dancer from [Image1] moves like [Video1]",
                resolution="720p", duration="5", aspect_ratio="16:9",
                images=(str(studio.samples["dancer"]),), videos=(str(clip),))  # fmt: skip
    compose.load_shot(shot)
    model = compose.models[Mode.REFERENCE_TO_VIDEO]
    for _ in range(100):
        if not model.awaiting_probe():
            break
        await studio.settle(0.1)
    await studio.settle(0.5)
    dialog = compose.fitting.fit_one(model, "video_urls", str(clip))
    dialog.start.setValue(6.0)
    dialog.end.setValue(14.0)
    await studio.settle(2.5)  # the filmstrip is read off the UI thread
    studio.save(dialog, "fit")
    dialog.reject()
    model.undo_load()  # the sample shot as it was


async def shot_sequence(studio: Studio) -> None:
    """The scene strip under the player: finished shots joined, one trimmed, played at a cut."""
    from seedance_desktop.engine.interface import LibraryFilter

    interface, window = studio.runtime.interface, studio.window
    results = [e.job_id for e in interface.library_page(LibraryFilter(limit=3))][::-1]
    if not results:
        return
    scene = interface.create_sequence("Fox at dawn", results)
    interface.trim_shot(scene.shots[0].id, 0.5, 3.5)
    window.strip.select(scene.id)
    window.strip.shots.setCurrentRow(min(1, len(results) - 1))
    window.strip.play_from(scene.starts_s()[min(1, len(results) - 1)] - 0.5)
    await studio.settle(4.0)
    studio.save(window, "sequence")


ShotFunction = Callable[[Studio], Awaitable[None]]
SHOTS: list[tuple[str, ShotFunction]] = [
    ("main-window", shot_main_window),
    ("laptop-1366x768", shot_laptop),
    ("reference-to-video", shot_reference_to_video),
    ("light-theme", shot_light_theme),
    ("settings", shot_settings),
    ("library-multiselect", shot_library_multiselect),
    ("compare", shot_compare),
    ("player-fullscreen", shot_player_fullscreen),
    ("fit", shot_fit),
    ("sequence", shot_sequence),
]


# Running them ----------------------------------------------------------------------------------


def main() -> int:
    args = sys.argv[1:]
    only = {args[i + 1] for i, a in enumerate(args[:-1]) if a == "--only"}
    positional = [
        a for i, a in enumerate(args) if a != "--only" and (i == 0 or args[i - 1] != "--only")
    ]
    out = Path(positional[0] if positional else ROOT / "docs" / "screenshots").resolve()
    if not os.environ.get("DISPLAY"):
        xvfb = shutil.which("xvfb-run")
        if xvfb is None:
            print("Needs a display or xvfb-run (apt-get install xvfb xauth).", file=sys.stderr)
            return 1
        screen = f"-screen 0 {SCREEN[0]}x{SCREEN[1]}x24"
        return subprocess.call([xvfb, "-a", "-s", screen, sys.executable, __file__, *args])
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
    chosen = [(n, f) for n, f in SHOTS if not only or n in only]
    try:
        with asyncio.Runner(loop_factory=lambda: QtEventLoop(app)) as runner:
            runner.run(_shoot(app, home, out, chosen))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(f"Screenshots in {out}")
    return 0


def _picture(path: Path, size: tuple[int, int], top: tuple[int, int, int],
             bottom: tuple[int, int, int], sun: tuple[float, float, float]) -> Path:  # fmt: skip
    """A sample picture with some shape to it: a sky gradient, a sun, a dark horizon."""
    import numpy as np
    from PIL import Image

    width, height = size
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    sky = np.array(top, np.float32) * (1 - y) + np.array(bottom, np.float32) * y
    pixels = np.broadcast_to(sky, (height, width, 3)).copy()
    yy, xx = np.mgrid[0:height, 0:width]
    cx, cy, radius = sun[0] * width, sun[1] * height, sun[2] * width
    glow = np.clip(1 - np.hypot(xx - cx, yy - cy) / radius, 0, 1)[..., None]
    pixels = pixels * (1 - glow) + np.array((255, 236, 190), np.float32) * glow
    hills = height * (0.72 + 0.05 * np.sin(xx / width * 7.0))
    pixels[yy > hills] = (22, 24, 34)
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB").save(path)
    return path


def _beat(path: Path, seconds: float = 4.0, rate: int = 44100) -> Path:
    """A drum-like sample (decaying thumps on the beat over a soft pad): a waveform with shape."""
    import wave

    import numpy as np

    t = np.arange(int(seconds * rate)) / rate
    since_beat = t % 0.5
    kick = np.sin(2 * np.pi * 60 * since_beat) * np.exp(-since_beat * 14)
    pad = 0.15 * np.sin(2 * np.pi * 220 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.25 * t))
    samples = np.clip(0.8 * kick + pad, -1, 1)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((samples * 32767).astype("<i2").tobytes())
    return path


def _clip(path: Path, picture: Path, seconds: float = 3.0, fps: int = 24) -> Path:
    """A sample video: a slow push in on a picture (832×832, as fal wants reference videos)."""
    from fractions import Fraction

    import av
    import numpy as np
    from PIL import Image

    source = Image.open(picture).convert("RGB")
    frames = round(seconds * fps)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 832, 832, "yuv420p"
        for index in range(frames):
            zoom = 1 + 0.25 * index / frames
            w, h = source.width / zoom, source.height / zoom
            box = ((source.width - w) / 2, (source.height - h) / 2,
                   (source.width + w) / 2, (source.height + h) / 2)  # fmt: skip
            image = source.resize((832, 832), box=box)
            frame = av.VideoFrame.from_ndarray(np.asarray(image), format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


async def _shoot(app: Any, home: Path, out: Path, chosen: list[tuple[str, ShotFunction]]) -> None:
    from seedance_desktop.domain.endpoints import Mode
    from seedance_desktop.domain.shot import Shot
    from seedance_desktop.engine.states import JobState
    from seedance_desktop.paths import app_paths
    from seedance_desktop.runtime import running_engine
    from seedance_desktop.ui.main_window import MainWindow

    paths = app_paths().ensure()
    folder = home / "samples"
    folder.mkdir()
    samples = {
        "dancer": _picture(folder / "dancer.png", (1024, 768), (40, 60, 140), (240, 140, 90),
                           (0.3, 0.45, 0.22)),
        "street": _picture(folder / "street.jpg", (1024, 768), (20, 30, 60), (120, 80, 160),
                           (0.7, 0.35, 0.15)),
        "costume": _picture(folder / "costume.png", (768, 1024), (150, 40, 60), (250, 190, 120),
                            (0.5, 0.3, 0.3)),
    }  # fmt: skip
    samples["moves"] = _clip(folder / "moves.mp4", samples["street"])
    samples["beat"] = _beat(folder / "beat.wav")
    s = {k: str(v) for k, v in samples.items()}
    shots = {
        "text": Shot(Mode.TEXT_TO_VIDEO, prompt="A red fox runs through fresh snow at dawn, low "
                     "tracking shot, golden light", resolution="480p", duration="4", seed=11),
        "image": Shot(Mode.IMAGE_TO_VIDEO, prompt="Slow push in as the sky turns from amber to "
                      "blue", resolution="480p", duration="4", start_image=s["dancer"],
                      end_image=s["street"]),
        "reference": Shot(Mode.REFERENCE_TO_VIDEO, prompt="The dancer from [Image1], dressed as "
                          "in [Image3], performs the moves from [Video1] on the street from "
                          "[Image2], cutting on the beat of [Audio1]. Handheld camera, neon "
                          "light, light rain.", resolution="480p", duration="5",
                          images=(s["dancer"], s["street"], s["costume"]), videos=(s["moves"],),
                          audios=(s["beat"],)),
    }  # fmt: skip

    window = MainWindow(paths)
    window.resize(*SCREEN)
    window.move(0, 0)
    window.show()
    async with running_engine(paths, events=window.events) as runtime:
        window.attach(runtime)
        engine = runtime.engine
        jobs = [
            job
            for key in ("text", "image", "reference")
            for job in await engine.enqueue(shots[key])
        ]
        await engine.run_until_idle()
        engine.pause()
        await engine.enqueue(
            Shot(Mode.TEXT_TO_VIDEO, prompt="A lighthouse in a storm, waves crashing, night",
                 resolution="720p", duration="8")
        )  # fmt: skip
        window.compose.load_shot(shots["reference"])
        window.compose.mode_tabs[Mode.REFERENCE_TO_VIDEO].variations.setValue(2)
        done = [j for j in jobs if engine.jobs.get(j.id).state is JobState.DONE]
        if done:
            window.show_result(done[-1].id)
        studio = Studio(app, window, runtime, samples, shots, out)
        await studio.settle(2.0)
        for _name, function in chosen:
            await function(studio)
        window.close()
        await window.detach()


if __name__ == "__main__":
    sys.exit(main())
