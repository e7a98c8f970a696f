"""Streaming downloads of result media into a file the caller names.

The bytes go to `<dest>.part` in the destination folder; after a dropped connection the download
resumes with a Range request when the server answers 206 for the right offset, and restarts from
zero otherwise. The size is checked against the announced `file_size` and a cap. Only a complete
file is flushed, fsynced and renamed (`os.replace`) to `dest`; on failure the `.part` is removed,
so nothing partial ever sits under the final name. No auth header is ever sent: CDN media are
public. A `.part` left by an earlier process is not trusted and is overwritten.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import httpx

from seedance_desktop.domain.text import printable
from seedance_desktop.fal.closing import closing_stream
from seedance_desktop.fal.config import origin_of
from seedance_desktop.fal.errors import (
    DiskFull,
    DownloadFailed,
    FalError,
    LocalFileError,
    ResultExpired,
    UnsafeUrl,
    error_for_response,
    parse_body,
)
from seedance_desktop.fal.retry import (
    CallKind,
    RetryPolicy,
    exception_is_retryable,
    network_error,
    parse_retry_after,
    send_with_retry,
)

ProgressCallback = Callable[[int, int | None], object]

WRITE_BUFFER_BYTES = 1024 * 1024
# How often the written part is handed to the disk while the download goes on, so that the final
# fsync has little left to wait for (about 90 ms of a 200 MB download otherwise).
WRITEBACK_EVERY_BYTES = 8 * 1024 * 1024
MAX_NAME_BYTES = 200
MAX_REDIRECTS = 10
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)
_CONTENT_RANGE = re.compile(r"^bytes\s+(\d+)-(\d+)/(\d+|\*)$")
_DISK_FULL = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})


def safe_file_name(name: str | None, fallback: str) -> str:
    """A plain file name (no folders, no tricks) from a name a server sent, or `fallback`.

    Keeps only the last path component, drops control and reserved characters, leading dots and
    trailing dots/spaces, avoids Windows device names, and limits the length (keeping the
    extension). Never returns "", "." or "..".
    """
    if not name:
        return fallback
    text = unicodedata.normalize("NFC", name)
    text = re.split(r"[\\/]", text)[-1]
    text = _FORBIDDEN.sub("_", text)
    text = text.strip().lstrip(".").rstrip(". ")
    if not text or set(text) <= {"_"}:
        return fallback
    stem, dot, ext = text.rpartition(".")
    if not dot:
        stem, ext = text, ""
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    suffix = f".{ext}" if dot else ""
    if len(suffix.encode()) > 20:
        stem, suffix = stem + suffix, ""
    while len((stem + suffix).encode()) > MAX_NAME_BYTES:
        stem = stem[:-1]
    result = (stem + suffix).rstrip(". ")
    return result or fallback


class _PartFile:
    """The `.part` file; every OS call runs in a worker thread and maps to our errors."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO | None = None
        self._written_back = 0  # bytes already handed to the disk

    async def open(self) -> None:
        await self._io(self._open)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("wb")

    async def write(self, data: bytes) -> None:
        assert self._file is not None
        await self._io(self._write, self._file, data)

    def _write(self, handle: BinaryIO, data: bytes) -> None:
        handle.write(data)
        end = handle.tell()
        if end - self._written_back >= WRITEBACK_EVERY_BYTES:
            self._start_writeback(handle, end)

    def _start_writeback(self, handle: BinaryIO, end: int) -> None:
        """Start writing [written_back, end) to the disk without waiting for it. On Linux,
        POSIX_FADV_DONTNEED starts the writeback of dirty pages (and frees them once clean);
        elsewhere the final fsync does all the work."""
        advise = getattr(os, "posix_fadvise", None)
        if advise is not None:
            handle.flush()
            with contextlib.suppress(OSError):
                advise(handle.fileno(), self._written_back, end - self._written_back,
                       os.POSIX_FADV_DONTNEED)  # fmt: skip
        self._written_back = end

    async def truncate(self) -> None:
        assert self._file is not None

        def reset(handle: BinaryIO) -> None:
            handle.seek(0)
            handle.truncate()
            self._written_back = 0

        await self._io(reset, self._file)

    async def commit(self, dest: Path) -> None:
        assert self._file is not None
        handle, self._file = self._file, None

        def finish() -> None:
            try:
                handle.flush()
                os.fsync(handle.fileno())
            finally:
                handle.close()
            self.path.replace(dest)  # atomic rename (os.replace)
            _fsync_dir(dest.parent)

        await self._io(finish)

    async def discard(self) -> None:
        handle, self._file = self._file, None

        def remove() -> None:
            if handle is not None:
                with contextlib.suppress(OSError):
                    handle.close()
            with contextlib.suppress(OSError):
                self.path.unlink(missing_ok=True)

        await asyncio.to_thread(remove)

    async def _io(self, func: Callable[..., object], *args: object) -> None:
        try:
            await asyncio.to_thread(func, *args)
        except OSError as exc:
            if exc.errno in _DISK_FULL:
                raise DiskFull(
                    f"The disk is full: {self.path.parent.name or self.path.parent} has no room "
                    "for the video. Free some space, then download again."
                ) from None
            raise LocalFileError(
                f"Could not write the video file: {exc.strerror or 'unknown error'}."
            ) from None


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _announced_total(response: httpx.Response, offset: int) -> int | None:
    """The full file size the answer implies, if it says."""
    if response.status_code == 206:
        match = _CONTENT_RANGE.match(response.headers.get("content-range", "").strip())
        if match and match.group(3) != "*":
            return int(match.group(3))
    length = response.headers.get("content-length")
    if length is not None and length.isdigit() and "content-encoding" not in response.headers:
        return offset + int(length)
    return None


def _range_start(response: httpx.Response) -> int | None:
    match = _CONTENT_RANGE.match(response.headers.get("content-range", "").strip())
    return int(match.group(1)) if match else None


async def download_file(
    http: httpx.AsyncClient,
    url: str,
    dest: Path,
    *,
    policy: RetryPolicy,
    expected_size: int | None = None,
    max_bytes: int = 2 * 1024**3,
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Download `url` into `dest` (see the module doc). Returns `dest`."""
    try:
        origin_of(url)
    except ValueError:
        raise UnsafeUrl("The video address is not an http(s) address.") from None
    if expected_size is not None and expected_size > max_bytes:
        raise DownloadFailed("The video is larger than this app accepts.")
    part = _PartFile(dest.with_name(dest.name + ".part"))
    await part.open()
    try:
        await _fetch(http, url, part, policy, expected_size, max_bytes, on_progress)
        await part.commit(dest)
    except BaseException:
        await part.discard()
        raise
    return dest


async def _fetch(
    http: httpx.AsyncClient,
    url: str,
    part: _PartFile,
    policy: RetryPolicy,
    expected_size: int | None,
    max_bytes: int,
    on_progress: ProgressCallback | None,
) -> None:
    done = 0
    stalls = 0  # interrupted attempts in a row that brought no new bytes
    while True:
        headers = {"Accept-Encoding": "identity"}
        if done:
            headers["Range"] = f"bytes={done}-"
        response = await _get_following_redirects(http, policy, url, headers)
        try:
            before = done
            done, finished = await _receive(
                response, part, done, expected_size, max_bytes, on_progress
            )
        finally:
            await response.aclose()
        if finished:
            return
        stalls = 0 if done > before else stalls + 1
        if stalls >= policy.max_attempts:
            raise DownloadFailed("The download kept failing. Try again later.")
        await policy.sleep(policy.delay_s(max(1, stalls)))


async def _get_following_redirects(
    http: httpx.AsyncClient, policy: RetryPolicy, url: str, headers: dict[str, str]
) -> httpx.Response:
    """GET `url` (streamed), following redirects here rather than in httpx, so that a link that
    leads to a scheme other than http(s) is this download's clear failure: httpx would raise a
    transport error for it, which reads as "offline" and is retried for ever."""
    for _ in range(MAX_REDIRECTS + 1):

        def build(target: str = url) -> httpx.Request:
            return http.build_request("GET", target, headers=headers)

        response = await send_with_retry(
            http, policy, CallKind.IDEMPOTENT, build, what="download", stream=True
        )
        following = response.next_request
        if following is None:
            return response
        await response.aclose()
        scheme = following.url.scheme
        if scheme not in ("http", "https"):
            shown = printable(scheme, keep_newlines=False)[:20] or "no scheme"
            failure = DownloadFailed(
                f"fal's result link redirects to an unsupported address ({shown}); the video "
                "could not be downloaded."
            )
            failure.retryable = False  # the same link will lead to the same place
            raise failure
        url = str(following.url)
    raise DownloadFailed("fal's result link redirects too many times; the video was not fetched.")


async def _receive(
    response: httpx.Response,
    part: _PartFile,
    done: int,
    expected_size: int | None,
    max_bytes: int,
    on_progress: ProgressCallback | None,
) -> tuple[int, bool]:
    """Consume one answer. Returns (bytes now in the file, whether the download is complete)."""
    status = response.status_code
    if status in (404, 410):
        raise ResultExpired("The video is no longer available (it expired or was removed).")
    if status == 416 and done:
        await part.truncate()  # our offset makes no sense to the server: start over
        return 0, False
    if not response.is_success:
        await response.aread()
        raise _error(response)
    if done and (status != 206 or _range_start(response) != done):
        await part.truncate()  # the server sent the whole file (or another range): start over
        done = 0
    total = _announced_total(response, done)
    if total is not None and expected_size is not None and total != expected_size:
        raise DownloadFailed(
            f"The server announced {total} bytes but the result said {expected_size}."
        )
    if total is not None and total > max_bytes:
        raise DownloadFailed("The video is larger than this app accepts.")
    limit = expected_size if expected_size is not None else total
    buffer = bytearray()
    failure: httpx.TransportError | None = None
    # Identity was asked for: with no encoding the raw body is the file, without httpx's decoder
    # and re-chunking layers in the way of each 64 KiB read.
    encoded = response.headers.get("content-encoding", "identity").lower() != "identity"
    body = response.aiter_bytes() if encoded else response.aiter_raw()
    # Closed in this task (see client._read_stream): never left to the garbage collector.
    async with closing_stream(body) as chunks:
        while True:
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                break
            except httpx.TransportError as exc:
                failure = exc
                break
            buffer += chunk
            size = done + len(buffer)
            if size > max_bytes or (limit is not None and size > limit):
                raise DownloadFailed("The server sent more bytes than announced.")
            if len(buffer) >= WRITE_BUFFER_BYTES:
                await part.write(bytes(buffer))
                done += len(buffer)
                buffer.clear()
            if on_progress is not None:
                on_progress(size, limit)
    if buffer:
        await part.write(bytes(buffer))
        done += len(buffer)
    if failure is not None:
        retryable = exception_is_retryable(failure)
        error = network_error(failure)
        del failure
        if not retryable:
            raise error
        return done, False
    if limit is not None and done < limit:
        return done, False  # a clean end short of the size: resume
    return done, True


def _error(response: httpx.Response) -> FalError:
    return error_for_response(
        response.status_code,
        response.headers,
        parse_body(response.content),
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )
