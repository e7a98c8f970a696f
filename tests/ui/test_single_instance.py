"""The window's side of single instance: files handed over land in compose by kind, and the
local server answers each request line (malformed ones too) without a second window."""

from __future__ import annotations

from pathlib import Path

from engine_fixtures import eventually
from media_factory import make_audio, make_image, make_video
from PySide6.QtNetwork import QLocalSocket

from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.engine.owner_protocol import (
    Reply,
    decode_reply,
    encode,
    open_request,
    server_name,
)
from seedance_desktop.paths import AppPaths
from seedance_desktop.ui.main_window import MainWindow
from seedance_desktop.ui.single_instance import InstanceServer


async def test_received_files_fill_the_reference_slots_by_kind(
    qtbot, app_paths: AppPaths, tmp_path: Path
) -> None:
    window = MainWindow(app_paths)
    qtbot.addWidget(window)
    image = make_image(tmp_path / "hero.png", 640, 480)
    video = make_video(tmp_path / "moves.mp4", 320, 240, seconds=1.0)
    audio = make_audio(tmp_path / "beat.wav")
    notes = tmp_path / "notes.txt"
    notes.write_text("not media")
    taken = window.receive_files([str(notes), str(video), str(image), str(audio)])
    assert taken == 3
    tab = window.compose.mode_tabs[Mode.REFERENCE_TO_VIDEO]
    assert window.compose.tabs.currentWidget() is tab
    assert tab.images.references() == [str(image)]
    assert tab.videos.references() == [str(video)]
    assert tab.audios.references() == [str(audio)]
    await eventually(lambda: all(g.pending() == 0 for g in tab.groups.values()))
    assert "1 file(s) could not be added" in window.statusBar().currentMessage()


async def test_the_server_answers_each_line_and_refuses_bad_ones(
    qtbot, app_paths: AppPaths
) -> None:
    asked: list[dict[str, object]] = []

    async def answer(request: dict[str, object]) -> Reply:
        asked.append(request)
        return Reply(True, "taken")

    server = InstanceServer(server_name(app_paths.data), answer)
    assert server.listen()
    replies: list[Reply] = []
    clients: list[QLocalSocket] = []  # alive to the end: a socket is not deleted mid-signal
    try:
        for line in (encode(open_request(["/x.png"])), b"{not json\n", encode({"command": "x"})):
            socket = QLocalSocket()
            clients.append(socket)
            socket.connectToServer(server.name)
            assert socket.waitForConnected(2000)
            socket.write(line)
            socket.flush()
            chunks: list[bytes] = []

            def line_arrived(s: QLocalSocket = socket, chunks: list[bytes] = chunks) -> bool:
                chunks.append(bytes(s.readAll().data()))
                return b"\n" in b"".join(chunks)

            await eventually(line_arrived)
            replies.append(decode_reply(b"".join(chunks).strip()))
            socket.disconnectFromServer()
    finally:
        server.close()
    assert asked == [{"command": "open", "files": ["/x.png"]}]
    assert [(r.ok, r.exit_code) for r in replies] == [(True, 0), (False, 2), (False, 2)]
    assert replies[2].message == "Unknown command 'x'."
