"""anyio, the layer httpx's transport runs on, imports most of its modules on first use: in the
window that happened inside the first request of the first job, a single step of the event loop
of about 100 ms (PySide6's import hook reads the source of every module imported after it).
Loading them once, when a client or server is set up, moves that cost to start-up."""

from __future__ import annotations

import functools
import importlib

import anyio
import anyio.abc


@functools.cache
def preload_transport() -> None:
    """Import anyio's lazily loaded parts and its asyncio backend now (once per process).

    Also call it before starting a server thread: under pytest, which rewrites anyio (a plugin)
    with `ast`, an import in that thread can race the main thread's own `ast` work, and Python
    3.11 then fails it with "AST constructor recursion depth mismatch"."""
    for module in (anyio, anyio.abc):
        for name in dir(module):
            getattr(module, name)
    importlib.import_module("anyio._backends._asyncio")
