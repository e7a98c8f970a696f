"""Settings: the fal key (keychain or this session only), backend, concurrency, library folder,
export naming, notifications and the monthly budget. Opened with `.open()`, never `exec()`."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from seedance_desktop import secrets
from seedance_desktop.backend import check_key, key_check_config
from seedance_desktop.engine.interface import AppPreferences, EngineSettings
from seedance_desktop.fal.config import FalConfig
from seedance_desktop.ui.tasks import TaskRunner
from seedance_desktop.ui.theme import Appearance


class SettingsDialog(QDialog):
    saved = Signal(object, object)  # EngineSettings, AppPreferences
    keyChanged = Signal()
    appearanceChosen = Signal(object)  # Appearance: the window keeps it (it applies at once)

    def __init__(
        self,
        engine_settings: EngineSettings,
        preferences: AppPreferences,
        fal_config: FalConfig,
        tasks: TaskRunner,
        parent: QWidget | None = None,
        *,
        appearance: Appearance = Appearance.SYSTEM,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("settingsDialog")
        self._engine_settings = engine_settings
        self._preferences = preferences
        self._fal_config = fal_config
        self._tasks = tasks
        layout = QVBoxLayout(self)
        layout.addWidget(self._key_box())
        layout.addWidget(self._backend_box())
        layout.addWidget(self._work_box())
        layout.addWidget(self._appearance_box(appearance))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._refresh_key_status()

    # The key -----------------------------------------------------------------------------------

    def _key_box(self) -> QGroupBox:
        box = QGroupBox("fal API key")
        form = QVBoxLayout(box)
        self.key_status = QLabel()
        self.key_status.setWordWrap(True)
        self.key_status.setObjectName("keyStatus")
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("key_id:key_secret — from fal.ai, Dashboard → Keys")
        self.key_edit.setAccessibleName("fal API key")
        self.session_only = QCheckBox("Keep the key for this session only")
        self.test_button = QPushButton("Test key")
        self.store_button = QPushButton("Save key")
        self.forget_button = QPushButton("Forget key")
        self.key_result = QLabel()
        self.key_result.setWordWrap(True)
        self.key_result.setObjectName("keyResult")
        self.test_button.clicked.connect(self._test_key)
        self.store_button.clicked.connect(self._store_key)
        self.forget_button.clicked.connect(self._forget_key)
        row = QHBoxLayout()
        for button in (self.test_button, self.store_button, self.forget_button):
            row.addWidget(button)
        row.addStretch(1)
        for widget in (self.key_status, self.key_edit, self.session_only):
            form.addWidget(widget)
        form.addLayout(row)
        form.addWidget(self.key_result)
        return box

    def _refresh_key_status(self) -> None:
        lookup = secrets.load_key()
        where = {
            "environment": "from the FAL_KEY environment variable",
            "keychain": "in the system keychain",
            "session": "for this session only",
        }
        if lookup.key:
            text = f"Key {secrets.masked(lookup.key)} is set, {where[lookup.source]}."
        else:
            text = "No key yet: the app runs on the bundled simulator, and nothing is billed."
        if lookup.keychain_message:
            text += f" {lookup.keychain_message} You can keep a key for this session only."
            self.session_only.setChecked(True)
        self.key_status.setText(text)
        self.forget_button.setEnabled(lookup.source in ("keychain", "session"))

    def _typed_key(self) -> str:
        return self.key_edit.text().strip()

    def _test_key(self) -> None:
        key = self._typed_key() or secrets.load_key().key
        if not key:
            self.key_result.setText("Enter a key first.")
            return
        self.key_result.setText("Asking fal…")
        self.test_button.setEnabled(False)
        config = key_check_config(key)  # fal (or the configured bases), never the simulator
        self._tasks.run(self._run_test(config), "Testing the key")

    async def _run_test(self, config: FalConfig) -> None:
        try:
            ok, message = await check_key(config)
        except asyncio.CancelledError:
            raise
        finally:
            self.test_button.setEnabled(True)
        self.key_result.setText(("✓ " if ok else "✗ ") + message)

    def _store_key(self) -> None:
        key = self._typed_key()
        if ":" not in key:
            self.key_result.setText("A fal key looks like key_id:key_secret.")
            return
        lookup = secrets.store_key(key, session_only=self.session_only.isChecked())
        self.key_edit.clear()  # never shown again in full
        if lookup.key is None:
            self.key_result.setText(
                f"{lookup.keychain_message} Tick “this session only” to use it until you quit."
            )
        else:
            self.key_result.setText("Saved. Restart Seedance Desktop to generate on fal.")
            self.keyChanged.emit()
        self._refresh_key_status()

    def _forget_key(self) -> None:
        secrets.forget_key()
        self.key_result.setText("The key was removed.")
        self.keyChanged.emit()
        self._refresh_key_status()

    # Backend and work --------------------------------------------------------------------------

    def _backend_box(self) -> QGroupBox:
        box = QGroupBox("Backend (applies at the next start)")
        row = QVBoxLayout(box)
        self.use_fal = QRadioButton(
            "fal, with the key above (falls back to the simulator without one)"
        )
        self.use_simulator = QRadioButton("The bundled simulator: free, offline, nothing billed")
        (
            self.use_simulator if self._preferences.backend == "simulator" else self.use_fal
        ).setChecked(True)
        row.addWidget(self.use_fal)
        row.addWidget(self.use_simulator)
        return box

    def _work_box(self) -> QGroupBox:
        box = QGroupBox("Work")
        form = QFormLayout(box)
        settings = self._engine_settings
        self.in_flight = self._spin(1, 20, settings.max_in_flight)
        self.uploads = self._spin(1, 8, settings.max_uploads)
        self.downloads = self._spin(1, 8, settings.max_downloads)
        form.addRow("Jobs at fal at once", self.in_flight)
        form.addRow("Parallel uploads", self.uploads)
        form.addRow("Parallel downloads", self.downloads)
        self.library_dir = QLineEdit(settings.library_dir or "")
        self.library_dir.setPlaceholderText("Default: the app's data folder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_library)
        row = QHBoxLayout()
        row.addWidget(self.library_dir)
        row.addWidget(browse)
        form.addRow("Library folder", row)
        self.template = QLineEdit(self._preferences.export_template)
        self.template.setToolTip(
            "Fields: {date} {time} {mode} {tier} {seed} {prompt} {id} {resolution}"
        )
        form.addRow("Export names", self.template)
        self.notifications = QCheckBox("Tell me when jobs finish or fail")
        self.notifications.setChecked(self._preferences.notifications)
        form.addRow("", self.notifications)
        self.budget_on = QCheckBox("Monthly budget")
        self.budget = QDoubleSpinBox()
        self.budget.setRange(0.5, 100_000)
        self.budget.setPrefix("$ ")
        self.budget.setValue(settings.budget_month_usd or 50.0)
        self.budget_on.setChecked(settings.budget_month_usd is not None)
        self.budget.setEnabled(self.budget_on.isChecked())
        self.budget_on.toggled.connect(self.budget.setEnabled)
        row = QHBoxLayout()
        row.addWidget(self.budget_on)
        row.addWidget(self.budget)
        form.addRow("Budget", row)
        return box

    @staticmethod
    def _spin(low: int, high: int, value: int) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setValue(value)
        return spin

    def _browse_library(self) -> None:
        dialog = QFileDialog(self, "Library folder", self.library_dir.text() or str(Path.home()))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly)
        dialog.fileSelected.connect(self.library_dir.setText)
        dialog.open()

    def _appearance_box(self, appearance: Appearance) -> QGroupBox:
        box = QGroupBox("Appearance")
        form = QFormLayout(box)
        self.appearance = QComboBox()
        for choice in Appearance:
            self.appearance.addItem(choice.label, choice)
        self.appearance.setCurrentIndex(list(Appearance).index(appearance))
        self.appearance.setToolTip(
            "System follows the desktop's light or dark setting (dark when it states none)"
        )
        form.addRow("Theme", self.appearance)
        return box

    def _save(self) -> None:
        self.appearanceChosen.emit(Appearance.parse(self.appearance.currentData()))
        engine_settings = replace(
            self._engine_settings,
            max_in_flight=self.in_flight.value(),
            max_uploads=self.uploads.value(),
            max_downloads=self.downloads.value(),
            library_dir=self.library_dir.text().strip() or None,
            budget_month_usd=self.budget.value() if self.budget_on.isChecked() else None,
        )
        preferences = replace(
            self._preferences,
            backend="simulator" if self.use_simulator.isChecked() else "auto",
            export_template=self.template.text().strip() or AppPreferences().export_template,
            notifications=self.notifications.isChecked(),
        )
        self.saved.emit(engine_settings, preferences)
        self.accept()
