"""The main window: compose on the left, the player and the library in the middle, the queue on
the right. It observes the engine through the bridge and holds no business rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QSplitter, QStatusBar, QWidget

from seedance_desktop import __version__
from seedance_desktop.engine.events import EventBus
from seedance_desktop.paths import AppPaths
from seedance_desktop.ui.bridge import EngineBridge
from seedance_desktop.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from seedance_desktop.runtime import Runtime


class MainWindow(QMainWindow):
    closed = Signal()

    def __init__(self, paths: AppPaths) -> None:
        super().__init__()
        self.paths = paths
        self.events = EventBus()
        self.tasks = TaskRunner(self)
        self.bridge = EngineBridge(self.events, self)
        self.runtime: Runtime | None = None
        self.settings = QSettings(str(paths.config / "window.ini"), QSettings.Format.IniFormat)
        self.setWindowTitle("Seedance Desktop")
        self.resize(1400, 860)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.setCentralWidget(self.splitter)
        self._placeholder = QLabel("Opening your library…")
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.splitter.addWidget(self._placeholder)

        self.backend_badge = QLabel("")
        self.backend_badge.setObjectName("backendBadge")
        status = QStatusBar(self)
        status.addPermanentWidget(self.backend_badge)
        self.setStatusBar(status)
        self.tasks.failed.connect(self._show_task_error)
        self._build_menus()
        self._restore_layout()

    # Life cycle --------------------------------------------------------------------------------

    def attach(self, runtime: Runtime) -> None:
        """The engine is ready: build the panels that need it."""
        self.runtime = runtime
        self.backend_badge.setText(f"Backend: {runtime.backend.label}")
        if runtime.notice:
            QMessageBox.warning(self, "Seedance Desktop", runtime.notice)
        self.statusBar().showMessage("Ready", 3000)

    async def detach(self) -> None:
        await self.tasks.cancel_all()
        self.bridge.detach()
        self.runtime = None

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_layout()
        super().closeEvent(event)
        self.closed.emit()

    # Layout persistence ------------------------------------------------------------------------

    def _restore_layout(self) -> None:
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = self.settings.value("splitter")
        if isinstance(state, QByteArray):
            self.splitter.restoreState(state)

    def _save_layout(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("splitter", self.splitter.saveState())
        self.settings.sync()

    # Menus -------------------------------------------------------------------------------------

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About Seedance Desktop", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _about(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("About Seedance Desktop")
        box.setText(
            f"Seedance Desktop {__version__}\n\nMake videos with ByteDance Seedance 2.0 on fal."
        )
        box.open()

    def _show_task_error(self, what: str, message: str) -> None:
        self.statusBar().showMessage(f"{what}: {message}", 10_000)

    def set_panels(self, *panels: QWidget) -> None:
        """Replace the central panels (compose, centre, queue) keeping saved sizes."""
        self._placeholder.setParent(None)
        for panel in panels:
            self.splitter.addWidget(panel)
        state = self.settings.value("splitter")
        if isinstance(state, QByteArray):
            self.splitter.restoreState(state)
