"""The main window: compose on the left, the player over the library in the middle, the queue on
the right. The frame paints first; the panels are built right after the first paint (their
modules are most of the start-up cost) and work before the engine has opened, offline too. The
engine is attached when it is ready. The window observes the engine through the bridge and holds
no business rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QGuiApplication,
    QKeySequence,
    QPaintEvent,
    QShowEvent,
)
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QSplitter, QStatusBar, QWidget

from seedance_desktop import __version__
from seedance_desktop.backend import BackendKind
from seedance_desktop.engine.events import EventBus
from seedance_desktop.engine.interface import (
    AppPreferences,
    EngineSettings,
    SpendTotals,
    spend_line,
)
from seedance_desktop.paths import AppPaths
from seedance_desktop.ui.bridge import EngineBridge
from seedance_desktop.ui.tasks import TaskRunner
from seedance_desktop.ui.theme import Appearance, theme

if TYPE_CHECKING:
    from seedance_desktop.engine.interface import LibraryEntry
    from seedance_desktop.runtime import Runtime
    from seedance_desktop.ui.compose.panel import ComposePanel
    from seedance_desktop.ui.library_view import LibraryView
    from seedance_desktop.ui.player import PlayerWidget
    from seedance_desktop.ui.queue_panel import QueuePanel


DEFAULT_SIZE = (1400, 860)  # clamped to the screen's available area
PANEL_SHORTCUTS = (  # View menu: each panel can be hidden and shown again
    ("compose", "Compose panel", "Ctrl+Shift+C"),
    ("player", "Player", "Ctrl+Shift+P"),
    ("library", "Library", "Ctrl+Shift+L"),
    ("sequence", "Sequence strip", "Ctrl+Shift+S"),
    ("queue", "Queue panel", "Ctrl+Shift+Q"),
)


class MainWindow(QMainWindow):
    closed = Signal()

    def __init__(self, paths: AppPaths) -> None:
        super().__init__()
        self.paths = paths
        self.events = EventBus()
        self.tasks = TaskRunner(self)
        self.bridge = EngineBridge(self.events, self)
        self.runtime: Runtime | None = None
        self.preferences = AppPreferences()
        self.settings = QSettings(str(paths.config / "window.ini"), QSettings.Format.IniFormat)
        self.theme = theme()
        self.theme.apply(Appearance.parse(self.settings.value("appearance", "system")))
        self.setWindowTitle("Seedance Desktop")
        self.resize(*DEFAULT_SIZE)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.setChildrenCollapsible(False)  # a dragged handle never loses a panel
        self.setCentralWidget(self.splitter)
        self._placeholder = QLabel("Opening Seedance Desktop…")
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.splitter.addWidget(self._placeholder)
        self.backend_badge = QLabel("Starting…")
        self.backend_badge.setObjectName("backendBadge")
        self.spend_line = QLabel("")  # in the status bar: visible whatever panel is hidden
        self.spend_line.setObjectName("spend")
        self.spend_line.setAccessibleName("Spend")
        status = QStatusBar(self)
        status.addPermanentWidget(self.spend_line)
        status.addPermanentWidget(self.backend_badge)
        self.setStatusBar(status)
        self.tasks.failed.connect(self._show_task_error)
        self._built = False
        self._shown = False
        self._build_menus()
        self._restore_geometry()

    def paintEvent(self, event: QPaintEvent) -> None:  # Qt's name
        # Not an `event()` override: every event, even the deferred delete that destroys the
        # media player, would then pass through Python holding the GIL, and the player's audio
        # thread needs the GIL to finish (a hang on close).
        super().paintEvent(event)
        if not self._built:
            QTimer.singleShot(0, self.build_panels)  # once the first frame is on screen

    def build_panels(self) -> None:
        """Build the panels (once): right after the first paint, or when first needed."""
        if self._built:
            return
        self._built = True
        from seedance_desktop.ui.compose.panel import ComposePanel
        from seedance_desktop.ui.library_view import LibraryView
        from seedance_desktop.ui.player import PlayerWidget
        from seedance_desktop.ui.queue_panel import QueuePanel
        from seedance_desktop.ui.sequence_strip import SequenceStrip

        self.compose: ComposePanel = ComposePanel(self.paths, self.tasks, self)
        self.player: PlayerWidget = PlayerWidget(self)
        self.library: LibraryView = LibraryView(self.bridge, self.tasks, self)
        self.queue: QueuePanel = QueuePanel(self.bridge, self.tasks, self)
        self.centre = QSplitter(Qt.Orientation.Vertical, self)
        self.centre.setObjectName("centreSplitter")
        self.centre.setChildrenCollapsible(False)
        self.strip: SequenceStrip = SequenceStrip(self.bridge, self.tasks, self.player, self)
        self.centre.addWidget(self.player)
        self.centre.addWidget(self.strip)
        self.centre.addWidget(self.library)
        self._placeholder.setParent(None)
        for panel in (self.compose, self.centre, self.queue):
            self.splitter.addWidget(panel)
        for panel, width in ((self.compose, 340), (self.centre, 320), (self.queue, 260)):
            panel.setMinimumWidth(width)
        self._default_sizes()
        self.queue.openResult.connect(self.show_result)
        self.library.selected.connect(self._play_entry)
        self.library.reuseRequested.connect(self.compose.load_shot)
        self.library.continueRequested.connect(self.compose.load_shot)
        self.strip.composeRequested.connect(self.compose.load_shot)
        self.strip.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self._build_panel_actions()
        self._build_judging()
        self._restore_layout()
        self.compose.current_tab().prompt.setFocus()  # type straight away
        if self.runtime is not None:
            self._attach_panels()

    # Life cycle --------------------------------------------------------------------------------

    def attach(self, runtime: Runtime) -> None:
        """The engine has opened: the panels that need it come alive."""
        self.runtime = runtime
        self.preferences = runtime.interface.preferences()
        if self._built:
            self._attach_panels()
        else:
            self.build_panels()
        self._show_backend()
        if runtime.notice:
            box = QMessageBox(QMessageBox.Icon.Warning, "Seedance Desktop", runtime.notice)
            box.setParent(self, box.windowFlags())
            box.open()
        self.statusBar().showMessage("Ready", 3000)

    def _attach_panels(self) -> None:
        assert self.runtime is not None
        engine = self.runtime.interface
        self.compose.attach(engine)
        self.library.attach(engine)
        self.queue.attach(engine)
        self.bridge.spendChanged.connect(self._show_spend)
        self._show_spend(engine.spend())
        self.strip.attach(engine)

    async def detach(self) -> None:
        await self.tasks.cancel_all()
        self.bridge.detach()
        self.runtime = None

    def closeEvent(self, event: QCloseEvent) -> None:  # Qt's name
        self._save_layout()
        if self._built:
            self.compose.save_drafts()
            self.player.release()
        super().closeEvent(event)
        self.closed.emit()

    def bring_to_front(self) -> None:
        """Another start of the app found this one: show it, un-minimised, on top."""
        self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.show()
        self.raise_()
        self.activateWindow()

    def receive_files(self, paths: list[str]) -> int:
        """Files handed over by another start of the app (or given on the command line): into
        the reference-to-video slots by kind. Returns how many were taken."""
        from seedance_desktop.domain.endpoints import Mode
        from seedance_desktop.ui.compose.slots import kind_of_file

        self.build_panels()
        tab = self.compose.mode_tabs[Mode.REFERENCE_TO_VIDEO]
        taken = 0
        for group in tab.groups.values():
            mine = [p for p in paths if kind_of_file(p) is group.kind]
            before = len(group.references())
            if mine:
                group.add_references(mine)
            taken += len(group.references()) - before
        self.compose.tabs.setCurrentWidget(tab)
        if taken < len(paths):
            left = len(paths) - taken
            self.statusBar().showMessage(f"{left} file(s) could not be added to compose.", 8000)
        return taken

    def _show_backend(self) -> None:
        assert self.runtime is not None
        backend = self.runtime.backend
        if backend.kind is BackendKind.SIMULATOR:
            self.backend_badge.setText("Simulator: nothing is billed · add a fal key in Settings")
            self.backend_badge.setToolTip(
                "With no fal key, Seedance Desktop runs on its bundled simulator, which makes "
                "animatics. Add your key in Settings (Ctrl+,) to generate on fal."
            )
        else:
            self.backend_badge.setText(f"Backend: {backend.label}")

    # Results -----------------------------------------------------------------------------------

    def show_result(self, job_id: int) -> None:
        """A finished job (a double-click in the queue): select it in the library and play it,
        so the library's details and buttons are about the video playing."""
        if self.runtime is None:
            return
        entry = self.runtime.interface.library_entry(job_id)
        if entry is None:
            self.statusBar().showMessage("This job has no video in the library yet.", 5000)
            return
        if not self.library.select_job(job_id) or self.player.source() != entry.path:
            self._play_entry(entry)
        self.player.play()

    def _play_entry(self, entry: LibraryEntry) -> None:
        if self.player.source() != entry.path:  # a details refresh keeps the place
            self.player.load(entry.path, entry.thumbnail)

    # Judging shots: player keys, compare, spend -----------------------------------------------

    def _build_judging(self) -> None:
        """The player's keys for the whole window, and Compare."""
        from seedance_desktop.ui.player_keys import install_player_shortcuts

        self.player_shortcuts = install_player_shortcuts(self, self.player)
        self.library.compareRequested.connect(self.open_compare)

    def open_compare(self, left: LibraryEntry, right: LibraryEntry, group: list[int]) -> None:
        from seedance_desktop.ui.compare import CompareWindow

        if self.runtime is None:
            return
        self.player.pause()
        window = CompareWindow(self.runtime.interface, self.tasks, self)
        window.discardRequested.connect(self.library.delete_ids)
        window.compare(left, right, group)
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.show()
        self.compare_window = window

    def _show_spend(self, totals: SpendTotals) -> None:
        self.spend_line.setText(spend_line(totals))

    # Layout persistence ------------------------------------------------------------------------

    def _restore_geometry(self) -> None:
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        self.fit_to_screen()

    def fit_to_screen(self) -> None:
        """Inside the available area of the screen the window is on (a size saved on a bigger
        screen, or the default, is clamped; a window left off-screen comes back)."""
        if self.isMaximized() or self.isFullScreen():
            return
        screen = QGuiApplication.screenAt(self.geometry().center()) or self.screen()
        if screen is None:
            return
        area = screen.availableGeometry()
        frame = self.frameGeometry()
        extra_w, extra_h = frame.width() - self.width(), frame.height() - self.height()
        width = min(self.width(), area.width() - extra_w)
        height = min(self.height(), area.height() - extra_h)
        self.resize(width, height)
        x = min(max(frame.x(), area.left()), area.right() + 1 - width - extra_w)
        y = min(max(frame.y(), area.top()), area.bottom() + 1 - height - extra_h)
        self.move(x, y)

    def showEvent(self, event: QShowEvent) -> None:  # Qt's name
        super().showEvent(event)
        if not self._shown:
            self._shown = True
            self.fit_to_screen()  # again, now that the frame's size is known

    def _restore_layout(self) -> None:
        for splitter in (self.splitter, self.centre):
            state = self.settings.value(splitter.objectName())
            if isinstance(state, QByteArray):
                splitter.restoreState(state)
        hidden = self.settings.value("hiddenPanels", "")
        for name in str(hidden or "").split(","):
            if name in self.panel_actions:
                self.set_panel_visible(name, False)
        if self._a_shown_panel_is_shut():  # a layout saved by an older version
            self._default_sizes()

    def _save_layout(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        if self._built:
            for splitter in (self.splitter, self.centre):
                self.settings.setValue(splitter.objectName(), splitter.saveState())
            hidden = [n for n, a in self.panel_actions.items() if not a.isChecked()]
            self.settings.setValue("hiddenPanels", ",".join(hidden))
        self.settings.sync()

    # Panels: shown and hidden from the View menu, never lost -----------------------------------

    def panel(self, name: str) -> QWidget:
        return {
            "compose": self.compose,
            "player": self.player,
            "library": self.library,
            "sequence": self.strip,
            "queue": self.queue,
        }[name]

    def set_panel_visible(self, name: str, visible: bool) -> None:
        """Show or hide a panel; the last one shown stays (the window is never empty)."""
        action = self.panel_actions[name]
        shown = [n for n, a in self.panel_actions.items() if a.isChecked() and n != name]
        if not visible and not shown:
            action.setChecked(True)
            self.statusBar().showMessage("One panel always stays shown.", 4000)
            return
        action.setChecked(visible)
        self.panel(name).setVisible(visible)
        centre = (self.player, self.strip, self.library)
        self.centre.setVisible(not all(widget.isHidden() for widget in centre))
        if visible and self._a_shown_panel_is_shut():
            self._default_sizes()

    def _a_shown_panel_is_shut(self) -> bool:
        for splitter in (self.splitter, self.centre):
            for index, size in enumerate(splitter.sizes()):
                widget = splitter.widget(index)
                if widget is not None and not widget.isHidden() and size <= 0:
                    return True
        return False

    def reset_layout(self) -> None:
        """Every panel shown, at the default sizes for this window."""
        for name in self.panel_actions:
            self.set_panel_visible(name, True)
        self._default_sizes()

    def _default_sizes(self) -> None:
        width = max(self.width(), 1000)
        compose = max(400, round(width * 0.3))  # three reference tiles a row
        queue = max(340, round(width * 0.22))  # the queue's columns readable at 1366
        self.splitter.setSizes([compose, width - compose - queue, queue])
        height = max(self.height(), 600)
        strip = self.strip.sizeHint().height()
        self.centre.setSizes(
            [round((height - strip) * 0.55), strip, round((height - strip) * 0.45)]
        )

    # Menus -------------------------------------------------------------------------------------

    def _action(
        self,
        text: str,
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None,
        slot: object,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self._action("&Settings…", "Ctrl+,", self.open_settings))
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", QKeySequence.StandardKey.Quit, self.close))
        self.view_menu = self.menuBar().addMenu("&View")
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self._action("&About Seedance Desktop", None, self._about))

    def _build_panel_actions(self) -> None:
        for number, label in enumerate(("Text to video", "Image to video", "Reference to video")):
            self.view_menu.addAction(
                self._action(
                    f"Compose: {label}",
                    f"Ctrl+{number + 1}",
                    lambda _=False, n=number: self.compose.tabs.setCurrentIndex(n),
                )
            )
        self.view_menu.addAction(
            self._action("Search the library", "Ctrl+F", self.library.focus_search)
        )
        self.view_menu.addSeparator()
        self.panel_actions: dict[str, QAction] = {}
        for name, label, shortcut in PANEL_SHORTCUTS:
            action = self._action(
                label, shortcut, lambda checked, n=name: self.set_panel_visible(n, checked)
            )
            action.setCheckable(True)
            action.setChecked(True)
            self.view_menu.addAction(action)
            self.panel_actions[name] = action
        self.view_menu.addSeparator()
        self.view_menu.addAction(self._action("Reset layout", None, self.reset_layout))

    def open_settings(self) -> None:
        from seedance_desktop.ui.settings_dialog import SettingsDialog

        if self.runtime is None:
            self.statusBar().showMessage("Settings open once the library has loaded.", 4000)
            return
        engine = self.runtime.interface
        dialog = SettingsDialog(
            engine.engine_settings(),
            self.preferences,
            engine.fal_config,
            self.tasks,
            self,
            appearance=self.theme.choice,
        )
        dialog.saved.connect(self._apply_settings)
        dialog.appearanceChosen.connect(self.set_appearance)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.settings_dialog = dialog

    def set_appearance(self, choice: Appearance) -> None:
        """Settings → Appearance: applied at once, kept with the window's layout."""
        self.settings.setValue("appearance", choice.value)
        self.theme.apply(choice)

    def _apply_settings(self, engine_settings: EngineSettings, preferences: AppPreferences) -> None:
        if self.runtime is None:
            return
        self.runtime.interface.save_settings(engine_settings, preferences)
        self.preferences = preferences
        self.statusBar().showMessage("Settings saved.", 4000)

    def _about(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("About Seedance Desktop")
        box.setText(
            f"Seedance Desktop {__version__}\n\nMake videos with ByteDance Seedance 2.0 on fal. "
            "Every price shown is an estimate; fal bills the final amount."
        )
        box.open()

    def _show_task_error(self, what: str, message: str) -> None:
        self.statusBar().showMessage(f"{what}: {message}", 10_000)
