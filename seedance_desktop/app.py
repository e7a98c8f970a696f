"""Wires the application together: paths, key, backend, engine, the asyncio-in-Qt loop, the window.

The window is shown first (a fast first paint); the database, the backend (the bundled simulator
when there is no key) and the engine open right after, without blocking it. Closing the window
stops the engine cleanly: every job is persisted and resumes on the next start.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)


def has_display() -> bool:
    return bool(
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
        or sys.platform in ("darwin", "win32")
    )


def run_window(argv: Sequence[str] | None = None, files: Sequence[str] = ()) -> int:
    """The window, as the one owner of the data folder. If another process owns it, the files
    are handed to that window (which comes to the front) and this start ends with 0."""
    from seedance_desktop.engine.ownership import FolderBusy, acquire
    from seedance_desktop.paths import app_paths

    paths = app_paths().ensure()
    files = [os.path.abspath(f) for f in files]
    try:
        lock = acquire(paths.data)
    except FolderBusy as busy:
        return _hand_over(busy, files)
    try:
        return _run_owner_window(argv, lock, files)
    finally:
        lock.release()


def _hand_over(busy: object, files: list[str]) -> int:
    from seedance_desktop.cli.owner_client import ask_owner
    from seedance_desktop.engine.owner_protocol import open_request
    from seedance_desktop.engine.ownership import FolderBusy

    assert isinstance(busy, FolderBusy)
    reply = ask_owner(busy.folder, open_request(files))
    if reply is None:  # the owner is a command (`generate`, `queue run`…), with no window
        message = str(busy)
        print(message, file=sys.stderr)
        if has_display() and os.environ.get("QT_QPA_PLATFORM") != "offscreen":
            _say_in_a_box(message)  # started from a launcher, nobody reads stderr
        return 2
    print(reply.message, file=sys.stderr if not reply.ok else sys.stdout)
    return 0 if reply.ok else reply.exit_code


def _say_in_a_box(message: str) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    _app = QApplication.instance() or QApplication(sys.argv[:1])
    box = QMessageBox(QMessageBox.Icon.Information, "Seedance Desktop", message)
    QTimer.singleShot(20_000, box.close)  # never a process left waiting on a hidden box
    box.exec()


def _run_owner_window(argv: Sequence[str] | None, lock: object, files: list[str]) -> int:
    if not has_display():
        print(
            "No display found. Run Seedance Desktop in a desktop session, or use the command line:"
            " `seedance-desktop generate --help`.",
            file=sys.stderr,
        )
        return 1
    from PySide6.QtWidgets import QApplication

    from seedance_desktop import __version__

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv or sys.argv[:1])
    app.setApplicationName("Seedance Desktop")
    app.setOrganizationName("Seedance Desktop")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("io.github.seedance_desktop.SeedanceDesktop")
    from PySide6.QtGui import QIcon

    app.setWindowIcon(QIcon(str(Path(__file__).parent / "resources" / "icon.svg")))
    # The window closing ends `_main` (which stops the engine cleanly), not Qt's loop directly.
    app.setQuitOnLastWindowClosed(False)
    from seedance_desktop.ui.event_loop import QtEventLoop
    from seedance_desktop.ui.main_thread_gc import MainThreadCollector

    collector = MainThreadCollector()
    try:
        with asyncio.Runner(loop_factory=lambda: QtEventLoop(app)) as runner:
            return runner.run(_main(app, lock, files))
    finally:
        collector.stop()


async def _main(app: object, lock: object, files: list[str]) -> int:
    from PySide6.QtWidgets import QApplication

    from seedance_desktop.engine.owner_commands import perform
    from seedance_desktop.engine.owner_protocol import OPEN, PING, Reply, server_name
    from seedance_desktop.engine.ownership import FolderLock
    from seedance_desktop.paths import app_paths
    from seedance_desktop.runtime import Runtime
    from seedance_desktop.ui.main_window import MainWindow
    from seedance_desktop.ui.single_instance import InstanceServer

    assert isinstance(app, QApplication) and isinstance(lock, FolderLock)
    paths = app_paths().ensure()
    window = MainWindow(paths)
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()

    async def answer(request: dict[str, object]) -> Reply:
        """Another process's request: files from a second start, or one job's action."""
        if request["command"] == PING:
            return Reply(True, "Seedance Desktop is running on this library.")
        if request["command"] == OPEN:
            window.bring_to_front()
            files = request.get("files")
            given = list(files) if isinstance(files, list) else []
            if not given:
                return Reply(True, "Seedance Desktop was already open; it is in front now.")
            added = window.receive_files(given)
            return Reply(True, f"Opened in the running Seedance Desktop ({added} file(s) added).")
        runtime = await asyncio.shield(ready)
        return await perform(runtime.engine, request)

    server = InstanceServer(server_name(paths.data), answer, window)
    server.listen()
    window.show()
    quit_after = os.environ.get("SEEDANCE_QUIT_AFTER_MS")
    if quit_after and quit_after.isdigit():  # smoke tests and start-up benchmarks
        from PySide6.QtCore import QTimer

        QTimer.singleShot(int(quit_after), window.close)
    await asyncio.sleep(0.05)  # the first frame goes out before the engine's imports
    if files:
        window.receive_files(files)
    from seedance_desktop.runtime import running_engine

    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    window.closed.connect(closed.set)
    try:
        async with running_engine(paths, events=window.events, lock=lock) as runtime:
            window.attach(runtime)
            ready.set_result(runtime)
            log.info("the window owns %s", paths.data)
            await closed.wait()
            server.close()  # no more requests for an engine that is about to close
            await window.detach()
    finally:
        server.close()
    return 0
