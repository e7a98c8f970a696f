"""Cyclic garbage collection on the Qt thread only.

Python's collector runs in whichever thread happens to allocate when a threshold is crossed: here
often the simulator's renderers or the engine's worker threads. A QObject it frees there is
destroyed on the wrong thread; Qt cannot unregister that object's timers from there, and later
fires one at freed memory (a crash the test suite hit, in QTimerInfoList::activateTimers). So
automatic collection is switched off while the window runs, and a timer on the Qt thread collects
whenever the collector's own thresholds say a generation is due.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class MainThreadCollector(QObject):
    def __init__(self, interval_ms: int = 500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect_if_due)
        self._timer.start(interval_ms)

    def collect_if_due(self) -> None:
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return

    def stop(self) -> None:
        """Back to automatic collection, after one last collection here."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
