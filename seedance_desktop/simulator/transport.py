"""Dropping a connection for real, from inside the ASGI app.

ASGI gives an app no way to close its connection without answering: raising or returning early
makes uvicorn send a 500. So the server runs uvicorn's h11 protocol subclassed to remember each
connection's asyncio transport, keyed by the (client, server) addresses that also appear in the
ASGI scope. `drop_connection(scope)` aborts that transport: the client sees the socket close with no
answer (or mid-body, after headers), exactly like a network failure. uvicorn then finds the cycle
disconnected and neither logs an error nor tries to answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

_Address = tuple[str, int | None] | None
_TRANSPORTS: dict[tuple[_Address, _Address], asyncio.Transport] = {}


def _address(value: object) -> _Address:
    if isinstance(value, list | tuple) and len(value) == 2:
        return (str(value[0]), int(value[1]) if value[1] is not None else None)
    return None


class DroppableH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, registering its transport so the app can abort it."""

    # uvicorn annotates the parameter as BaseTransport; it is always a full Transport here.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._drop_key = (_address(self.client), _address(self.server))
        _TRANSPORTS[self._drop_key] = transport

    def connection_lost(self, exc: Exception | None) -> None:
        _TRANSPORTS.pop(getattr(self, "_drop_key", (None, None)), None)
        super().connection_lost(exc)


async def drop_connection(scope: MutableMapping[str, Any]) -> bool:
    """Abort the connection a request came on. False when the server is not ours (no transport)."""
    transport = _TRANSPORTS.get((_address(scope.get("client")), _address(scope.get("server"))))
    if transport is None:
        return False
    transport.abort()
    # Let connection_lost run, so uvicorn marks the request disconnected before the app returns.
    for _ in range(3):
        await asyncio.sleep(0)
    return True
