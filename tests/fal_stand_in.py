"""A real local HTTP server standing in for fal's storage-token call (for "Test key")."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GOOD_KEY = "good-id:good-secret"
BASES = ("SEEDANCE_FAL_QUEUE_URL", "SEEDANCE_FAL_REST_URL", "SEEDANCE_FAL_CDN_URL")


class StandInFal:
    """Answers fal's storage-token call: a token for GOOD_KEY, 401 for any other key."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                stand_in.requests.append((self.path, self.headers.get("Authorization", "")))
                if not self.path.startswith("/storage/auth/token"):
                    status, body = 404, {"detail": "Not Found"}
                elif self.headers.get("Authorization") == f"Key {GOOD_KEY}":
                    status, body = 200, {"token": "t", "token_type": "Bearer", "base_url": None}
                else:
                    status, body = 401, {"detail": "No user found for Key ID and Secret"}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
