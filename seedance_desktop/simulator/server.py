"""The simulator's HTTP surface: fal's queue, storage and CDN on one origin (a Starlette app).

Queue: submit, status (+ SSE stream), result and cancel, under `/{owner}/{app}/requests/{id}`.
Storage: the token, `/files/upload`, the initiate + PUT fallback, and files served back without
auth (with byte ranges). Control for tests and the CLI: `/_sim/log`, `/_sim/faults`, `/_sim/expire`.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from seedance_desktop.domain.endpoints import ENDPOINTS
from seedance_desktop.simulator.config import SimulatorConfig
from seedance_desktop.simulator.jobs import Job, JobQueue, State
from seedance_desktop.simulator.log import RequestLog
from seedance_desktop.simulator.middleware import SimMiddleware
from seedance_desktop.simulator.pipeline import Pipeline, sim_flags
from seedance_desktop.simulator.storage import Storage, UploadTooLarge, iso_time

MAX_SUBMIT_BYTES = 10 * 1024 * 1024
_TRUE = frozenset({"1", "true", "yes", "on"})
_LOCKED = (
    "User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing."
)


@dataclass
class SimState:
    """Everything the routes share, on the server's loop (storage and log are thread-safe)."""

    config: SimulatorConfig
    log: RequestLog
    storage: Storage
    queue: JobQueue
    executor: ThreadPoolExecutor
    own_netlocs: set[str] = field(default_factory=set)  # filled in once the port is known

    def netlocs_for(self, request: Request) -> frozenset[str]:
        host = request.headers.get("host", "").lower()
        return frozenset({*self.own_netlocs, host} - {""})


def _base_url(request: Request) -> str:
    """The origin the client used to reach us: every URL we answer points back at it."""
    return str(request.base_url).rstrip("/")


def _json(status: int, body: object, request_id: str | None = None) -> JSONResponse:
    headers = {"x-fal-request-id": request_id} if request_id else None
    return JSONResponse(body, status_code=status, headers=headers)


def _key_refusal(request: Request) -> Response | None:
    """fal's answers for a missing, unknown or locked key. The key itself is never kept."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    key = key.strip()
    request_id = request.scope["sim"]["request_id"]  # set for calls about a request
    if scheme.lower() != "key" or not key or key.startswith("invalid"):
        return _json(401, {"detail": "No user found for Key ID and Secret"}, request_id)
    if key.startswith("locked"):
        return _json(403, {"detail": _LOCKED}, request_id)
    return None


def _with_logs(request: Request) -> bool:
    return request.query_params.get("logs", "0").strip().lower() in _TRUE


async def _limited(stream: AsyncIterator[bytes], cap: int) -> bytes:
    data = bytearray()
    async for chunk in stream:
        data += chunk
        if len(data) > cap:
            raise UploadTooLarge
    return bytes(data)


def _declared_too_large(request: Request, cap: int) -> bool:
    length = request.headers.get("content-length", "")
    return length.isdigit() and int(length) > cap


class Routes:
    def __init__(self, state: SimState) -> None:
        self.s = state

    # Queue -----------------------------------------------------------------------------------

    async def submit(self, request: Request) -> Response:
        if refusal := _key_refusal(request):
            return refusal
        model_id = request.path_params["model"].strip("/")
        if model_id not in ENDPOINTS:
            return _json(404, {"detail": f"Application '{model_id}' not found"})
        try:
            body = await _limited(request.stream(), MAX_SUBMIT_BYTES)
        except UploadTooLarge:
            return _json(413, {"detail": "Request body is too large"})
        try:
            payload: object = json.loads(body)
        except ValueError:
            payload = body.decode("utf-8", "replace")  # completes as a 422, like a bad field
        job = self.s.queue.submit(
            model_id,
            payload,
            _base_url(request),
            self.s.netlocs_for(request),
            slow="slow" in sim_flags(payload),
            low_priority=request.headers.get("x-fal-queue-priority", "").lower() == "low",
            start_timeout_s=_float(request.headers.get("x-fal-request-timeout")),
        )
        request.scope["sim"].update(request_id=job.id, model_id=model_id)
        answer: dict[str, object] = {
            "request_id": job.id,
            **job.urls(),
            "status": State.IN_QUEUE.value,
        }
        answer["queue_position"] = job.position or 0
        return _json(200, answer, job.id)

    def _job(self, request: Request) -> Job | Response:
        """The request's job, or the answer that refuses it."""
        if refusal := _key_refusal(request):
            return refusal
        params = request.path_params
        request_id = params["request_id"]
        request.scope["sim"]["request_id"] = request_id
        job = self.s.queue.get(f"{params['owner']}/{params['app']}", request_id)
        if job is None:
            return _json(404, {"detail": "Request not found"}, request_id)
        return job

    async def status(self, request: Request) -> Response:
        job = self._job(request)
        if isinstance(job, Response):
            return job
        code = 200 if job.state is State.COMPLETED else 202
        return _json(code, job.status_json(_with_logs(request)), job.id)

    async def stream(self, request: Request) -> Response:
        job = self._job(request)
        if isinstance(job, Response):
            return job
        headers = {"x-fal-request-id": job.id, "cache-control": "no-cache"}
        return StreamingResponse(
            self._events(job, _with_logs(request)), media_type="text/event-stream", headers=headers
        )

    async def _events(self, job: Job, with_logs: bool) -> AsyncIterator[str]:
        """One `data:` event per change, `: ping` comments while idle, closed after COMPLETED."""
        seen, last, last_sent = -1, "", time.monotonic()
        while not self.s.queue.closed:
            if job.version != seen:
                seen = job.version
                text = json.dumps(job.status_json(with_logs))
                if text != last:  # e.g. a new log line, when logs were not asked for
                    last, last_sent = text, time.monotonic()
                    yield f"data: {text}\n\n"
                if job.state is State.COMPLETED:
                    return
                continue
            quiet_for = time.monotonic() - last_sent
            if not await job.wait_change(seen, max(0.0, self.s.config.keepalive_s - quiet_for)):
                last_sent = time.monotonic()
                yield ": ping\n\n"

    async def result(self, request: Request) -> Response:
        job = self._job(request)
        if isinstance(job, Response):
            return job
        if job.state is not State.COMPLETED or job.outcome is None:
            return _json(400, {"detail": "Request is still in progress"}, job.id)
        outcome = job.outcome
        headers = {**outcome.headers, "x-fal-request-id": job.id}
        return JSONResponse(outcome.body, status_code=outcome.status_code, headers=headers)

    async def cancel(self, request: Request) -> Response:
        if refusal := _key_refusal(request):
            return refusal
        job = self._job(request)
        request_id = request.path_params["request_id"]
        if isinstance(job, Response):
            return _json(404, {"status": "NOT_FOUND"}, request_id)
        outcome = self.s.queue.cancel(job)
        if outcome == "removed":
            return _json(200, {"status": "OK"}, job.id)
        if outcome == "requested":
            return _json(202, {"status": "CANCELLATION_REQUESTED"}, job.id)
        return _json(400, {"status": "ALREADY_COMPLETED"}, job.id)

    # Storage ---------------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        if refusal := _key_refusal(request):
            return refusal
        token, expires = self.s.storage.issue_token(self.s.config.token_ttl_s)
        return _json(
            200,
            {
                "token": token,
                "token_type": "Bearer",
                "base_url": _base_url(request),
                "expires_at": iso_time(expires),
            },
        )

    async def upload(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not self.s.storage.token_valid(token.strip()):
            return _json(401, {"detail": "Invalid or expired upload token"})
        if _declared_too_large(request, self.s.storage.max_upload_bytes):
            return _too_large(self.s.storage.max_upload_bytes)
        try:
            stored = await self.s.storage.receive(
                request.stream(),
                request.headers.get("x-fal-file-name"),
                request.headers.get("content-type"),
            )
        except UploadTooLarge:
            return _too_large(self.s.storage.max_upload_bytes)
        return _json(200, {"access_url": _base_url(request) + stored.url_path})

    async def initiate(self, request: Request) -> Response:
        if refusal := _key_refusal(request):
            return refusal
        try:
            body = json.loads(await _limited(request.stream(), 64 * 1024))
        except (ValueError, UploadTooLarge):
            body = None
        if not isinstance(body, dict):
            return _json(422, {"detail": "Expected a JSON object with file_name, content_type"})
        pending = self.s.storage.initiate(
            _str_or_none(body.get("file_name")), _str_or_none(body.get("content_type"))
        )
        base = _base_url(request)
        return _json(
            200,
            {
                "upload_url": f"{base}{pending.url_path}?signature={pending.signature}",
                "file_url": base + pending.url_path,
            },
        )

    async def put_file(self, request: Request) -> Response:
        """The signed PUT of the fallback flow (no auth header: the URL is the permission)."""
        pending = self.s.storage.pending(
            request.path_params["file_id"], request.query_params.get("signature", "")
        )
        if pending is None or pending.name != request.path_params["name"]:
            return _json(403, {"detail": "The upload URL is not valid"})
        if _declared_too_large(request, self.s.storage.max_upload_bytes):
            return _too_large(self.s.storage.max_upload_bytes)
        try:
            await self.s.storage.complete(
                pending, request.stream(), request.headers.get("content-type")
            )
        except UploadTooLarge:
            return _too_large(self.s.storage.max_upload_bytes)
        return _json(200, {})

    async def get_file(self, request: Request) -> Response:
        stored, _ = self.s.storage.find_by_url_path(request.url.path)
        if stored is None or not stored.path.exists():
            return _json(404, {"detail": "File not found"})
        if stored.expired:
            return _json(410, {"detail": "This file has expired"})
        return FileResponse(stored.path, media_type=stored.content_type)

    # Control ---------------------------------------------------------------------------------

    async def sim_log(self, request: Request) -> Response:
        return JSONResponse([entry.to_json() for entry in self.s.log.snapshot()])

    async def sim_faults(self, request: Request) -> Response:
        faults = self.s.config.faults
        if request.method == "POST":
            try:
                changes = json.loads(await request.body())
                if not isinstance(changes, dict):
                    raise ValueError("expected a JSON object")
                faults.update(changes)
            except ValueError as exc:
                return _json(422, {"detail": str(exc)})
            if "seed" in changes:
                request.app.state.reseed()
        return JSONResponse(faults.to_json())

    async def sim_expire(self, request: Request) -> Response:
        """POST {"origin": "upload" | "output" | null}: make stored files answer 410."""
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = {}
        origin = body.get("origin") if isinstance(body, dict) else None
        if origin not in ("upload", "output", None):
            return _json(422, {"detail": "origin must be upload, output or null"})
        return JSONResponse({"expired": self.s.storage.expire(origin)})


def _too_large(cap: int) -> JSONResponse:
    return _json(413, {"detail": f"Files can be up to {cap // (1024 * 1024)} MB"})


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


async def _not_found(request: Request, exc: Exception) -> Response:
    code = exc.status_code if isinstance(exc, HTTPException) else 404
    return _json(code, {"detail": exc.detail if isinstance(exc, HTTPException) else "Not Found"})


def _routes(r: Routes) -> list[Route]:
    requests = "/{owner}/{app}/requests/{request_id}"
    return [
        Route("/_sim/log", r.sim_log, methods=["GET"]),
        Route("/_sim/faults", r.sim_faults, methods=["GET", "POST"]),
        Route("/_sim/expire", r.sim_expire, methods=["POST"]),
        Route("/storage/auth/token", r.token, methods=["POST"]),
        Route("/storage/upload/initiate", r.initiate, methods=["POST"]),
        Route("/files/upload", r.upload, methods=["POST"]),
        Route("/files/{file_id}/{name}", r.get_file, methods=["GET", "HEAD"]),
        Route("/files/{file_id}/{name}", r.put_file, methods=["PUT"]),
        Route(requests + "/status/stream", r.stream, methods=["GET"]),
        Route(requests + "/status", r.status, methods=["GET"]),
        Route(requests + "/cancel", r.cancel, methods=["PUT"]),
        Route(requests, r.result, methods=["GET"]),
        Route("/{model:path}", r.submit, methods=["POST"]),
    ]


@dataclass
class SimulatorApp:
    """The ASGI app plus the handles the runner needs to stop it."""

    asgi: SimMiddleware
    state: SimState
    shutdown: Callable[[], Coroutine[Any, Any, None]]


def create_app(config: SimulatorConfig, log: RequestLog | None = None) -> SimulatorApp:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    storage = Storage(config.data_dir / "files", config.max_upload_bytes)
    executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sim-render")
    pipeline = Pipeline(storage, config.data_dir / "outputs", executor)
    queue = JobQueue(config, pipeline)
    state = SimState(config, log or RequestLog(), storage, queue, executor)
    starlette = Starlette(
        routes=_routes(Routes(state)),
        exception_handlers={404: _not_found, 405: _not_found},
    )
    asgi = SimMiddleware(starlette, config, state.log)
    starlette.state.reseed = asgi.reseed

    async def shutdown() -> None:
        await queue.close()
        executor.shutdown(wait=False, cancel_futures=True)

    return SimulatorApp(asgi, state, shutdown)
