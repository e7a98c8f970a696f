"""A tiny server-sent-events parser: the subset of the WHATWG rules fal's status stream needs.

Feed it lines without their line ending (httpx's `aiter_lines()` already splits on CR, LF and CRLF).
fal sends only `data:` lines and keep-alive comments; other fields (`event`, `id`, `retry`) are read
and ignored. Unlike a browser, an event left without its closing blank line when the stream ends
is still delivered by `flush()`: a server that closes right after its last `data:` line should not
lose the COMPLETED status.
"""

from __future__ import annotations


class SSEParser:
    def __init__(self) -> None:
        self._data: list[str] = []
        self._first = True

    def feed(self, line: str) -> str | None:
        """One line of the stream; returns an event's data when a blank line completes one."""
        if self._first:
            self._first = False
            line = line.removeprefix("\ufeff")
        if line == "":
            return self.flush()
        name, sep, value = line.partition(":")
        if name == "data":
            self._data.append(value.removeprefix(" ") if sep else value)
        return None  # a comment (`: ping`) or a field fal's stream has no use for

    def flush(self) -> str | None:
        """The data of the event being assembled (at a blank line, or when the stream ends)."""
        if not self._data:
            return None
        data, self._data = "\n".join(self._data), []
        return data
