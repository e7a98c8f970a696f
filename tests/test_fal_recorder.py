"""A tiny real HTTP server for the fal tests: it records every request's headers and serves files
with byte ranges, optionally cutting the first answers short. It plays "another origin" (where the
key must never arrive) and a CDN with awkward behaviour. Imported by the other test_fal_* files."""

from __future__ import annotations

import gzip
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Recorder:
    server: ThreadingHTTPServer
    files: dict[str, bytes] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    truncate_next: int = 0  # this many file answers are cut off halfway
    honour_range: bool = True
    gzip_files: bool = False  # answer files gzip-encoded, whatever the client asked for
    redirects: dict[str, str] = field(default_factory=dict)
    # path -> answers (status, content type, body) given in turn; the last one repeats.
    routes: dict[str, list[tuple[int, str, bytes]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def headers_seen(self) -> list[dict[str, str]]:
        with self.lock:
            return [s.headers for s in self.seen]


_RANGE = re.compile(r"^bytes=(\d+)-$")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    recorder: Recorder

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        with self.recorder.lock:
            self.recorder.seen.append(
                Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
            )

    def _route(self) -> bool:
        answers = self.recorder.routes.get(self.path.split("?")[0])
        if not answers:
            return False
        with self.recorder.lock:
            status, ctype, body = answers.pop(0) if len(answers) > 1 else answers[0]
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return True

    def do_GET(self) -> None:
        self._record()
        if self._route():
            return
        rec = self.recorder
        path = self.path.split("?")[0]
        if path in rec.redirects:
            self.send_response(302)
            self.send_header("Location", rec.redirects[path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = rec.files.get(path)
        if data is None:
            self._json(404, b'{"detail": "Not found"}')
            return
        start = 0
        match = _RANGE.match(self.headers.get("Range", ""))
        if match and rec.honour_range:
            start = int(match.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        if rec.gzip_files:
            body = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(body)))
        with rec.lock:
            cut = rec.truncate_next > 0
            rec.truncate_next -= 1 if cut else 0
        if cut:
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self._record()
        if not self._route():
            self._json(200, b'{"recorded": true}')

    do_PUT = do_POST

    def _json(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up mid-answer is what several tests do on purpose."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


@contextmanager
def running_recorder() -> Iterator[Recorder]:
    """A started recorder on 127.0.0.1 and a free port; stopped on exit."""
    handler = type("Handler", (_Handler,), {})
    server = _QuietServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    rec = Recorder(server)
    handler.recorder = rec  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with running_recorder() as rec:
        yield rec


def test_recorder_serves_ranges_and_records_headers(recorder: Recorder) -> None:
    recorder.files["/f.bin"] = bytes(range(256)) * 4
    with httpx.Client() as http:
        whole = http.get(f"{recorder.url}/f.bin", headers={"X-Probe": "1"})
        part = http.get(f"{recorder.url}/f.bin", headers={"Range": "bytes=1000-"})
    assert whole.content == recorder.files["/f.bin"]
    assert part.status_code == 206 and part.content == recorder.files["/f.bin"][1000:]
    assert recorder.headers_seen()[0]["x-probe"] == "1"
