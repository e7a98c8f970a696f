"""The outermost layer of the simulator: request log, trailing slashes, and injected faults.

Faults are drawn per request from one seeded RNG, in a fixed order (slow, drop, 429, 5xx, then the
ones that act on the answer: drop after submit, truncated download). Drawing happens only for
rates above zero, so a run with the same seed and the same requests sees the same faults.
The `/_sim/*` control endpoints are exempt.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from seedance_desktop.simulator.config import SimulatorConfig
from seedance_desktop.simulator.log import LogEntry, RequestLog
from seedance_desktop.simulator.transport import drop_connection

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_NOT_SUBMIT_ROOTS = frozenset({"storage", "files", "_sim"})
_REQUEST_PATH = re.compile(r"^/[^/]+/[^/]+/requests/(?P<id>[^/]+)")


def is_submit(method: str, path: str) -> bool:
    """POST /{owner}/{app}/{path…}: everything POSTed outside storage and control endpoints."""
    return method == "POST" and path.strip("/").split("/", 1)[0] not in _NOT_SUBMIT_ROOTS


def _hit(rng: random.Random, rate: float) -> bool:
    return rate > 0 and rng.random() < rate


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((v for k, v in scope.get("headers", []) if k.lower() == name), None)


async def _send_json(send: Send, status: int, body: object, headers: dict[str, str]) -> None:
    data = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


class SimMiddleware:
    def __init__(self, app: ASGIApp, config: SimulatorConfig, log: RequestLog) -> None:
        self.app = app
        self.config = config
        self.log = log
        self.rng = random.Random(config.faults.seed)

    def reseed(self) -> None:
        self.rng = random.Random(self.config.faults.seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        original_path: str = scope["path"]
        if len(original_path) > 1 and original_path.endswith("/"):
            scope = dict(scope, path=original_path.rstrip("/") or "/")
        about = _REQUEST_PATH.match(scope["path"])
        info: dict[str, str | None] = {
            "request_id": about["id"] if about else None,
            "model_id": None,
        }
        scope["sim"] = info
        call = _Call(scope, info, self.log, original_path)
        try:
            await self._handle(scope, receive, call.wrap(send), call)
        except BaseException:
            call.record(500)
            raise

    async def _handle(self, scope: Scope, receive: Receive, send: Send, call: _Call) -> None:
        path, method = scope["path"], scope["method"]
        if path == "/_sim" or path.startswith("/_sim/"):
            await self.app(scope, receive, send)
            return
        faults, rng = self.config.faults, self.rng
        if faults.slow_s > 0:
            await asyncio.sleep(faults.slow_s)
        if _hit(rng, faults.rate_drop):
            call.record(None)
            if await drop_connection(scope):
                return
            raise ConnectionAbortedError("could not drop the connection")
        if _hit(rng, faults.rate_429):
            retry_after = "0" if self.config.instant else "1"
            headers = {"Retry-After": retry_after}
            if request_id := scope["sim"]["request_id"]:
                headers["x-fal-request-id"] = request_id
            await _send_json(send, 429, {"detail": "Too many requests; slow down."}, headers)
            return
        submit = is_submit(method, path)
        if _hit(rng, faults.rate_5xx):
            # On submit, no x-fal-request-id: the request provably did not enter the queue.
            status = rng.choice((502, 503) if submit else (500, 503))
            request_id = scope["sim"]["request_id"]
            headers = {"x-fal-request-id": request_id} if request_id else {}
            await _send_json(send, status, {"detail": "Simulated service failure."}, headers)
            return
        if submit and _hit(rng, faults.drop_after_submit):
            call.drop_on_start = True
        elif (
            method == "GET"
            and path.startswith("/files/")
            and _header(scope, b"range") is None
            and _hit(rng, faults.truncate_download_rate)
        ):
            call.truncate = True
        await self.app(scope, receive, send)


class _Call:
    """One request's passage: records its log entry once, and cuts its answer when told to."""

    def __init__(
        self, scope: Scope, info: dict[str, str | None], log: RequestLog, path: str
    ) -> None:
        self.scope = scope
        self.info = info
        self.log = log
        self.path = path
        self.started = time.time()
        self.recorded = False
        self.dropped = False
        self.drop_on_start = False
        self.truncate = False
        self._limit = 0
        self._sent = 0

    def record(self, status: int | None) -> None:
        if self.recorded:
            return
        self.recorded = True
        self.log.add(
            LogEntry(
                method=self.scope["method"],
                path=self.path,
                query=self.scope.get("query_string", b"").decode("latin-1"),
                status=status,
                request_id=self.info["request_id"],
                model_id=self.info["model_id"],
                has_auth=_header(self.scope, b"authorization") is not None,
                time=self.started,
            )
        )

    def wrap(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if self.dropped:
                return
            if message["type"] == "http.response.start":
                await self._start(send, message)
            elif message["type"] == "http.response.body" and self.truncate:
                await self._body_cut(send, message)
            else:
                await send(message)

        return wrapped

    async def _start(self, send: Send, message: Message) -> None:
        status = int(message["status"])
        if self.drop_on_start and 200 <= status < 300:
            # The job exists now, but the client never learns it: the ambiguous submit.
            self.record(None)
            self.dropped = await drop_connection(self.scope)
            if self.dropped:
                return
        self.record(status)
        if self.truncate:
            length = dict(message.get("headers", [])).get(b"content-length")
            self.truncate = status == 200 and length is not None and int(length) > 1
            self._limit = int(length) // 2 if self.truncate and length else 0
        await send(message)

    async def _body_cut(self, send: Send, message: Message) -> None:
        chunk: bytes = message.get("body", b"")
        room = self._limit - self._sent
        if len(chunk) < room:
            self._sent += len(chunk)
            await send(message)
            return
        # Full Content-Length was promised; send half the body, then close the socket.
        await send({"type": "http.response.body", "body": chunk[:room], "more_body": True})
        self.dropped = await drop_connection(self.scope)
