"""`follow()` over a real socket against the scripted recording server playing fal's queue:
streaming, fallback to polling with a sane interval, reconnects, logs, and refused origins."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from test_fal_recorder import Recorder, running_recorder

from seedance_desktop.fal import (
    FalClient,
    FalConfig,
    Handle,
    InvalidKey,
    RetryPolicy,
    State,
    Status,
    UnsafeUrl,
)

SECRET = "follow-key-id:follow-secret-value"
MODEL = "bytedance/seedance-2.0/text-to-video"
BASE = "/bytedance/seedance-2.0/requests/req-1"
JSON = "application/json"
SSE = "text/event-stream"


def status_json(state: str, **extra: object) -> bytes:
    return json.dumps({"status": state, **extra}).encode()


def line(message: str) -> dict[str, str]:
    return {"message": message, "level": "INFO", "source": "user", "timestamp": message}


def sse(*events: bytes, comment: bool = True) -> bytes:
    head = b": keep-alive\n\n" if comment else b""
    return head + b"".join(b"data: " + e + b"\n\n" for e in events)


@pytest.fixture
def queue() -> Iterator[Recorder]:
    with running_recorder() as rec:
        yield rec


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
async def client(queue: Recorder, slept: list[float]) -> FalClient:
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    config = FalConfig(queue_url=queue.url, rest_url=queue.url, cdn_url=queue.url).with_key(SECRET)
    fal = FalClient(config, retry=RetryPolicy(sleep=sleep, max_attempts=3))
    yield fal  # type: ignore[misc]
    await fal.aclose()


def handle_for(url: str) -> Handle:
    return Handle.rebuild(url, MODEL, "req-1")


def paths(rec: Recorder) -> list[str]:
    return [s.path.split("?")[0] for s in rec.seen]


async def test_stream_delivers_completion_without_polling(
    client: FalClient, queue: Recorder, slept: list[float]
) -> None:
    queue.routes[f"{BASE}/status/stream"] = [
        (
            200,
            SSE,
            sse(
                status_json("IN_QUEUE", queue_position=1),
                status_json("IN_PROGRESS", logs=[line("a")]),
                status_json("COMPLETED", logs=[line("a"), line("b")], metrics={"x": 1}),
            ),
        )
    ]
    updates: list[Status] = []
    final = await client.follow(handle_for(queue.url), updates.append)
    assert final.state is State.COMPLETED and final.metrics == {"x": 1}
    assert [u.state for u in updates] == [State.IN_QUEUE, State.IN_PROGRESS, State.COMPLETED]
    assert [m.message for m in final.logs] == ["a", "b"]
    assert [m.message for m in final.new_logs] == ["b"]
    assert paths(queue) == [f"{BASE}/status/stream"] and slept == []
    assert "logs=1" in queue.seen[0].path
    assert queue.seen[0].headers["accept"] == SSE
    assert queue.seen[0].headers["authorization"] == f"Key {SECRET}"


async def test_polls_a_few_seconds_apart_when_there_is_no_stream(
    client: FalClient, queue: Recorder, slept: list[float]
) -> None:
    queue.routes[f"{BASE}/status/stream"] = [(404, JSON, b'{"detail": "Not Found"}')]
    queue.routes[f"{BASE}/status"] = [
        (202, JSON, status_json("IN_QUEUE", queue_position=2, logs=None)),
        (202, JSON, status_json("IN_QUEUE", queue_position=2, logs=None)),
        (202, JSON, status_json("IN_PROGRESS", logs=[line("a")])),
        (202, JSON, status_json("IN_PROGRESS", logs=[line("a")])),
        (202, JSON, status_json("IN_PROGRESS", logs=[line("a"), line("b")])),
        (200, JSON, status_json("COMPLETED", logs=[line("a"), line("b"), line("c")])),
    ]
    updates: list[Status] = []

    async def on_update(status: Status) -> None:  # async callbacks are awaited
        updates.append(status)

    final = await client.follow(handle_for(queue.url), on_update)
    assert final.completed
    assert paths(queue) == [f"{BASE}/status/stream"] + [f"{BASE}/status"] * 6
    # Unchanged answers are not reported again; logs arrive once each, in order.
    assert [(u.state, [m.message for m in u.new_logs]) for u in updates] == [
        (State.IN_QUEUE, []),
        (State.IN_PROGRESS, ["a"]),
        (State.IN_PROGRESS, ["b"]),
        (State.COMPLETED, ["c"]),
    ]
    assert [m.message for m in final.logs] == ["a", "b", "c"]
    assert len(slept) == 5 and min(slept) >= 1.0, slept
    assert slept[1] > slept[0], "the interval grows while nothing changes"
    assert max(slept) <= client.config.poll_max_interval_s


async def test_broken_stream_falls_back_to_a_poll_and_reconnects(
    client: FalClient, queue: Recorder, slept: list[float]
) -> None:
    running = status_json("IN_PROGRESS", logs=[line("a")])
    queue.routes[f"{BASE}/status/stream"] = [
        (200, SSE, sse(running)),  # ends without COMPLETED
        (200, SSE, sse(status_json("COMPLETED", logs=[line("a"), line("b")]))),
    ]
    queue.routes[f"{BASE}/status"] = [(202, JSON, running)]
    final = await client.follow(handle_for(queue.url))
    assert final.completed and [m.message for m in final.logs] == ["a", "b"]
    assert paths(queue) == [
        f"{BASE}/status/stream",
        f"{BASE}/status",
        f"{BASE}/status/stream",
    ]
    assert len(slept) == 1


async def test_stream_that_keeps_breaking_is_given_up_for_polling(
    client: FalClient, queue: Recorder
) -> None:
    queue.routes[f"{BASE}/status/stream"] = [(200, SSE, b": nothing\n\n")]
    queue.routes[f"{BASE}/status"] = [(202, JSON, status_json("IN_PROGRESS"))] * 5 + [
        (200, JSON, status_json("COMPLETED"))
    ]
    final = await client.follow(handle_for(queue.url), max_stream_breaks=2)
    assert final.completed
    assert paths(queue).count(f"{BASE}/status/stream") == 2
    assert paths(queue).count(f"{BASE}/status") == 6


async def test_a_refused_key_stops_following(client: FalClient, queue: Recorder) -> None:
    body = b'{"detail": "No user found for Key ID and Secret"}'
    queue.routes[f"{BASE}/status/stream"] = [(401, JSON, body)]
    with pytest.raises(InvalidKey) as info:
        await client.follow(handle_for(queue.url))
    assert len(queue.seen) == 1
    assert SECRET not in str(info.value)


async def test_status_url_on_another_origin_is_refused(client: FalClient, queue: Recorder) -> None:
    with running_recorder() as other:
        foreign = handle_for(other.url)
        for call in (client.status, client.follow, client.result, client.cancel):
            with pytest.raises(UnsafeUrl):
                await call(foreign)  # type: ignore[operator]
        assert other.seen == [], "nothing at all was sent to the other origin"
    assert queue.seen == []
