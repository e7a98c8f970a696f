"""A heartbeat in the Qt event loop: how late the loop serves a timer while the app works.

Each beat records by how much more than `interval_ms` it came after the previous one. Anything
that blocks the loop (work on the UI thread, a long-held GIL) shows up as lateness; p99 under
16 ms means the window keeps up with a 60 Hz display.
"""

from __future__ import annotations

import time

from common import percentile
from PySide6.QtCore import QObject, Qt, QTimer


class Heartbeat(QObject):
    """A repeating precise timer; a beat's lateness is how much longer than `interval_ms` it
    came after the previous one. (Repeating, so a beat makes no Qt call at all.)"""

    def __init__(self, interval_ms: int = 5) -> None:
        super().__init__()
        self.interval_s = interval_ms / 1000
        self.lateness_ms: list[float] = []
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)
        self._last = 0.0

    def start(self) -> None:
        self.lateness_ms.clear()
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _beat(self) -> None:
        now = time.perf_counter()
        self.lateness_ms.append(max(0.0, (now - self._last - self.interval_s) * 1000))
        self._last = now

    def summary(self) -> dict[str, float]:
        samples = self.lateness_ms
        return {
            "p50": percentile(samples, 50),
            "p99": percentile(samples, 99),
            "max": max(samples, default=0.0),
            "beats": float(len(samples)),
        }


async def scroll_pages(scroll_bar: object, frames: int) -> dict[str, float]:
    """Scroll `scroll_bar` a page per frame (16 ms) for `frames` frames; the loop's lateness."""
    import asyncio

    from PySide6.QtCore import QTimer

    beat = Heartbeat(interval_ms=5)
    done = asyncio.get_running_loop().create_future()
    count = [0]

    def step() -> None:
        scroll_bar.setValue(scroll_bar.value() + scroll_bar.pageStep())  # type: ignore[attr-defined]
        count[0] += 1
        if count[0] >= frames and not done.done():
            done.set_result(None)

    timer = QTimer()
    timer.setInterval(16)
    timer.timeout.connect(step)
    beat.start()
    timer.start()
    await done
    timer.stop()
    beat.stop()
    return beat.summary()
