"""Settings: the key in a keychain (or this session only), testing it against the simulator, and
the work settings coming back out."""

from __future__ import annotations

import keyring
import pytest
from engine_fixtures import TEST_KEY, eventually, fal_config_for
from fal_stand_in import BASES, GOOD_KEY, StandInFal
from keyring.backend import KeyringBackend
from keyring.backends import fail
from PySide6.QtWidgets import QLabel

from seedance_desktop import secrets
from seedance_desktop.engine.settings import AppPreferences, EngineSettings
from seedance_desktop.ui.settings_dialog import SettingsDialog
from seedance_desktop.ui.tasks import TaskRunner


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)
    secrets.forget_key()


def dialog_for(qtbot, simulator) -> SettingsDialog:
    dialog = SettingsDialog(
        EngineSettings(), AppPreferences(), fal_config_for(simulator.url), TaskRunner()
    )
    qtbot.addWidget(dialog)
    return dialog


def all_text(dialog: SettingsDialog) -> str:
    return " ".join(label.text() for label in dialog.findChildren(QLabel))


async def test_a_key_goes_to_the_keychain_and_is_never_shown_again(
    qtbot, simulator, memory_keyring: MemoryKeyring
) -> None:
    dialog = dialog_for(qtbot, simulator)
    assert "No key yet" in dialog.key_status.text()
    qtbot.keyClicks(dialog.key_edit, TEST_KEY)
    dialog.store_button.click()
    assert memory_keyring.store[(secrets.SERVICE, secrets.ACCOUNT)] == TEST_KEY
    assert dialog.key_edit.text() == ""
    assert "system keychain" in dialog.key_status.text()
    secret = TEST_KEY.split(":")[1]
    assert secret not in all_text(dialog)
    dialog.forget_button.click()
    assert memory_keyring.store == {}


async def test_testing_a_key_asks_the_server(qtbot, simulator, memory_keyring, monkeypatch) -> None:
    for name in BASES:  # the simulator as the configured fal-compatible server
        monkeypatch.setenv(name, simulator.url)
    dialog = dialog_for(qtbot, simulator)
    qtbot.keyClicks(dialog.key_edit, TEST_KEY)
    dialog.test_button.click()
    await eventually(lambda: "works" in dialog.key_result.text())
    dialog.key_edit.clear()
    qtbot.keyClicks(dialog.key_edit, "invalid-key:wrong")
    dialog.test_button.click()
    await eventually(lambda: "did not accept" in dialog.key_result.text())
    assert "wrong" not in all_text(dialog)


async def test_testing_a_key_on_the_simulator_asks_fal(
    qtbot, simulator, memory_keyring, monkeypatch
) -> None:
    """Running on the simulator (which accepts any key), the key is still checked with fal."""
    fal = StandInFal()
    try:
        for name in BASES:
            monkeypatch.setenv(name, fal.url)
        dialog = dialog_for(qtbot, simulator)
        qtbot.keyClicks(dialog.key_edit, TEST_KEY)  # the simulator would accept it
        dialog.test_button.click()
        await eventually(lambda: "did not accept" in dialog.key_result.text())
        assert len(fal.requests) == 1
        assert not [e for e in simulator.log if "storage" in e.path]
        dialog.key_edit.clear()
        qtbot.keyClicks(dialog.key_edit, GOOD_KEY)
        dialog.test_button.click()
        await eventually(lambda: "works" in dialog.key_result.text())
    finally:
        fal.close()


async def test_without_a_keychain_the_key_is_kept_for_the_session(qtbot, simulator) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        dialog = dialog_for(qtbot, simulator)
        assert "No system keychain" in dialog.key_status.text()
        assert dialog.session_only.isChecked()
        qtbot.keyClicks(dialog.key_edit, TEST_KEY)
        dialog.store_button.click()
        assert secrets.load_key() == secrets.KeyLookup(TEST_KEY, "session")
        assert "this session only" in dialog.key_status.text()
    finally:
        secrets.forget_key()
        keyring.set_keyring(previous)


async def test_saved_settings_come_back_out(qtbot, simulator, memory_keyring, tmp_path) -> None:
    dialog = dialog_for(qtbot, simulator)
    received = []
    dialog.saved.connect(lambda engine, prefs: received.append((engine, prefs)))
    dialog.in_flight.setValue(4)
    dialog.budget_on.setChecked(True)
    dialog.budget.setValue(25)
    dialog.library_dir.setText(str(tmp_path / "videos"))
    dialog.use_simulator.setChecked(True)
    dialog.notifications.setChecked(False)
    dialog._save()
    (engine_settings, prefs) = received[0]
    assert engine_settings.max_in_flight == 4
    assert engine_settings.budget_month_usd == 25
    assert engine_settings.library_dir == str(tmp_path / "videos")
    assert prefs.backend == "simulator" and prefs.notifications is False


async def test_masked_key_shows_only_part_of_the_id() -> None:
    assert secrets.masked("abcdef123456:supersecret") == "abcd…56"
    assert "supersecret" not in secrets.masked("abcdef123456:supersecret")
    assert secrets.masked(None) == "no key"
