"""The owner's socket protocol (pure) and the folder lock within one process."""

from __future__ import annotations

from pathlib import Path

import pytest

from seedance_desktop.engine.owner_protocol import (
    ProtocolError,
    Reply,
    decode_reply,
    decode_request,
    encode,
    job_request,
    server_name,
)
from seedance_desktop.engine.ownership import FolderBusy, acquire, is_owned


def test_each_data_folder_has_its_own_server_name(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert server_name(one) != server_name(two)
    assert server_name(one) == server_name(tmp_path / "x" / ".." / "one")
    assert len(server_name(one)) < 40  # Unix socket paths are short


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b"[]\n", "Not a JSON object."),
        (b"\xff\n", "Not a JSON line."),
        (b'{"command": "format-disk"}', "Unknown command 'format-disk'."),
        (b'{"command": "cancel", "job_id": "1"}', "`job_id` must be a job number."),
        (b'{"command": "cancel", "job_id": true}', "`job_id` must be a job number."),
        (b'{"command": "resolve", "job_id": 1, "decision": "pay"}', "`decision` must be"),
        (b'{"command": "open", "files": [1]}', "`files` must be a list of paths."),
        (b'{"command": "enqueue", "shots": []}', "`shots` must be a list of shots."),
    ],
)
def test_malformed_requests_are_refused_with_a_reason(line: bytes, problem: str) -> None:
    with pytest.raises(ProtocolError, match=problem.replace("(", r"\(")[:20]):
        decode_request(line)


def test_requests_and_replies_round_trip() -> None:
    request = job_request("resolve", 3, decision="drop")
    assert decode_request(encode(request).strip()) == request
    reply = decode_reply(b'{"ok": false, "message": "No.", "exit_code": 1}')
    assert (reply.ok, reply.message, reply.exit_code, reply.job_ids) == (False, "No.", 1, ())
    queued = Reply(True, "Queued.", job_ids=(4, 5))
    assert decode_reply(encode(queued.to_json()).strip()) == queued


def test_the_lock_is_exclusive_until_released(tmp_path: Path) -> None:
    lock = acquire(tmp_path)
    assert is_owned(tmp_path)
    with pytest.raises(FolderBusy, match="already running on this library"):
        acquire(tmp_path)
    lock.release()
    assert not is_owned(tmp_path)
    acquire(tmp_path).release()
