"""Uploads of local reference files to fal's storage (the CDN), streamed from disk.

1. `POST {rest}/storage/auth/token?storage_type=fal-cdn-v3` with the Key header → a storage token,
   cached until shortly before its `expires_at`.
2. `POST {cdn}/files/upload` with `Authorization: <token_type> <token>` (not the key) → access_url.
3. On 404/405 from step 2: `POST {rest}/storage/upload/initiate` → {upload_url, file_url}, then
   `PUT upload_url` with no auth header at all (it is a pre-signed URL).
The upload goes to the configured CDN base, not to the token's `base_url`: an address that came in a
response body is not trusted with credentials.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import time
import unicodedata
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from seedance_desktop.domain.media_info import MediaInfo
from seedance_desktop.fal.config import FalConfig, origin_of
from seedance_desktop.fal.errors import (
    FalError,
    LocalFileError,
    UnexpectedResponse,
    UnsafeUrl,
    error_for_response,
    parse_body,
)
from seedance_desktop.fal.retry import CallKind, RetryPolicy, parse_retry_after, send_with_retry

STORAGE_TYPE = "fal-cdn-v3"
CHUNK_BYTES = 1024 * 1024
TOKEN_MARGIN_S = 60.0
DEFAULT_TOKEN_LIFETIME_S = 300.0

ProgressCallback = Callable[[int, int | None], object]
AuthHeaders = Callable[[str], dict[str, str]]

# Formats as a probe names them (MediaInfo.format) and extensions, to MIME types.
_CONTENT_TYPES: Mapping[str, str] = {
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "avif": "image/avif",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "quicktime": "video/quicktime",
    "webm": "video/webm",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "m4a": "audio/mp4",
    "ogg": "audio/ogg",
}


def content_type_for(path: Path, info: MediaInfo | None = None) -> str:
    """The MIME type to upload with: from the probed format when known, else the extension."""
    if info is not None:
        found = _CONTENT_TYPES.get(info.format.lower())
        if found:
            return found
    ext = path.suffix.lower().lstrip(".")
    if ext in _CONTENT_TYPES:
        return _CONTENT_TYPES[ext]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def header_file_name(name: str) -> str:
    """A file name that is safe inside an HTTP header (ASCII, no control characters)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    cleaned = "".join(
        ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\' else "_" for ch in ascii_name
    )
    return cleaned.strip() or "upload"


def _parse_expiry(value: object, now: float) -> float:
    if isinstance(value, int | float):
        # Seconds, or milliseconds when absurdly large.
        return float(value) / 1000 if value > 1e11 else float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return now + DEFAULT_TOKEN_LIFETIME_S
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    return now + DEFAULT_TOKEN_LIFETIME_S


@dataclass(frozen=True)
class StorageToken:
    token: str = field(repr=False)
    token_type: str
    expires_at: float
    base_url: str | None = None

    @property
    def authorization(self) -> str:
        return f"{self.token_type} {self.token}"

    def fresh(self, now: float) -> bool:
        return now < self.expires_at - TOKEN_MARGIN_S


class Uploader:
    def __init__(
        self,
        http: httpx.AsyncClient,
        config: FalConfig,
        policy: RetryPolicy,
        auth_headers: AuthHeaders,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._config = config
        self._policy = policy
        self._auth_headers = auth_headers
        self._clock = clock
        self._token: StorageToken | None = None
        self._lock = asyncio.Lock()

    async def token(self) -> StorageToken:
        async with self._lock:
            if self._token is not None and self._token.fresh(self._clock()):
                return self._token
            self._token = await self._fetch_token()
            return self._token

    def forget_token(self) -> None:
        self._token = None

    async def _fetch_token(self) -> StorageToken:
        url = f"{self._config.rest_url}/storage/auth/token"
        headers = self._auth_headers(url) | {"Content-Type": "application/json"}

        def build() -> httpx.Request:
            return self._http.build_request(
                "POST", url, params={"storage_type": STORAGE_TYPE}, content=b"{}", headers=headers
            )

        response = await send_with_retry(
            self._http, self._policy, CallKind.IDEMPOTENT, build, what="storage token"
        )
        body = _ok_json(response)
        token, token_type = body.get("token"), body.get("token_type")
        if not isinstance(token, str) or not token or not isinstance(token_type, str):
            raise UnexpectedResponse("fal's storage sent a token this app does not understand.")
        base = body.get("base_url")
        return StorageToken(
            token=token,
            token_type=token_type,
            expires_at=_parse_expiry(body.get("expires_at"), self._clock()),
            base_url=base if isinstance(base, str) else None,
        )

    async def upload(
        self,
        path: Path,
        *,
        content_type: str | None = None,
        file_name: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> str:
        """Upload `path`; returns its public URL. The file is streamed, never read whole."""
        size = await _file_size(path)
        ctype = content_type or content_type_for(path)
        name = header_file_name(file_name or path.name)
        url = f"{self._config.cdn_url}/files/upload"
        for attempt in range(2):
            token = await self.token()
            headers = {
                "Authorization": token.authorization,
                "Content-Type": ctype,
                "Content-Length": str(size),
                "X-Fal-File-Name": name,
            }
            response = await self._send_file("POST", url, path, size, headers, on_progress)
            if response.status_code in (401, 403) and attempt == 0:
                self.forget_token()  # expired or revoked early: one fresh token, then give up
                continue
            if response.status_code in (404, 405):
                return await self._upload_via_initiate(path, size, ctype, name, on_progress)
            return _public_url(_ok_json(response), "access_url")
        raise AssertionError("unreachable")

    async def _upload_via_initiate(
        self,
        path: Path,
        size: int,
        ctype: str,
        name: str,
        on_progress: ProgressCallback | None,
    ) -> str:
        init_url = f"{self._config.rest_url}/storage/upload/initiate"
        headers = self._auth_headers(init_url) | {"Content-Type": "application/json"}
        body = json.dumps({"file_name": name, "content_type": ctype}).encode()

        def build() -> httpx.Request:
            return self._http.build_request(
                "POST",
                init_url,
                params={"storage_type": STORAGE_TYPE},
                content=body,
                headers=headers,
            )

        response = await send_with_retry(
            self._http, self._policy, CallKind.IDEMPOTENT, build, what="upload initiate"
        )
        answer = _ok_json(response)
        upload_url = _public_url(answer, "upload_url")
        file_url = _public_url(answer, "file_url")
        put_headers = {"Content-Type": ctype, "Content-Length": str(size)}
        put = await self._send_file("PUT", upload_url, path, size, put_headers, on_progress)
        if not put.is_success:
            raise _error(put)
        return file_url

    async def _send_file(
        self,
        method: str,
        url: str,
        path: Path,
        size: int,
        headers: dict[str, str],
        on_progress: ProgressCallback | None,
    ) -> httpx.Response:
        def build() -> httpx.Request:
            return self._http.build_request(
                method, url, content=_file_chunks(path, size, on_progress), headers=headers
            )

        return await send_with_retry(
            self._http, self._policy, CallKind.IDEMPOTENT, build, what="upload"
        )


async def _file_size(path: Path) -> int:
    try:
        stat = await asyncio.to_thread(path.stat)
    except OSError as exc:
        raise LocalFileError(
            f"Cannot read {path.name}: {exc.strerror or 'unknown error'}."
        ) from None
    return stat.st_size


async def _file_chunks(
    path: Path, size: int, on_progress: ProgressCallback | None
) -> AsyncIterator[bytes]:
    """Exactly `size` bytes of the file, read in a worker thread chunk by chunk."""
    try:
        handle = await asyncio.to_thread(path.open, "rb")
    except OSError as exc:
        raise LocalFileError(
            f"Cannot read {path.name}: {exc.strerror or 'unknown error'}."
        ) from None
    sent = 0
    try:
        if on_progress is not None:
            on_progress(0, size)
        while sent < size:
            chunk = await asyncio.to_thread(handle.read, min(CHUNK_BYTES, size - sent))
            if not chunk:
                raise LocalFileError(f"{path.name} became shorter while it was being uploaded.")
            sent += len(chunk)
            yield chunk
            if on_progress is not None:
                on_progress(sent, size)
    finally:
        await asyncio.to_thread(handle.close)


def _ok_json(response: httpx.Response) -> Mapping[str, object]:
    if not response.is_success:
        raise _error(response)
    body = parse_body(response.content)
    if not isinstance(body, Mapping):
        raise UnexpectedResponse("fal's storage sent an answer this app does not understand.")
    return body


def _public_url(body: Mapping[str, object], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise UnexpectedResponse("fal's storage sent an answer without a file address.")
    try:
        origin_of(value)
    except ValueError:
        raise UnsafeUrl("fal's storage sent a file address that is not http(s).") from None
    return value


def _error(response: httpx.Response) -> FalError:
    return error_for_response(
        response.status_code,
        response.headers,
        parse_body(response.content),
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )
