"""The command line's side of the owner's local socket, and what it says when the folder is busy.

QtNetwork's QLocalSocket, used through its blocking calls (no event loop needed): the window
listens with QLocalServer, whose address is a Unix socket in Qt's own place on Linux and macOS
and a named pipe on Windows. Using the same class on both ends keeps every platform right
without re-implementing where Qt puts its sockets. QtNetwork needs no QtGui and no display.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from seedance_desktop.engine.owner_protocol import (
    EXIT_USAGE,
    PING,
    ProtocolError,
    Reply,
    decode_reply,
    encode,
    server_name,
)
from seedance_desktop.engine.ownership import FolderBusy

CONNECT_MS = 2_000
ANSWER_MS = 60_000  # a cancel waits for fal's answer


def ask_owner(
    data_folder: Path, request: dict[str, Any], *, answer_ms: int = ANSWER_MS
) -> Reply | None:
    """The owner's reply, or None when no window listens for this folder (the owner is another
    command, or nothing is running)."""
    from PySide6.QtNetwork import QLocalSocket

    socket = QLocalSocket()
    socket.connectToServer(server_name(data_folder))
    if not socket.waitForConnected(CONNECT_MS):
        return None
    try:
        socket.write(encode(request))
        socket.waitForBytesWritten(CONNECT_MS)
        received = b""
        while b"\n" not in received:
            if not socket.waitForReadyRead(answer_ms):
                return Reply(False, "The app did not answer in time.", EXIT_USAGE)
            received += bytes(socket.readAll().data())
        try:
            return decode_reply(received.split(b"\n", 1)[0])
        except ProtocolError:
            return Reply(False, "The app gave an answer this command cannot read.", EXIT_USAGE)
    finally:
        socket.disconnectFromServer()


def app_is_open(data_folder: Path) -> bool:
    return ask_owner(data_folder, {"command": PING}, answer_ms=CONNECT_MS) is not None


def refuse_busy(busy: FolderBusy, app_hint: str) -> int:
    """Say who owns the folder, and exit 2: never a second scheduler on one folder."""
    if app_is_open(busy.folder):
        print(f"The app is open on this library; {app_hint}", file=sys.stderr)
    else:
        print(str(busy), file=sys.stderr)
    return EXIT_USAGE
