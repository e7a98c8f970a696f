"""Closing httpx's body streams in the task that reads them.

httpx types `aiter_bytes()`, `aiter_raw()` and `aiter_lines()` as plain async iterators, although
they are async generators: `contextlib.aclosing` is right at run time but cannot be typed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

T = TypeVar("T")


@asynccontextmanager
async def closing_stream(stream: AsyncIterator[T]) -> AsyncIterator[AsyncIterator[T]]:
    """Yield `stream`, then close it here (left to the garbage collector, httpcore's stream
    generators finalise at loop shutdown and can hang it)."""
    try:
        yield stream
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()
