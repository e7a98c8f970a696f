"""Run as a script by test_ui_quit.py: open the window, play a video, close and delete the window.
Prints "closed" if that ends."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from seedance_desktop.paths import AppPaths
from seedance_desktop.ui.event_loop import QtEventLoop
from seedance_desktop.ui.main_window import MainWindow


async def play_then_close(paths: AppPaths, video: Path) -> None:
    window = MainWindow(paths)
    window.show()
    window.build_panels()
    window.player.load(video)
    window.player.toggle()
    for _ in range(200):
        if window.player.has_frame() and window.player.play_button.text() == "Pause":
            break
        await asyncio.sleep(0.05)
    else:
        raise SystemExit("the video never played")
    window.close()
    window.deleteLater()  # as pytest-qt does; the app lets the garbage collector do it
    await asyncio.sleep(0.5)


def main() -> None:
    root, video = Path(sys.argv[1]), Path(sys.argv[2])
    paths = AppPaths(root / "data", root / "cache", root / "config", root / "logs").ensure()
    app = QApplication([])
    app.setQuitOnLastWindowClosed(False)  # as in the app: closing ends `_main`, not the loop
    with asyncio.Runner(loop_factory=lambda: QtEventLoop(app)) as runner:
        runner.run(play_then_close(paths, video))
    print("closed", flush=True)


if __name__ == "__main__":
    main()
