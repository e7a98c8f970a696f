"""A real HTTP server in front of the simulator that passes requests on, except those a test has
scripted an answer for: a 408 to a submit, an unreadable status or result, a status value fal does
not have. It counts what reached it. Used by engine tests that need fal to misbehave in one exact
way; everything else is the simulator's real answer."""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass
class Script:
    """Answers for requests whose method matches and whose path matches `path` (a regex), used
    in turn; with `repeat`, the last one is given for ever. Once used up, requests pass on."""

    method: str
    path: str
    answers: list[Answer]
    repeat: bool = False
    used: int = 0


@dataclass
class Proxy:
    server: ThreadingHTTPServer
    upstream: str
    scripts: list[Script] = field(default_factory=list)
    seen: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, method: str, path: str, *answers: Answer, repeat: bool = False) -> Script:
        script = Script(method, path, list(answers), repeat)
        with self.lock:
            self.scripts.append(script)
        return script

    def count(self, method: str, path: str) -> int:
        with self.lock:
            return sum(1 for m, p in self.seen if m == method and re.search(path, p))

    def scripted(self, method: str, path: str) -> Answer | None:
        with self.lock:
            self.seen.append((method, path))
            for script in self.scripts:
                if script.method != method or not re.search(script.path, path):
                    continue
                if script.used < len(script.answers):
                    script.used += 1
                    return script.answers[script.used - 1]
                if script.repeat and script.answers:
                    return script.answers[-1]
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    proxy: Proxy

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0]
        if path.endswith("/stream"):  # followed by polling, which the scripts can shape
            self._answer(Answer(404, b'{"detail": "Not Found"}'))
            return
        scripted = self.proxy.scripted(self.command, path)
        if scripted is not None:
            self._answer(scripted)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers.pop("Host", None)
        with httpx.Client(timeout=30) as http:
            upstream = http.request(
                self.command, self.proxy.upstream + self.path, headers=headers, content=body
            )
        self.send_response(upstream.status_code)
        for name, value in upstream.headers.items():
            if name.lower() not in _HOP_BY_HOP | {"content-encoding"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(upstream.content)))
        self.end_headers()
        self.wfile.write(upstream.content)

    def _answer(self, answer: Answer) -> None:
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_HEAD = _handle


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


@contextmanager
def running_proxy(upstream: str) -> Iterator[Proxy]:
    handler = type("Handler", (_Handler,), {})
    server = _QuietServer(("127.0.0.1", 0), handler)
    proxy = Proxy(server, upstream.rstrip("/"))
    handler.proxy = proxy  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
