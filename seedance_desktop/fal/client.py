"""fal's queue protocol: submit, status, status stream, follow, result, cancel.

One `FalClient` owns one long-lived `httpx.AsyncClient` (also used for uploads and downloads). The
Key header is added per request and only for URLs on the configured queue/REST origins; a status,
response or cancel URL anywhere else raises UnsafeUrl before anything is sent.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

import httpx

from seedance_desktop import __version__
from seedance_desktop.domain.text import printable
from seedance_desktop.fal.closing import closing_stream
from seedance_desktop.fal.config import FalConfig, origin_of
from seedance_desktop.fal.download import ProgressCallback, download_file
from seedance_desktop.fal.errors import (
    AccessDenied,
    BalanceExhausted,
    FalError,
    InvalidKey,
    SubmissionOutcomeUnknown,
    UnexpectedResponse,
    UnreadableAnswer,
    UnsafeUrl,
    error_for_response,
    parse_body,
    submit_refusal,
)
from seedance_desktop.fal.retry import (
    CallKind,
    RetryPolicy,
    SubmitOutcome,
    network_error,
    parse_retry_after,
    send_once,
    send_with_retry,
    submit_outcome,
)
from seedance_desktop.fal.sse import SSEParser
from seedance_desktop.fal.storage import Uploader
from seedance_desktop.preload import preload_transport

log = logging.getLogger(__name__)
T = TypeVar("T")

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
_STREAM_UNSUPPORTED = frozenset({404, 405, 406, 501})
PRIORITIES = ("normal", "low")


def app_id(model_id: str) -> str:
    """`owner/app` of a model id `owner/app[/path]` (status, result and cancel live there)."""
    parts = model_id.split("/")
    if len(parts) < 2 or not all(_SEGMENT.match(p) for p in parts):
        raise ValueError(f"not a fal model id: {model_id!r}")
    return "/".join(parts[:2])


def _check_request_id(request_id: str) -> str:
    if not _REQUEST_ID.match(request_id):
        raise ValueError("not a fal request id")
    return request_id


class State(StrEnum):
    IN_QUEUE = "IN_QUEUE"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class Handle:
    """A submitted request: its id and the three URLs fal gave (or rebuilt ones)."""

    model_id: str
    request_id: str
    status_url: str
    response_url: str
    cancel_url: str

    @classmethod
    def rebuild(cls, queue_url: str, model_id: str, request_id: str) -> Handle:
        """The URLs from the id alone, for a job saved before its URLs were."""
        base = (
            f"{queue_url.rstrip('/')}/{app_id(model_id)}/requests/{_check_request_id(request_id)}"
        )
        return cls(model_id, request_id, f"{base}/status", base, f"{base}/cancel")

    def to_json(self) -> dict[str, str]:
        return {
            "model_id": self.model_id,
            "request_id": self.request_id,
            "status_url": self.status_url,
            "response_url": self.response_url,
            "cancel_url": self.cancel_url,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object], queue_url: str | None = None) -> Handle:
        """A saved handle; missing URLs are rebuilt (which needs `queue_url`)."""
        model_id, request_id = str(data["model_id"]), str(data["request_id"])
        urls = [data.get(k) for k in ("status_url", "response_url", "cancel_url")]
        if all(isinstance(u, str) and u for u in urls):
            return cls(model_id, request_id, *(str(u) for u in urls))
        if queue_url is None:
            raise ValueError("the saved handle has no URLs and no queue URL was given")
        return cls.rebuild(queue_url, model_id, request_id)


@dataclass(frozen=True)
class LogLine:
    message: str
    level: str | None = None
    source: str | None = None
    timestamp: str | None = None

    @classmethod
    def from_json(cls, item: object) -> LogLine:
        if not isinstance(item, Mapping):
            return cls(message=printable(str(item)))

        def text(key: str) -> str | None:
            value = item.get(key)
            return None if value is None else printable(str(value), keep_newlines=False)

        return cls(
            message=printable(str(item.get("message") or "")),
            level=text("level"),
            source=text("source"),
            timestamp=text("timestamp"),
        )


@dataclass(frozen=True)
class Status:
    """One status report. Failed requests are COMPLETED with `error`/`error_type`.

    From `status()` and `stream()`, `logs` is what that answer carried. From `follow()`, `logs` is
    always the whole log so far (de-duplicated whether fal sent it cumulatively or not) and
    `new_logs` the lines added since the previous update.
    """

    state: State
    queue_position: int | None = None
    logs: tuple[LogLine, ...] = ()
    metrics: Mapping[str, object] = field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None
    new_logs: tuple[LogLine, ...] = ()
    # A status value fal does not have (only three exist), as it came: the request is taken to be
    # still running, and the value is shown to the person.
    reported: str | None = None

    @property
    def completed(self) -> bool:
        return self.state is State.COMPLETED

    @property
    def failed(self) -> bool:
        return self.completed and (self.error is not None or self.error_type is not None)

    @classmethod
    def from_json(cls, data: object) -> Status:
        if not isinstance(data, Mapping) or not isinstance(data.get("status"), str):
            raise UnreadableAnswer("fal sent a status answer this app cannot read.")
        reported: str | None = None
        try:
            state = State(data["status"])
        except ValueError:
            # Only three states exist; anything new is treated as "still running", not as final.
            state = State.IN_PROGRESS
            reported = _short_text(str(data["status"])) or "(empty)"
        position = data.get("queue_position")
        raw_logs = data.get("logs")
        metrics = data.get("metrics")
        error, error_type = data.get("error"), data.get("error_type")
        return cls(
            state=state,
            queue_position=position if isinstance(position, int) else None,
            logs=tuple(LogLine.from_json(x) for x in raw_logs)
            if isinstance(raw_logs, list)
            else (),
            metrics=dict(metrics) if isinstance(metrics, Mapping) else {},
            error=None if error is None else printable(str(error)),
            error_type=None if error_type is None else _short_text(str(error_type)),
            reported=reported,
        )


@dataclass(frozen=True)
class FalFile:
    url: str
    content_type: str | None = None
    file_name: str | None = None
    file_size: int | None = None

    @classmethod
    def from_json(cls, data: object) -> FalFile:
        if not isinstance(data, Mapping) or not isinstance(data.get("url"), str):
            raise UnreadableAnswer("fal's result has no video link.")
        url = str(data["url"])
        try:
            origin_of(url)
        except ValueError:
            raise UnsafeUrl("The result's file URL is not an http(s) address.") from None
        size = data.get("file_size")
        ctype, name = data.get("content_type"), data.get("file_name")
        return cls(
            url=url,
            content_type=ctype if isinstance(ctype, str) else None,
            file_name=name if isinstance(name, str) else None,
            file_size=size if isinstance(size, int) and size >= 0 else None,
        )


@dataclass(frozen=True)
class VideoResult:
    video: FalFile
    seed: int | None
    raw: Mapping[str, object]

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> VideoResult:
        seed = data.get("seed")
        return cls(
            FalFile.from_json(data.get("video")), seed if isinstance(seed, int) else None, data
        )


class CancelOutcome(StrEnum):
    REMOVED = "removed"  # was queued; taken out, never billed
    REQUESTED = "cancellation_requested"  # was running; the model decides, may still complete
    ALREADY_COMPLETED = "already_completed"
    NOT_FOUND = "not_found"


class StreamUnsupported(FalError):
    default_message = "The status stream is not available."


# Errors that no amount of reconnecting fixes: stop following and tell the person.
_FATAL = (InvalidKey, BalanceExhausted, AccessDenied, UnsafeUrl)

StatusCallback = Callable[[Status], object | Awaitable[object]]


class _LogBook:
    """Merges log lists that may be cumulative (polling) or partial (some streams)."""

    def __init__(self) -> None:
        self.lines: list[LogLine] = []
        self._seen: set[LogLine] = set()

    def merge(self, incoming: tuple[LogLine, ...]) -> tuple[LogLine, ...]:
        known = len(self.lines)
        if len(incoming) >= known and tuple(self.lines) == incoming[:known]:
            new = incoming[known:]
        else:
            new = tuple(line for line in incoming if line not in self._seen)
        self.lines.extend(new)
        self._seen.update(new)
        return new


class FalClient:
    """The queue client. Use as `async with FalClient(config) as fal:` or call `aclose()`."""

    def __init__(
        self,
        config: FalConfig,
        *,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        preload_transport()
        self.config = config
        self.retry = retry or RetryPolicy()
        self.http = httpx.AsyncClient(
            timeout=config.timeout(),
            limits=config.limits(),
            follow_redirects=False,
            trust_env=config.trust_env,
            transport=transport,
            headers={"User-Agent": f"seedance-desktop/{__version__}"},
        )
        self.storage = Uploader(self.http, config, self.retry, self._auth_headers)

    async def __aenter__(self) -> FalClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    # --- auth and plumbing -------------------------------------------------------------------

    def _auth_headers(self, url: str, request_id: str | None = None) -> dict[str, str]:
        """The Key header for `url`, refusing any origin other than the configured queue/REST."""
        if not self.config.key_allowed(url):
            raise UnsafeUrl(host=_host(url), request_id=request_id)
        if self.config.key is None:
            raise InvalidKey("No fal API key is set. Add your key in Settings.")
        return {"Authorization": self.config.key.authorization}

    async def _call(
        self,
        method: str,
        url: str,
        *,
        what: str,
        request_id: str | None = None,
        params: Mapping[str, str] | None = None,
        final: Callable[[httpx.Response], bool] | None = None,
    ) -> httpx.Response:
        headers = self._auth_headers(url, request_id) | {"Accept": "application/json"}

        def build() -> httpx.Request:
            return self.http.build_request(method, url, params=params, headers=headers)

        return await send_with_retry(
            self.http, self.retry, CallKind.IDEMPOTENT, build, what=what, final=final
        )

    # --- submit ------------------------------------------------------------------------------

    async def submit(
        self,
        model_id: str,
        payload: Mapping[str, object],
        *,
        priority: str | None = None,
        start_timeout_s: float | None = None,
        media_lifetime_s: int | None = None,
        store_io: bool | None = None,
    ) -> Handle:
        """POST the input. Any error other than SubmissionOutcomeUnknown means fal did not take it.

        Resent automatically only when it provably never reached fal (see retry.py).
        """
        app_id(model_id)
        url = f"{self.config.queue_url}/{model_id}"
        headers = self._auth_headers(url) | {
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        if priority is not None:
            if priority not in PRIORITIES:
                raise ValueError(f"priority must be one of {PRIORITIES}")
            headers["X-Fal-Queue-Priority"] = priority
        if start_timeout_s is not None:
            headers["X-Fal-Request-Timeout"] = f"{start_timeout_s:g}"
        if media_lifetime_s is not None:
            headers["X-Fal-Object-Lifecycle-Preference"] = json.dumps(
                {"expiration_duration_seconds": int(media_lifetime_s)}
            )
        if store_io is not None:
            headers["X-Fal-Store-IO"] = "1" if store_io else "0"
        body = json.dumps(dict(payload)).encode()

        def build() -> httpx.Request:
            return self.http.build_request("POST", url, content=body, headers=headers)

        response = await send_with_retry(
            self.http, self.retry, CallKind.SUBMIT, build, what="submit"
        )
        request_id = _request_id_header(response)
        status = response.status_code
        outcome = submit_outcome(status, response.headers)
        if outcome is SubmitOutcome.ACCEPTED:
            answer = parse_body(response.content)
            handle = self._handle_from(model_id, answer)
            if handle is None:
                raise SubmissionOutcomeUnknown(
                    f"fal answered HTTP {status} but its answer could not be read, so it is "
                    "unknown whether it accepted the request. Check your fal dashboard before "
                    "submitting again.",
                    status=status,
                    request_id=request_id or _request_id_in(answer),
                )
            log.info("fal submit %s: request %s", model_id, handle.request_id)
            return handle
        if outcome is SubmitOutcome.UNCLEAR:
            raise SubmissionOutcomeUnknown(
                f"fal answered HTTP {status} after receiving the request, so it is unknown "
                "whether it was accepted. Check your fal dashboard before submitting again.",
                status=status,
                request_id=request_id,
            )
        if outcome is SubmitOutcome.REFUSED:
            raise submit_refusal(
                status, response.headers, parse_body(response.content), request_id=request_id
            )
        raise _error(response, request_id)  # RESEND, and the resends ran out: still not taken

    def _handle_from(self, model_id: str, body: object) -> Handle | None:
        if not isinstance(body, Mapping) or not isinstance(body.get("request_id"), str):
            return None
        request_id = str(body["request_id"])
        try:
            rebuilt = Handle.rebuild(self.config.queue_url, model_id, request_id)
        except ValueError:
            return None

        def url(key: str, default: str) -> str:
            value = body.get(key)
            return value if isinstance(value, str) and value else default

        # URLs are kept as fal sent them; whether the key may go there is checked on use.
        return Handle(
            model_id,
            request_id,
            url("status_url", rebuilt.status_url),
            url("response_url", rebuilt.response_url),
            url("cancel_url", rebuilt.cancel_url),
        )

    # --- status ------------------------------------------------------------------------------

    async def _readable(self, what: str, ask: Callable[[], Awaitable[T]]) -> T:
        """`ask()`, asked again while its answer cannot be read: a paid request is never given up
        over one garbled answer. Raises UnreadableAnswer after `unreadable_attempts`."""
        delay = self.config.poll_interval_s
        attempt = 1
        while True:
            try:
                return await ask()
            except UnreadableAnswer:
                if attempt >= self.config.unreadable_attempts:
                    raise
            log.info(
                "fal %s: unreadable answer, asking again (%d/%d) in %.1f s",
                what,
                attempt,
                self.config.unreadable_attempts - 1,
                delay,
            )
            await self.retry.sleep(delay)
            delay = min(delay * 2, self.config.poll_max_interval_s)
            attempt += 1

    async def status(self, handle: Handle, *, logs: bool = True) -> Status:
        """The request's status; an unreadable answer is asked for again (see `_readable`)."""
        return await self._readable("status", lambda: self._status_once(handle, logs))

    async def _status_once(self, handle: Handle, logs: bool) -> Status:
        response = await self._call(
            "GET",
            handle.status_url,
            what="status",
            request_id=handle.request_id,
            params={"logs": "1" if logs else "0"},
        )
        if not response.is_success:
            raise _error(response, handle.request_id)
        return Status.from_json(parse_body(response.content))

    async def stream(self, handle: Handle, *, logs: bool = True) -> AsyncGenerator[Status]:
        """Statuses from the SSE stream until COMPLETED (then it stops) or the stream ends.

        Raises StreamUnsupported when the server has no stream, NetworkDown when it breaks.
        """
        headers = self._auth_headers(handle.status_url, handle.request_id)
        headers["Accept"] = "text/event-stream"
        base = httpx.URL(handle.status_url)
        url = base.copy_with(path=base.path.rstrip("/") + "/stream").copy_merge_params(
            {"logs": "1" if logs else "0"}
        )
        timeout = httpx.Timeout(
            connect=self.config.connect_timeout_s,
            read=self.config.stream_read_timeout_s,
            write=self.config.write_timeout_s,
            pool=self.config.pool_timeout_s,
        )
        request = self.http.build_request("GET", url, headers=headers, timeout=timeout)
        outcome = await send_once(self.http, request, True, False)
        if isinstance(outcome, httpx.TransportError):
            raise network_error(outcome)
        response = outcome
        try:
            content_type = response.headers.get("content-type", "")
            if response.status_code in _STREAM_UNSUPPORTED or (
                response.is_success and not content_type.startswith("text/event-stream")
            ):
                raise StreamUnsupported(status=response.status_code)
            if not response.is_success:
                await response.aread()
                raise _error(response, handle.request_id)
            async with aclosing(self._read_stream(response)) as statuses:
                async for status in statuses:
                    yield status
                    if status.completed:
                        return
        finally:
            await response.aclose()

    async def _read_stream(self, response: httpx.Response) -> AsyncGenerator[Status]:
        parser = SSEParser()
        failure: httpx.TransportError | None = None
        # Closed here, in this task: left to the garbage collector, httpcore's stream generators
        # finalise at loop shutdown and can hang it.
        async with closing_stream(response.aiter_lines()) as lines:
            while True:
                try:
                    line = await anext(lines)
                except StopAsyncIteration:
                    break
                except httpx.TransportError as exc:
                    failure = exc
                    break
                data = parser.feed(line)
                if data is not None and (status := _status_event(data)) is not None:
                    yield status
        if failure is not None:
            error = network_error(failure)
            del failure
            raise error
        last = parser.flush()
        if last is not None and (status := _status_event(last)) is not None:
            yield status

    async def follow(
        self,
        handle: Handle,
        on_update: StatusCallback | None = None,
        *,
        logs: bool = True,
        max_stream_breaks: int = 3,
    ) -> Status:
        """Report status changes until COMPLETED and return that final status.

        Streams over SSE; when the stream breaks it polls once (which also catches a completion
        the stream missed), waits, and reconnects. After `max_stream_breaks` breaks in a row, or
        when the server has no stream, it only polls, `poll_interval_s` apart growing to
        `poll_max_interval_s`. Updates carry the whole log so far plus `new_logs` (see Status).
        Errors from polling (NetworkDown after its retries, InvalidKey, …) propagate.
        """
        book = _LogBook()
        last: list[Status | None] = [None]

        async def emit(status: Status) -> Status:
            new = book.merge(status.logs)
            merged = replace(status, logs=tuple(book.lines), new_logs=new)
            previous = last[0]
            last[0] = merged
            changed = (
                previous is None
                or new
                or (previous.state, previous.queue_position, previous.reported)
                != (merged.state, merged.queue_position, merged.reported)
                or merged.completed
            )
            if changed and on_update is not None:
                outcome = on_update(merged)
                if inspect.isawaitable(outcome):
                    await outcome
            return merged

        use_stream = self.config.use_stream
        breaks = 0
        delay = self.config.poll_interval_s
        while True:
            if use_stream:
                got_event = False
                try:
                    async with aclosing(self.stream(handle, logs=logs)) as events:
                        async for status in events:
                            got_event = True
                            merged = await emit(status)
                            if merged.completed:
                                return merged
                except StreamUnsupported:
                    log.info("fal status stream unsupported; polling")
                    use_stream = False
                except _FATAL:
                    raise
                except FalError as exc:
                    log.info("fal status stream broke (%s)", type(exc).__name__)
                breaks = 0 if got_event else breaks + 1
                if breaks >= max_stream_breaks:
                    log.info("fal status stream keeps failing; polling")
                    use_stream = False
            before = last[0]
            merged = await emit(await self.status(handle, logs=logs))
            if merged.completed:
                return merged
            if before is None or (before.state, before.queue_position) != (
                merged.state,
                merged.queue_position,
            ):
                delay = self.config.poll_interval_s
            await self.retry.sleep(delay)
            delay = min(delay * 1.5, self.config.poll_max_interval_s)

    # --- result and cancel -------------------------------------------------------------------

    async def result_json(self, handle: Handle) -> dict[str, object]:
        """The model's output; a failed request raises its typed error (422, 503, 499, …).
        An unreadable answer is asked for again (see `_readable`)."""
        return await self._readable("result", lambda: self._result_once(handle))

    async def _result_once(self, handle: Handle) -> dict[str, object]:
        response = await self._call(
            "GET",
            handle.response_url,
            what="result",
            request_id=handle.request_id,
            # A 5xx naming an error type is the request's recorded outcome, not a passing fault.
            final=lambda r: "x-fal-error-type" in r.headers,
        )
        if not response.is_success:
            raise _error(response, handle.request_id)
        body = parse_body(response.content)
        if not isinstance(body, dict):
            raise UnreadableAnswer("fal sent a result answer this app cannot read.")
        return body

    async def result(self, handle: Handle) -> VideoResult:
        """The video result; an answer without a usable video link is asked for again too."""

        async def ask() -> VideoResult:
            return VideoResult.from_json(await self._result_once(handle))

        return await self._readable("result", ask)

    async def cancel(self, handle: Handle) -> CancelOutcome:
        """Ask fal to cancel. REQUESTED means the job may still complete (and be billed)."""
        response = await self._call(
            "PUT", handle.cancel_url, what="cancel", request_id=handle.request_id
        )
        body = parse_body(response.content)
        said = body.get("status") if isinstance(body, Mapping) else None
        if response.status_code == 404 or said == "NOT_FOUND":
            return CancelOutcome.NOT_FOUND
        if response.status_code == 400 or said == "ALREADY_COMPLETED":
            return CancelOutcome.ALREADY_COMPLETED
        if not response.is_success:
            raise _error(response, handle.request_id)
        if said == "CANCELLATION_REQUESTED" or (said is None and response.status_code == 202):
            return CancelOutcome.REQUESTED
        return CancelOutcome.REMOVED

    # --- files -------------------------------------------------------------------------------

    async def upload(
        self,
        path: Path,
        *,
        content_type: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> str:
        """Upload a local file to fal's storage; returns its public URL."""
        return await self.storage.upload(path, content_type=content_type, on_progress=on_progress)

    async def download(
        self,
        url: str,
        dest: Path,
        *,
        expected_size: int | None = None,
        on_progress: ProgressCallback | None = None,
        max_bytes: int | None = None,
    ) -> Path:
        """Stream `url` (never with any auth header) into `dest`, chosen by the caller."""
        return await download_file(
            self.http,
            url,
            dest,
            policy=self.retry,
            expected_size=expected_size,
            max_bytes=self.config.max_download_bytes if max_bytes is None else max_bytes,
            on_progress=on_progress,
        )

    async def download_result(
        self, result: VideoResult, dest: Path, *, on_progress: ProgressCallback | None = None
    ) -> Path:
        return await self.download(
            result.video.url, dest, expected_size=result.video.file_size, on_progress=on_progress
        )


def _host(url: str) -> str | None:
    try:
        return httpx.URL(url).host or None
    except (httpx.InvalidURL, TypeError):
        return None


def _short_text(text: str, limit: int = 60) -> str:
    """One short printable line of server text (a status value, an error key)."""
    text = " ".join(printable(text, keep_newlines=False).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _status_event(data: str) -> Status | None:
    try:
        return Status.from_json(json.loads(data))
    except (ValueError, UnexpectedResponse):
        return None


def _request_id_header(response: httpx.Response) -> str | None:
    value = response.headers.get("x-fal-request-id")
    return printable(value, keep_newlines=False).strip() or None if value else None


def _request_id_in(body: object) -> str | None:
    """A request id in a submit answer that was otherwise unreadable, if it looks like one."""
    value = body.get("request_id") if isinstance(body, Mapping) else None
    return value if isinstance(value, str) and _REQUEST_ID.match(value) else None


def _error(response: httpx.Response, request_id: str | None) -> FalError:
    return error_for_response(
        response.status_code,
        response.headers,
        parse_body(response.content),
        request_id=response.headers.get("x-fal-request-id") or request_id,
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )
