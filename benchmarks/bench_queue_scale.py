"""7. Queue scale: the queue panel with 10,000 jobs of history. Reported: the time from the jobs
being read (the data is there) to the panel's first page painted — the model filled and the
table's visible rows laid out and painted — against the same panel with one job; and heartbeat
lateness while the table scrolls a page per frame. Bar: the first page within one frame (16 ms).

The jobs are the app's own rows (populate.py) read through the window's engine interface, and the
panel is the app's QueuePanel over a real (not started) Engine on that database.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench_library_scale import open_engine
from common import Entry, alternate_medians, entry, main
from heartbeat import scroll_pages
from qt_app import run_qt


async def first_page(engine: object) -> tuple[float, object]:
    """Seconds from the jobs in hand to the first page painted, and the panel."""
    from seedance_desktop.engine.events import EventBus
    from seedance_desktop.engine.interface import EngineInterface
    from seedance_desktop.ui.bridge import EngineBridge
    from seedance_desktop.ui.queue_panel import QueuePanel
    from seedance_desktop.ui.tasks import TaskRunner

    interface = EngineInterface(engine)  # type: ignore[arg-type]
    jobs = interface.jobs()  # the data is there; what follows is the window's work
    panel = QueuePanel(EngineBridge(EventBus()), TaskRunner())
    panel.resize(420, 700)
    panel.show()
    await asyncio.sleep(0)
    start = time.perf_counter()
    panel.model.bind(interface.wait_reason, interface.thumbnail_path)
    panel.model.reset(jobs)
    panel.table.viewport().repaint()
    return time.perf_counter() - start, panel


async def measure(small: object, full: object, runs: int, frames: int) -> dict[str, object]:
    small_s, full_s = await alternate_medians(first_page, small, full, runs)
    _, panel = await first_page(full)
    scrolled = await scroll_pages(panel.table.verticalScrollBar(), frames)  # type: ignore[attr-defined]
    panel.close()  # type: ignore[attr-defined]
    return {"small": small_s, "full": full_s, "scroll": scrolled}


def run(quick: bool = False) -> list[Entry]:
    from populate import fill_history

    size, runs, frames = (300, 1, 20) if quick else (10_000, 7, 300)
    with tempfile.TemporaryDirectory(prefix="seedance-bench-queue-") as tmp:
        root = Path(tmp)
        small, full = open_engine(root / "small"), open_engine(root / "full")
        fill_history(small.paths, 1)  # type: ignore[attr-defined]
        fill_history(full.paths, size)  # type: ignore[attr-defined]
        figures = run_qt(lambda: measure(small, full, runs, frames))
        for engine in (small, full):
            engine.db.close()  # type: ignore[attr-defined]
    small_s, full_s, scrolled = figures["small"], figures["full"], figures["scroll"]
    assert isinstance(small_s, float) and isinstance(full_s, float)
    assert isinstance(scrolled, dict)
    return [
        entry(f"queue: first page painted, {size:,} jobs", full_s * 1000, "ms", small_s * 1000,
              "≤ 16 ms (one frame)", full_s * 1000 <= 16),
        entry("queue: lateness scrolling a page per frame, p99", scrolled["p99"], "ms"),
        entry("queue: lateness scrolling a page per frame, max", scrolled["max"], "ms"),
    ]  # fmt: skip


if __name__ == "__main__":
    main(run, "7. Queue scale")
