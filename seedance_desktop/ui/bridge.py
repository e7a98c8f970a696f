"""The thin Qt adapter over the engine's events: Qt signals the widgets connect to.

The engine runs on the same thread (qasync drives asyncio from Qt's loop), so events are simply
re-emitted as signals; widgets never call into the engine's internals directly.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from seedance_desktop.engine.events import (
    ConnectivityChanged,
    Event,
    EventBus,
    JobAdded,
    JobChanged,
    JobProgress,
    JobRemoved,
    LibraryChanged,
    QueueChanged,
    SequencesChanged,
    SpendChanged,
)


class EngineBridge(QObject):
    jobAdded = Signal(object)  # Job
    jobChanged = Signal(object)  # Job
    jobRemoved = Signal(int)
    jobProgress = Signal(object)  # JobProgress
    connectivityChanged = Signal(bool, str)
    queueChanged = Signal(bool)
    spendChanged = Signal(object)  # SpendTotals
    libraryChanged = Signal(object)  # job id or None
    sequencesChanged = Signal(object)  # sequence id or None

    def __init__(self, events: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe = events.subscribe(self._on_event)

    def detach(self) -> None:
        self._unsubscribe()

    def _on_event(self, event: Event) -> None:
        if isinstance(event, JobAdded):
            self.jobAdded.emit(event.job)
        elif isinstance(event, JobChanged):
            self.jobChanged.emit(event.job)
        elif isinstance(event, JobRemoved):
            self.jobRemoved.emit(event.job_id)
        elif isinstance(event, JobProgress):
            self.jobProgress.emit(event)
        elif isinstance(event, ConnectivityChanged):
            self.connectivityChanged.emit(event.online, event.reason or "")
        elif isinstance(event, QueueChanged):
            self.queueChanged.emit(event.paused)
        elif isinstance(event, SpendChanged):
            self.spendChanged.emit(event.totals)
        elif isinstance(event, LibraryChanged):
            self.libraryChanged.emit(event.job_id)
        elif isinstance(event, SequencesChanged):
            self.sequencesChanged.emit(event.sequence_id)
