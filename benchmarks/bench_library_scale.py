"""5. Library scale: a library of 100,000 results with thumbnails, against an empty library.
Reported: the time for the library to paint its first page (the query for a fresh listing, the
model reset and the grid painted, as when the library opens, a filter or the sort changes),
the time to show the whole view (built, attached, first page painted), search latency (typing
settled to results painted; the view's 200 ms typing debounce is left out), and heartbeat
lateness while the grid is scrolled a page per frame. Bars: the first page within one frame
(≤ 16 ms, median), every search under 50 ms.

The library is the app's own database and files: rows inserted with the app's schema, one real
video and thumbnail hard-linked under every entry's name (populate.py). The view is the app's
LibraryView over a real (not started) Engine on that database.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from common import Entry, alternate_medians, entry, main
from qt_app import run_qt

SEARCHES = ("fox", "heron lake", "neon alley", "golden hour", "glass jelly", "zebra")


def open_engine(home: Path) -> object:
    from seedance_desktop.engine.database import Database
    from seedance_desktop.engine.engine import Engine
    from seedance_desktop.fal.config import FalConfig
    from seedance_desktop.paths import AppPaths

    paths = AppPaths(home / "data", home / "cache", home / "config", home / "logs").ensure()
    fal = FalConfig(queue_url="http://127.0.0.1:9", rest_url="http://127.0.0.1:9",
                    cdn_url="http://127.0.0.1:9")  # fmt: skip
    return Engine(Database.open(paths.database), paths, fal)


async def painted(view: object) -> None:
    """Let the loop run what the view posted (layout, update requests), then paint its grid.
    Not QApplication.processEvents(): called in a task, that would step other tasks inside it."""
    await asyncio.sleep(0)
    view.grid.viewport().repaint()  # type: ignore[attr-defined]


async def show_view(engine: object) -> tuple[float, object]:
    """Seconds from building the view to its first page painted, and the view."""
    from seedance_desktop.engine.events import EventBus
    from seedance_desktop.engine.interface import EngineInterface
    from seedance_desktop.ui.bridge import EngineBridge
    from seedance_desktop.ui.library_view import LibraryView
    from seedance_desktop.ui.tasks import TaskRunner

    start = time.perf_counter()
    view = LibraryView(EngineBridge(EventBus()), TaskRunner())
    view.resize(1000, 700)
    view.show()
    view.attach(EngineInterface(engine))  # type: ignore[arg-type]
    await painted(view)
    return time.perf_counter() - start, view


async def first_page(view: object) -> float:
    """Seconds from asking for a fresh listing to its first page painted."""
    start = time.perf_counter()
    view.reload()  # type: ignore[attr-defined]
    await painted(view)
    return time.perf_counter() - start


async def search(view: object, text: str) -> float:
    view.search.setText(text)  # type: ignore[attr-defined]
    view._search_timer.stop()  # type: ignore[attr-defined] # the debounce is not the search
    start = time.perf_counter()
    view.reload()  # type: ignore[attr-defined]
    await painted(view)
    return time.perf_counter() - start


async def scroll(view: object, frames: int) -> dict[str, float]:
    from heartbeat import scroll_pages

    lateness = await scroll_pages(view.grid.verticalScrollBar(), frames)  # type: ignore[attr-defined]
    return {**lateness, "loaded": float(view.model.rowCount())}  # type: ignore[attr-defined]


async def measure(empty: object, full: object, runs: int, frames: int) -> dict[str, object]:
    empty_s, full_s = await alternate_medians(show_view, empty, full, runs)
    _, view = await show_view(full)
    pages = [await first_page(view) for _ in range(runs * 4)]
    searches = {text: statistics.median([await search(view, text) for _ in range(3)])
                for text in SEARCHES}  # fmt: skip
    await search(view, "")
    scrolled = await scroll(view, frames)
    view.close()  # type: ignore[attr-defined]
    return {"empty": empty_s, "full": full_s,
            "page": statistics.median(pages), "searches": searches,
            "scroll": scrolled}  # fmt: skip


def run(quick: bool = False) -> list[Entry]:
    from populate import fill_history

    size, runs, frames = (300, 1, 20) if quick else (100_000, 5, 300)
    with tempfile.TemporaryDirectory(prefix="seedance-bench-library-") as tmp:
        root = Path(tmp)
        empty, full = open_engine(root / "empty"), open_engine(root / "full")
        fill_history(full.paths, size)  # type: ignore[attr-defined]
        figures = run_qt(lambda: measure(empty, full, runs, frames))
        for engine in (empty, full):
            engine.db.close()  # type: ignore[attr-defined]
    empty_s, full_s, page_s = figures["empty"], figures["full"], figures["page"]
    searches = figures["searches"]
    scrolled = figures["scroll"]
    assert isinstance(empty_s, float) and isinstance(full_s, float) and isinstance(page_s, float)
    assert isinstance(searches, dict) and isinstance(scrolled, dict)
    slowest = max(searches.values()) * 1000
    return [
        entry(f"library: first page painted, {size:,} results", page_s * 1000, "ms", None,
              "≤ 16 ms (one frame)", page_s <= 0.016),
        entry(f"library: view built and shown, {size:,} results", full_s * 1000, "ms",
              empty_s * 1000),
        entry("library: search, slowest of 6 queries", slowest, "ms", None, "< 50 ms",
              slowest < 50),
        entry("library: search, median of 6 queries",
              statistics.median(searches.values()) * 1000, "ms"),
        entry("library: lateness scrolling a page per frame, p99", scrolled["p99"], "ms"),
        entry("library: lateness scrolling a page per frame, max", scrolled["max"], "ms"),
        entry("library: results loaded while scrolling", scrolled["loaded"], "items"),
    ]  # fmt: skip


if __name__ == "__main__":
    main(run, "5. Library scale")
