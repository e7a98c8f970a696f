"""What other processes say to the process that owns a data folder, over its local socket.

One JSON object per line each way: a request `{"command": ..., ...}` and its reply
`{"ok": bool, "message": str, "exit_code": int}`. Pure (no sockets, no Qt): the window's server
(ui/single_instance.py) and the command line's client (cli/owner_client.py) share it.

Commands: `open` (a second start of the window hands its files over), `ping`, `enqueue` (with
`shots`, each as `shot_to_json` writes it: `generate` and `batch` hand their jobs to the window;
the reply carries `job_ids`), and the job actions of the actions table (`cancel`, `retry`,
`fetch-again`, `resubmit`, `drop`, `remove`) plus `resolve` (with `decision`), each with `job_id`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seedance_desktop.engine.actions import JobAction, Resolution

OPEN = "open"
PING = "ping"
ENQUEUE = "enqueue"
RESOLVE = "resolve"
JOB_COMMANDS = (*(action.value for action in JobAction), RESOLVE)
COMMANDS = (OPEN, PING, ENQUEUE, *JOB_COMMANDS)
MAX_LINE_BYTES = 1 << 20

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class ProtocolError(Exception):
    """A line that is not a request (or a reply) of this protocol."""


@dataclass(frozen=True)
class Reply:
    ok: bool
    message: str
    exit_code: int = EXIT_OK
    job_ids: tuple[int, ...] = ()  # the jobs an `enqueue` made

    def to_json(self) -> dict[str, Any]:
        reply: dict[str, Any] = {"ok": self.ok, "message": self.message}
        reply["exit_code"] = self.exit_code
        if self.job_ids:
            reply["job_ids"] = list(self.job_ids)
        return reply


def server_name(data_folder: Path) -> str:
    """The local server's name for one data folder: two SEEDANCE_HOMEs never meet. Short, as a
    Unix socket path is limited to about 100 bytes."""
    digest = hashlib.sha256(str(data_folder.expanduser().resolve()).encode()).hexdigest()
    return f"seedance-desktop-{digest[:16]}"


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=True, separators=(",", ":")).encode() + b"\n"


def open_request(files: list[str]) -> dict[str, Any]:
    return {"command": OPEN, "files": files}


def enqueue_request(shots: list[dict[str, object]]) -> dict[str, Any]:
    return {"command": ENQUEUE, "shots": shots}


def job_request(command: str, job_id: int, **extra: str) -> dict[str, Any]:
    return {"command": command, "job_id": job_id, **extra}


def decode_request(line: bytes) -> dict[str, Any]:
    """A checked request; `ProtocolError` (with a message for the sender) otherwise."""
    message = _decode(line)
    command = message.get("command")
    if command not in COMMANDS:
        raise ProtocolError(f"Unknown command {command!r}.")
    if command == OPEN:
        files = message.get("files", [])
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise ProtocolError("`files` must be a list of paths.")
    if command == ENQUEUE:
        shots = message.get("shots")
        if not isinstance(shots, list) or not shots or not all(isinstance(x, dict) for x in shots):
            raise ProtocolError("`shots` must be a list of shots.")
    if command in JOB_COMMANDS:
        job_id = message.get("job_id")
        if not isinstance(job_id, int) or isinstance(job_id, bool):
            raise ProtocolError("`job_id` must be a job number.")
    if command == RESOLVE and message.get("decision") not in set(Resolution):
        raise ProtocolError("`decision` must be resubmit or drop.")
    return message


def decode_reply(line: bytes) -> Reply:
    message = _decode(line)
    ok, text, code = message.get("ok"), message.get("message"), message.get("exit_code", 0)
    ids = message.get("job_ids", [])
    if not isinstance(ok, bool) or not isinstance(text, str) or not isinstance(code, int):
        raise ProtocolError("Not a reply.")
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        raise ProtocolError("Not a reply.")
    return Reply(ok, text, code, tuple(ids))


def _decode(line: bytes) -> dict[str, Any]:
    if len(line) > MAX_LINE_BYTES:
        raise ProtocolError("The message is too long.")
    try:
        message = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ProtocolError("Not a JSON line.") from None
    if not isinstance(message, dict):
        raise ProtocolError("Not a JSON object.")
    return message
