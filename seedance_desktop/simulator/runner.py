"""Run the simulator embedded: uvicorn on its own event loop in a daemon thread.

The socket is bound before the thread starts, so port 0 gives a free port that is known (and
reported) as soon as `start()` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from types import TracebackType

import uvicorn

from seedance_desktop.preload import preload_transport
from seedance_desktop.simulator.config import Faults, SimulatorConfig
from seedance_desktop.simulator.log import LogEntry, RequestLog
from seedance_desktop.simulator.server import SimulatorApp, create_app
from seedance_desktop.simulator.storage import Origin
from seedance_desktop.simulator.transport import DroppableH11Protocol

__all__ = ["LogEntry", "SimulatorServer"]

_START_TIMEOUT_S = 15.0


class _Server(uvicorn.Server):
    """uvicorn's server, woken at once by `wake()` instead of noticing `should_exit` on a 0.1 s
    tick (tests start and stop a server per test)."""

    _wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._wake = asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 10) % 864_000  # on_tick refreshes the Date header every 10
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await self._wake.wait()

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()


class SimulatorServer:
    def __init__(self, config: SimulatorConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self.host = host
        self.port = port
        self._log = RequestLog()
        self._app: SimulatorApp | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._url: str | None = None
        self._offline: threading.Event | None = None
        self._serving_stopped = threading.Event()
        self._next_socket: socket.socket | None = None

    # Contract C ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the simulator is not running")
        return self._url

    @property
    def log(self) -> list[LogEntry]:
        return self._log.snapshot()

    @property
    def faults(self) -> Faults:
        return self.config.faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self.config.faults = value
        if self._app is not None:
            self._app.asgi.reseed()

    def start(self) -> str:
        if self._url is not None:
            return self._url
        preload_transport()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.create_server((self.host, self.port), family=family, backlog=128)
        sock.setblocking(False)
        bound_port = sock.getsockname()[1]
        app = create_app(self.config, self._log)
        shown_host = _shown_host(self.host)
        app.state.own_netlocs.update(
            {f"{shown_host}:{bound_port}".lower(), f"localhost:{bound_port}"}
        )
        self._app = app
        server = self._new_server()
        self._server = server
        self._thread = threading.Thread(
            target=self._serve, args=(server, sock), name="seedance-simulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._server = None
                sock.close()
                raise RuntimeError("the simulator server did not start")
            time.sleep(0.01)
        self._url = f"http://{shown_host}:{bound_port}"
        return self._url

    def stop(self) -> None:
        server, thread, loop, app = self._server, self._thread, self._loop, self._app
        if server is None or thread is None:
            return
        if self._offline is not None:
            offline, self._offline = self._offline, None
            offline.set()
        if loop is not None and app is not None and loop.is_running():
            # Wake the SSE streams first, so uvicorn's graceful shutdown does not wait on them.
            future = asyncio.run_coroutine_threadsafe(app.shutdown(), loop)
            with contextlib.suppress(Exception):
                future.result(timeout=5)
        server.should_exit = True
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop may close between check and call
                loop.call_soon_threadsafe(server.wake)
        thread.join(timeout=10)
        self._server = self._thread = self._loop = None
        self._url = None

    def __enter__(self) -> SimulatorServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # Extras for tests and the CLI ------------------------------------------------------------

    def expire_uploads(self) -> int:
        """Make every uploaded file's URL answer 410 Gone (an expired CDN URL)."""
        return self._expire("upload")

    def expire_outputs(self) -> int:
        """Make every generated video's URL answer 410 Gone."""
        return self._expire("output")

    def _expire(self, origin: Origin) -> int:
        if self._app is None:
            return 0
        return self._app.state.storage.expire(origin)

    def _new_server(self) -> _Server:
        assert self._app is not None
        config = uvicorn.Config(
            self._app.asgi,
            http=DroppableH11Protocol,
            ws="none",
            lifespan="off",
            proxy_headers=False,
            server_header=False,
            date_header=True,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        return _Server(config)

    # Network outages: the service keeps its jobs, but nobody can reach it ---------------------

    def go_offline(self) -> None:
        """Stop listening and cut every open connection, keeping every job running: to the
        client this is the network going down (connections refused), like losing Wi-Fi."""
        server, loop = self._server, self._loop
        if server is None or loop is None or self._offline is not None:
            return
        self._offline = threading.Event()
        server.should_exit = True
        loop.call_soon_threadsafe(server.wake)
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self._serving_stopped.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)

    def go_online(self) -> None:
        """Listen again on the same port; jobs that ran meanwhile are all still there."""
        if self._offline is None or self._loop is None or self._url is None:
            return
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        port = int(self._url.rsplit(":", 1)[1])
        sock = socket.create_server((self.host, port), family=family, backlog=128)
        sock.setblocking(False)
        server = self._new_server()
        self._server = server
        self._next_socket = sock
        self._serving_stopped.clear()
        offline, self._offline = self._offline, None
        offline.set()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)

    def _serve(self, server: _Server, sock: socket.socket) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            current_server, current_sock = server, sock
            try:
                while True:
                    try:
                        await current_server.serve(sockets=[current_sock])
                    finally:
                        current_sock.close()
                    offline = self._offline
                    if offline is None:
                        return
                    self._serving_stopped.set()
                    await asyncio.to_thread(offline.wait)
                    if self._next_socket is None or self._server is None:
                        return  # stopped while offline
                    current_server, current_sock = self._server, self._next_socket
                    self._next_socket = None
            finally:
                if self._app is not None and not self._app.state.queue.closed:
                    await self._app.shutdown()

        asyncio.run(main())


def _shown_host(host: str) -> str:
    """A host clients can use: a wildcard bind is reached on loopback."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
