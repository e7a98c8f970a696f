"""A tiny server-sent-events parser (the subset of the WHATWG rules fal's status stream needs).

Feed it lines without their line ending (httpx's `aiter_lines()` already splits on CR, LF and CRLF).
Comments (`: keep-alive`) are counted but produce no event. Unlike a browser, an event left without
its closing blank line when the stream ends is still delivered by `flush()`: a server that closes
right after its last `data:` line should not lose the COMPLETED status.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass


@dataclass(frozen=True)
class SSEEvent:
    data: str
    event: str = "message"
    id: str | None = None
    retry_ms: int | None = None


class SSEParser:
    def __init__(self) -> None:
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._retry: int | None = None
        self._first = True
        self.comments = 0

    def feed(self, line: str) -> SSEEvent | None:
        """One line of the stream; returns an event when a blank line completes one."""
        if self._first:
            self._first = False
            line = line.removeprefix("\ufeff")
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            self.comments += 1
            return None
        name, sep, value = line.partition(":")
        if sep:
            value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def flush(self) -> SSEEvent | None:
        """The event still being assembled when the stream ended, if any."""
        return self._dispatch()

    def _dispatch(self) -> SSEEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = SSEEvent(
            data="\n".join(self._data),
            event=self._event or "message",
            id=self._id,
            retry_ms=self._retry,
        )
        self._data = []
        self._event = ""
        return event


async def iter_events(lines: AsyncIterable[str]) -> AsyncIterator[SSEEvent]:
    parser = SSEParser()
    async for line in lines:
        event = parser.feed(line)
        if event is not None:
            yield event
    last = parser.flush()
    if last is not None:
        yield last
