"""The window's local server: how a second start of the app, and the command line, reach the
process that owns the data folder (see engine/owner_protocol.py for the messages).

Listening is safe to do by force (a socket file left by a crashed owner is removed first)
because only the holder of the folder's lock listens. Only the same user may connect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from seedance_desktop.engine.owner_protocol import (
    EXIT_USAGE,
    MAX_LINE_BYTES,
    ProtocolError,
    Reply,
    decode_request,
    encode,
)

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[Reply]]


class InstanceServer(QObject):
    def __init__(self, name: str, handler: Handler, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._handler = handler
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)
        self._buffers: dict[QLocalSocket, bytes] = {}
        self._answers: set[asyncio.Task[None]] = set()

    def listen(self) -> bool:
        QLocalServer.removeServer(self.name)
        if not self._server.listen(self.name):
            log.warning("no local server %s: %s", self.name, self._server.errorString())
            return False
        return True

    def close(self) -> None:
        self._server.close()
        for task in self._answers:
            task.cancel()

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            self._buffers[socket] = b""
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(lambda s=socket: self._forget(s))
            self._read(socket)

    def _forget(self, socket: QLocalSocket) -> None:
        # Closed, not deleted: deleting a connection's socket from its own `disconnected` crashes
        # PySide ("shared QObject was deleted directly"). The server, its parent, frees them all
        # when the window closes; a connection is one command or one second start.
        self._buffers.pop(socket, None)
        socket.close()

    def _read(self, socket: QLocalSocket) -> None:
        if socket not in self._buffers:
            return
        received = self._buffers[socket] + bytes(socket.readAll().data())
        if b"\n" not in received:
            if len(received) > MAX_LINE_BYTES:
                self._send(socket, Reply(False, "The message is too long.", EXIT_USAGE))
            else:
                self._buffers[socket] = received
            return
        line = received.split(b"\n", 1)[0]
        self._buffers[socket] = b""
        try:
            request = decode_request(line)
        except ProtocolError as exc:
            self._send(socket, Reply(False, str(exc), EXIT_USAGE))
            return
        task = asyncio.ensure_future(self._answer(socket, request))
        self._answers.add(task)
        task.add_done_callback(self._answers.discard)

    async def _answer(self, socket: QLocalSocket, request: dict[str, Any]) -> None:
        try:
            reply = await self._handler(request)
        except Exception:
            log.exception("the app failed to answer %s", request.get("command"))
            reply = Reply(False, "The app could not do this; see its log.", EXIT_USAGE)
        self._send(socket, reply)

    def _send(self, socket: QLocalSocket, reply: Reply) -> None:
        if (
            socket in self._buffers
            and socket.state() == QLocalSocket.LocalSocketState.ConnectedState
        ):
            socket.write(encode(reply.to_json()))
            socket.flush()
