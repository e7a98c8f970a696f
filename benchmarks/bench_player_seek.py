"""7. Player seeks: the time from asking the app's player for a random frame of a 15 s 720p
result (what the bundled simulator renders: x264, a keyframe every 250 frames) to that frame on
its surface, p95 over many seeks. Bar: under 100 ms.

The frame first shown comes from the player's scrub cache (every frame at up to 960 px, JPEG in
memory, made by one decode right after loading); the exact full-size decode from the keyframe
before it then replaces it. Both are reported, as is the time for the cache to be complete,
one-frame steps (a decoder kept open decodes one frame), and the time from selecting a result to
its length and first frame being shown.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path

from common import Entry, entry, main, percentile
from qt_app import run_qt

SECONDS, WIDTH, HEIGHT = 15.0, 1280, 720


def render_result(folder: Path, seconds: float) -> Path:
    from seedance_desktop.simulator.render import RenderSpec, render

    spec = RenderSpec(WIDTH, HEIGHT, seconds, "A heron lifts off a misty lake", seed=7)
    return render(spec, folder / "result.mp4")


async def shown(player: object, frame: int, exact: bool = True) -> float:
    """Waits until `frame` is on screen (exact: decoded from the file, else from the cache
    too); the seconds it took from now."""
    start = time.perf_counter()
    deadline = start + 10.0
    while player.shown_frame != frame and (  # type: ignore[attr-defined]
        exact or player.preview_frame != frame  # type: ignore[attr-defined]
    ):
        if time.perf_counter() > deadline:
            raise RuntimeError(f"frame {frame} never shown")
        await asyncio.sleep(0.0005)
    return time.perf_counter() - start


async def measure(video: Path, seeks: int) -> dict[str, list[float]]:
    from seedance_desktop.ui.player import PlayerWidget

    player = PlayerWidget()
    player.resize(960, 600)
    player.show()
    opened = []
    for _ in range(3):
        start = time.perf_counter()
        player.load(video)
        await shown(player, 0)
        opened.append(time.perf_counter() - start)
    frames = player.timing.frames  # type: ignore[union-attr]
    cache = player.fetcher.cache
    start = time.perf_counter()
    while len(cache.frames) < frames:  # type: ignore[union-attr] # noqa: ASYNC110 - polled
        await asyncio.sleep(0.005)
    cached = [time.perf_counter() - start + opened[-1]]
    rng = random.Random(12)
    jumps, exact, steps = [], [], []
    for _ in range(seeks):
        target = rng.randrange(frames)
        if target == player.frame:
            continue
        start = time.perf_counter()
        player.seek_frame(target)
        await shown(player, target, exact=False)
        jumps.append(time.perf_counter() - start)
        await shown(player, target)
        exact.append(time.perf_counter() - start)
    player.seek_frame(0)
    await shown(player, 0)
    for frame in range(1, min(frames, seeks + 1)):
        start = time.perf_counter()
        player.step(1)
        await shown(player, frame)
        steps.append(time.perf_counter() - start)
    player.release()
    player.close()
    return {"jumps": jumps, "exact": exact, "steps": steps, "opened": opened, "cached": cached}


def run(quick: bool = False) -> list[Entry]:
    seconds, seeks = (2.0, 10) if quick else (SECONDS, 60)
    with tempfile.TemporaryDirectory(prefix="seedance-bench-seek-") as tmp:
        video = render_result(Path(tmp), seconds)
        figures = run_qt(lambda: measure(video, seeks))
    jumps = [s * 1000 for s in figures["jumps"]]
    exact = [s * 1000 for s in figures["exact"]]
    steps = [s * 1000 for s in figures["steps"]]
    opened = [s * 1000 for s in figures["opened"]]
    p95 = percentile(jumps, 95)
    size = f"{seconds:.0f} s {HEIGHT}p result"
    return [
        entry(f"player: random frame of a {size} on screen, p95", p95, "ms", None, "< 100 ms",
              p95 < 100),
        entry(f"player: random frame of a {size}, median", percentile(jumps, 50), "ms"),
        entry(f"player: random frame of a {size}, exact full-size decode, p95",
              percentile(exact, 95), "ms"),
        entry("player: scrub cache complete after loading", figures["cached"][0] * 1000, "ms"),
        entry("player: one-frame step on screen, p95", percentile(steps, 95), "ms"),
        entry("player: result selected to length and first frame shown, median",
              percentile(opened, 50), "ms"),
    ]  # fmt: skip


if __name__ == "__main__":
    main(run, "7. Player seeks")
