"""One engine-wide idea of whether fal can be reached.

A transport failure anywhere switches it to offline; a probe with backoff brings it back, and
whatever waits on `wait_online()` goes on by itself. No job fails merely because the network was
down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import httpx

from seedance_desktop.engine.events import ConnectivityChanged, EventBus

log = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[bool]]


class Connectivity:
    def __init__(
        self,
        probe: Probe,
        events: EventBus,
        *,
        first_delay_s: float = 1.0,
        max_delay_s: float = 30.0,
    ) -> None:
        self._probe = probe
        self._events = events
        self._first_delay = first_delay_s
        self._max_delay = max_delay_s
        self._online = asyncio.Event()
        self._online.set()
        self._prober: asyncio.Task[None] | None = None
        self.reason: str | None = None

    @property
    def online(self) -> bool:
        return self._online.is_set()

    async def wait_online(self) -> None:
        await self._online.wait()

    def report_failure(self, reason: str) -> None:
        if not self.online:
            return
        log.info("offline: %s", reason)
        self.reason = reason
        self._online.clear()
        self._events.emit(ConnectivityChanged(online=False, reason=reason))
        if self._prober is None or self._prober.done():
            self._prober = asyncio.get_running_loop().create_task(self._probe_until_online())

    def report_success(self) -> None:
        if self.online:
            return
        log.info("online again")
        self.reason = None
        self._online.set()
        self._events.emit(ConnectivityChanged(online=True))

    async def _probe_until_online(self) -> None:
        delay = self._first_delay
        while not self.online:
            await asyncio.sleep(delay)
            try:
                reachable = await self._probe()
            except Exception:
                reachable = False
            if reachable:
                self.report_success()
            delay = min(delay * 2, self._max_delay)

    async def close(self) -> None:
        if self._prober is not None:
            self._prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prober


async def reachable(http: httpx.AsyncClient, url: str) -> bool:
    """Any HTTP answer from the service's origin means the network is back (no key is sent)."""
    try:
        await http.get(url, timeout=5.0)
    except httpx.HTTPError:
        return False
    return True


async def still_there(http: httpx.AsyncClient, url: str) -> bool:
    """Whether an uploaded file's public URL still answers (uploads expire on fal's CDN).

    A network failure propagates as "unknown" by returning True: the submit that follows finds
    out for sure, and nothing is uploaded twice in vain.
    """
    try:
        response = await http.head(url, timeout=10.0, follow_redirects=True)
    except httpx.HTTPError:
        return True
    return response.status_code < 400
