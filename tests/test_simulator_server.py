"""The simulator over a real socket: fal's queue, storage and CDN protocol, faults and the log.

Each test talks HTTP to a server started on a free port (tests/sim_fixtures.py), in instant mode.
Few tests render a video (480p, 4 s); the rest use `#sim:` prompts that fail before rendering.
"""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
import wave
from collections.abc import Iterator
from pathlib import Path

import av
import httpx
import pytest
from PIL import Image

from seedance_desktop.domain.endpoints import ENDPOINTS
from seedance_desktop.simulator import cli
from seedance_desktop.simulator.config import Faults, SimulatorConfig
from seedance_desktop.simulator.runner import LogEntry, SimulatorServer

KEY = "test-key:secret"
APP = "bytedance/seedance-2.0"
T2V = f"{APP}/text-to-video"
I2V = f"{APP}/image-to-video"
R2V = f"{APP}/reference-to-video"
NO_RENDER = "a quiet lake #sim:runner_disconnected"  # completes at once, without rendering
SLOW = "a slow shot #sim:slow #sim:runner_disconnected"  # runs ~run_time_s, no render


# Helpers -------------------------------------------------------------------------------------


@pytest.fixture
def api(simulator: SimulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=simulator.url, headers={"Authorization": f"Key {KEY}"}, timeout=30
    ) as client:
        yield client


def submit(api: httpx.Client, payload: dict[str, object], model: str = T2V) -> dict[str, object]:
    answer = api.post(f"/{model}", json=payload)
    assert answer.status_code == 200, answer.text
    return answer.json()


def wait_status(
    api: httpx.Client, status_url: str, state: str = "COMPLETED", within_s: float = 30.0
) -> dict[str, object]:
    deadline = time.monotonic() + within_s
    while True:
        answer = api.get(status_url, params={"logs": 1})
        body = answer.json()
        if body["status"] == state:
            return body
        assert time.monotonic() < deadline, f"still {body['status']}"
        time.sleep(0.02)


def run(api: httpx.Client, payload: dict[str, object], model: str = T2V) -> httpx.Response:
    job = submit(api, payload, model)
    wait_status(api, str(job["status_url"]))
    return api.get(str(job["response_url"]))


def png_bytes(width: int, height: int, color: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def wav_bytes(seconds: float = 1.0, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\x00\x10" * int(seconds * rate))
    return out.getvalue()


def upload(api: httpx.Client, data: bytes, name: str, content_type: str) -> str:
    token = api.post("/storage/auth/token", params={"storage_type": "fal-cdn-v3"}, json={})
    assert token.status_code == 200
    grant = token.json()
    answer = httpx.post(
        f"{grant['base_url']}/files/upload",
        content=data,
        headers={
            "Authorization": f"{grant['token_type']} {grant['token']}",
            "Content-Type": content_type,
            "X-Fal-File-Name": name,
        },
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_url"])


def entries_for(simulator: SimulatorServer, path_part: str) -> list[LogEntry]:
    return [e for e in simulator.log if path_part in e.path]


# Submit, auth and routing ---------------------------------------------------------------------


def test_submit_answers_like_fal_for_all_six_models(
    api: httpx.Client, simulator: SimulatorServer
) -> None:
    assert len(ENDPOINTS) == 6
    for model_id in sorted(ENDPOINTS):
        answer = api.post(f"/{model_id}", json={"prompt": NO_RENDER})

        assert answer.status_code == 200
        body = answer.json()
        request_id = body["request_id"]
        assert uuid.UUID(request_id).version == 4
        assert answer.headers["x-fal-request-id"] == request_id
        base = f"{simulator.url}/{APP}/requests/{request_id}"  # owner/app only
        assert body["response_url"] == base
        assert body["status_url"] == f"{base}/status"
        assert body["cancel_url"] == f"{base}/cancel"
        assert body["status"] == "IN_QUEUE"
        assert isinstance(body["queue_position"], int)
        entry = simulator.log[-1]
        assert (entry.model_id, entry.request_id, entry.status) == (model_id, request_id, 200)


def test_unknown_model_is_404_with_a_detail(api: httpx.Client) -> None:
    answer = api.post("/bytedance/seedance-9.0/text-to-video", json={"prompt": "x"})
    assert answer.status_code == 404
    assert "seedance-9.0" in answer.json()["detail"]
    assert api.get("/no/such/thing/here").status_code in (404, 405)


@pytest.mark.parametrize(
    ("headers", "status", "detail_start"),
    [
        ({}, 401, "No user found for Key ID and Secret"),
        ({"Authorization": "Key invalid-key:x"}, 401, "No user found for Key ID and Secret"),
        ({"Authorization": "Bearer abc"}, 401, "No user found for Key ID and Secret"),
        ({"Authorization": "Key locked-account:x"}, 403, "User is locked."),
    ],
)
def test_keys_are_checked_on_every_keyed_call(
    simulator: SimulatorServer, headers: dict[str, str], status: int, detail_start: str
) -> None:
    request_id = str(uuid.uuid4())
    for method, path in [
        ("POST", f"/{T2V}"),
        ("GET", f"/{APP}/requests/{request_id}/status"),
        ("GET", f"/{APP}/requests/{request_id}/status/stream"),
        ("GET", f"/{APP}/requests/{request_id}"),
        ("PUT", f"/{APP}/requests/{request_id}/cancel"),
        ("POST", "/storage/auth/token"),
        ("POST", "/storage/upload/initiate"),
    ]:
        answer = httpx.request(method, simulator.url + path, headers=headers, json={"prompt": "x"})
        assert answer.status_code == status, path
        assert answer.json()["detail"].startswith(detail_start)
    assert not any(e.model_id for e in simulator.log), "a refused submit created no job"


def test_the_log_records_auth_presence_never_the_key(
    api: httpx.Client, simulator: SimulatorServer
) -> None:
    submit(api, {"prompt": NO_RENDER})
    httpx.get(simulator.url + "/_sim/log")

    dumped = json.dumps([e.to_json() for e in simulator.log])
    assert "secret" not in dumped and KEY not in dumped
    assert simulator.log[0].has_auth is True
    served = httpx.get(simulator.url + "/_sim/log").json()
    assert served[0]["path"] == f"/{T2V}" and "secret" not in json.dumps(served)


# Status, logs, SSE -----------------------------------------------------------------------------


def test_realistic_mode_waits_in_queue_then_runs(tmp_path: Path) -> None:
    config = SimulatorConfig(
        data_dir=tmp_path / "sim", instant=False, queue_delay_s=0.3, run_time_s=0.3
    )
    with (
        SimulatorServer(config) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Key {KEY}"}) as client,
    ):
        started = time.monotonic()
        job = submit(client, {"prompt": NO_RENDER})
        queued = client.get(str(job["status_url"]))
        assert queued.status_code == 202 and queued.json()["queue_position"] == 0
        done = wait_status(client, str(job["status_url"]), within_s=5)
        server.faults.rate_429 = 1.0
        limited = client.get(str(job["status_url"]))
    assert time.monotonic() - started >= 0.6
    assert done["metrics"]["inference_time"] >= 0.3
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    assert limited.headers["x-fal-request-id"] == job["request_id"]


def test_status_codes_logs_and_spellings(api: httpx.Client, simulator: SimulatorServer) -> None:
    simulator.config.run_time_s = 0.4
    job = submit(api, {"prompt": SLOW})
    status_url = str(job["status_url"])

    running = wait_status(api, status_url, "IN_PROGRESS")
    assert api.get(status_url).status_code == 202
    assert isinstance(running["logs"], list) and running["logs"]
    done = wait_status(api, status_url)
    for spelling, has_logs in [("1", True), ("true", True), ("0", False), ("false", False)]:
        answer = api.get(status_url + "/", params={"logs": spelling})
        assert answer.status_code == 200
        assert answer.headers["x-fal-request-id"] == job["request_id"]
        body = answer.json()
        assert body["status"] == "COMPLETED"
        assert (body["logs"] is not None) is has_logs
    without_flag = api.get(status_url).json()
    assert "logs" in without_flag and without_flag["logs"] is None
    assert done["metrics"]["inference_time"] >= 0.3
    assert done["error_type"] == "runner_disconnected" and done["error"]
    logs = done["logs"]
    assert any("Rendering 50%" in line["message"] for line in logs)
    for line in logs:
        assert set(line) == {"message", "level", "source", "timestamp"}
        assert line["level"] in {"DEBUG", "INFO", "WARN", "ERROR", "STDOUT", "STDERR"}
    # Polled logs are cumulative: the later list starts with the earlier one.
    assert logs[: len(running["logs"])] == running["logs"]


def test_unknown_request_is_404_with_its_id(api: httpx.Client) -> None:
    request_id = str(uuid.uuid4())
    for path in (f"/{APP}/requests/{request_id}/status", f"/{APP}/requests/{request_id}"):
        answer = api.get(path)
        assert answer.status_code == 404
        assert answer.headers["x-fal-request-id"] == request_id


def read_events(api: httpx.Client, status_url: str) -> tuple[list[dict[str, object]], str]:
    with api.stream("GET", status_url + "/stream", params={"logs": 0}) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        text = stream.read().decode()  # returns only because the server closes the stream
    events = []
    for block in text.split("\n\n")[:-1]:
        lines = block.split("\n")
        assert all(line.startswith((": ", "data: ")) for line in lines), block
        events += [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    assert text.endswith("\n\n")
    return events, text


def test_sse_stream_frames_keepalives_and_closes_after_completed(
    api: httpx.Client, simulator: SimulatorServer
) -> None:
    simulator.config.run_time_s = 0.5
    simulator.config.keepalive_s = 0.1
    job = submit(api, {"prompt": SLOW})

    events, text = read_events(api, str(job["status_url"]))

    assert ": ping\n\n" in text
    states = [e["status"] for e in events]
    assert states[-1] == "COMPLETED" and "IN_PROGRESS" in states
    assert set(states) <= {"IN_QUEUE", "IN_PROGRESS", "COMPLETED"}
    assert all(e["logs"] is None for e in events)
    # One event per visible change: without logs, progress lines do not repeat the same status.
    assert len(events) == len({json.dumps(e) for e in events})
    assert events[-1]["error_type"] == "runner_disconnected"


def test_sse_on_a_completed_request_sends_one_event_and_closes(api: httpx.Client) -> None:
    job = submit(api, {"prompt": NO_RENDER})
    wait_status(api, str(job["status_url"]))

    events, _ = read_events(api, str(job["status_url"]))
    assert [e["status"] for e in events] == ["COMPLETED"]


def test_queue_positions_count_down_with_max_concurrent(
    api: httpx.Client, simulator: SimulatorServer
) -> None:
    simulator.config.run_time_s = 0.5
    simulator.config.max_concurrent = 2
    jobs = [submit(api, {"prompt": SLOW})]
    time.sleep(0.25)  # staggered, so the two running jobs free their slots one at a time
    jobs += [submit(api, {"prompt": SLOW}) for _ in range(3)]
    assert [j["queue_position"] for j in jobs[2:]] == [0, 1]

    seen_positions: list[int] = []
    most_running = 0
    deadline = time.monotonic() + 20
    while True:
        states = [api.get(str(j["status_url"])).json() for j in jobs]
        most_running = max(most_running, sum(s["status"] == "IN_PROGRESS" for s in states))
        last = states[3]
        if last["status"] == "IN_QUEUE":
            seen_positions.append(last["queue_position"])
        if all(s["status"] == "COMPLETED" for s in states):
            break
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert most_running == 2
    assert seen_positions[0] == 1 and 0 in seen_positions
    assert seen_positions == sorted(seen_positions, reverse=True), "positions only count down"


def test_low_priority_waits_behind_normal(api: httpx.Client, simulator: SimulatorServer) -> None:
    simulator.config.run_time_s = 0.3
    simulator.config.max_concurrent = 1
    submit(api, {"prompt": SLOW})
    low = api.post(f"/{T2V}", json={"prompt": SLOW}, headers={"X-Fal-Queue-Priority": "low"})
    normal = submit(api, {"prompt": SLOW})

    assert normal["queue_position"] == 0
    assert api.get(low.json()["status_url"]).json()["queue_position"] == 1


# Results ---------------------------------------------------------------------------------------


def test_text_to_video_result_download_ranges_and_cache(
    api: httpx.Client, simulator: SimulatorServer, tmp_path: Path
) -> None:
    payload = {"prompt": "A red kite over dunes", "resolution": "480p", "duration": "4", "seed": 7}
    job = submit(api, payload)
    done = wait_status(api, str(job["status_url"]))
    answer = api.get(str(job["response_url"]) + "/")

    assert answer.status_code == 200 and "error" not in done
    assert answer.headers["x-fal-request-id"] == job["request_id"]
    result = answer.json()
    assert result["seed"] == 7
    video = result["video"]
    assert video["content_type"] == "video/mp4" and video["file_name"].endswith(".mp4")
    assert video["url"].startswith(simulator.url + "/files/")

    data = httpx.get(video["url"])  # public: no Authorization
    assert data.status_code == 200
    assert int(data.headers["content-length"]) == video["file_size"] == len(data.content)
    assert data.headers["accept-ranges"] == "bytes"
    assert entries_for(simulator, "/files/")[-1].has_auth is False
    head = httpx.head(video["url"])
    assert head.status_code == 200 and int(head.headers["content-length"]) == video["file_size"]
    part = httpx.get(video["url"], headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data.content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{video['file_size']}"

    path = tmp_path / "out.mp4"
    path.write_bytes(data.content)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (864, 496)
        assert float(container.duration / av.time_base) == pytest.approx(4.0, abs=0.1)

    again = run(api, payload).json()
    assert again["video"]["url"] == video["url"], "same input and seed: the cached file"
    assert httpx.get(again["video"]["url"]).content == data.content


def test_image_to_video_auto_aspect_follows_the_start_image(
    api: httpx.Client, tmp_path: Path
) -> None:
    pytest.importorskip("seedance_desktop.media.probe")
    image_url = upload(api, png_bytes(600, 800), "portrait.png", "image/png")
    # duration "auto" is picked from the seed: 4 + 12 % 12 = 4 s.
    payload = {"prompt": "She turns", "image_url": image_url, "resolution": "480p"}
    payload |= {"duration": "auto", "seed": 12}

    answer = run(api, payload, I2V)

    assert answer.status_code == 200, answer.text
    path = tmp_path / "i2v.mp4"
    path.write_bytes(httpx.get(answer.json()["video"]["url"]).content)
    with av.open(str(path)) as container:
        context = container.streams.video[0].codec_context
        assert (context.width, context.height) == (560, 752)  # 3:4 at 480p
        assert float(container.duration / av.time_base) == pytest.approx(4.0, abs=0.1)
    assert answer.json()["seed"] == 12


@pytest.mark.parametrize(
    ("model", "payload", "loc", "error_type"),
    [
        (T2V, {"prompt": "x", "duration": 5}, ["body", "duration"], "string_type"),
        (T2V, {"prompt": "x", "resolution": "4k"}, ["body", "resolution"], "literal_error"),
        (T2V, {"duration": "5"}, ["body", "prompt"], "missing"),
        (I2V, {"prompt": "x"}, ["body", "image_url"], "missing"),
        (
            R2V,
            {"prompt": "x", "image_urls": [f"https://example.com/{i}.png" for i in range(10)]},
            ["body", "image_urls"],
            "too_long",
        ),
        (
            R2V,
            {"prompt": "x", "audio_urls": ["https://example.com/a.mp3"]},
            ["body", "audio_urls"],
            "value_error",
        ),
    ],
)
def test_invalid_input_is_accepted_then_completes_with_422(
    api: httpx.Client, model: str, payload: dict[str, object], loc: list[object], error_type: str
) -> None:
    job = submit(api, payload, model)  # never refused at submit
    done = wait_status(api, str(job["status_url"]))
    answer = api.get(str(job["response_url"]))

    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert isinstance(detail, list) and detail
    item = next(d for d in detail if d["loc"] == loc)
    assert item["type"] == error_type and item["msg"]
    assert done["error"]
    if loc[1] in payload:
        assert item["input"] == payload[loc[1]]


def test_twelve_file_total_is_enforced(api: httpx.Client) -> None:
    payload = {
        "prompt": "x",
        "image_urls": [f"https://example.com/{i}.png" for i in range(9)],
        "video_urls": [f"https://example.com/{i}.mp4" for i in range(3)],
        "audio_urls": ["https://example.com/a.mp3"],
    }
    detail = run(api, payload, R2V).json()["detail"]
    assert any(d["loc"] == ["body", "references"] for d in detail)


def test_audio_uploaded_here_without_a_visual_is_rejected(api: httpx.Client) -> None:
    audio_url = upload(api, wav_bytes(), "beat.wav", "audio/wav")
    detail = run(api, {"prompt": "dance", "audio_urls": [audio_url]}, R2V).json()["detail"]
    assert [d["loc"] for d in detail] == [["body", "audio_urls"]]


def test_expired_upload_used_as_reference_is_a_download_error(
    api: httpx.Client, simulator: SimulatorServer
) -> None:
    image_url = upload(api, png_bytes(640, 480), "start.png", "image/png")
    assert simulator.expire_uploads() == 1

    answer = run(api, {"prompt": "x", "image_url": image_url}, I2V)
    assert answer.status_code == 422
    item = answer.json()["detail"][0]
    assert item["type"] == "file_download_error" and item["loc"] == ["body", "image_url"]


def test_content_policy_and_infrastructure_failures(api: httpx.Client) -> None:
    policy = run(api, {"prompt": "forbidden #sim:content_policy"})
    assert policy.status_code == 422
    assert policy.json()["detail"][0]["type"] == "content_policy_violation"

    runner = run(api, {"prompt": "x #sim:runner_disconnected"})
    assert runner.status_code == 503
    assert runner.headers["x-fal-error-type"] == "runner_disconnected"
    assert runner.json()["error_type"] == "runner_disconnected"

    timeout = run(api, {"prompt": "x #sim:request_timeout"})
    assert timeout.status_code == 504
    assert timeout.headers["x-fal-error-type"] == "request_timeout"
    assert "x-fal-request-timeout-type" not in timeout.headers


def test_start_deadline_gives_a_user_timeout(api: httpx.Client, simulator: SimulatorServer) -> None:
    simulator.config.run_time_s = 1.0
    simulator.config.max_concurrent = 1
    submit(api, {"prompt": SLOW})
    job = api.post(f"/{T2V}", json={"prompt": "x"}, headers={"X-Fal-Request-Timeout": "0.1"})

    done = wait_status(api, job.json()["status_url"], within_s=5)
    answer = api.get(job.json()["response_url"])
    assert done["error_type"] == "request_timeout"
    assert answer.status_code == 504
    assert answer.headers["x-fal-request-timeout-type"] == "user"


def test_result_before_completion_is_400(api: httpx.Client, simulator: SimulatorServer) -> None:
    simulator.config.run_time_s = 0.5
    job = submit(api, {"prompt": SLOW})
    answer = api.get(str(job["response_url"]))
    assert answer.status_code == 400
    assert answer.headers["x-fal-request-id"] == job["request_id"]


# Cancel ----------------------------------------------------------------------------------------


def test_cancel_outcomes(api: httpx.Client, simulator: SimulatorServer) -> None:
    simulator.config.run_time_s = 5.0  # long: cancel must not wait for it
    simulator.config.max_concurrent = 1
    running = submit(api, {"prompt": SLOW})
    queued = submit(api, {"prompt": SLOW})
    wait_status(api, str(running["status_url"]), "IN_PROGRESS")
    started = time.monotonic()

    answer = api.put(str(queued["cancel_url"]))
    assert (answer.status_code, answer.json()) == (200, {"status": "OK"})
    assert answer.headers["x-fal-request-id"] == queued["request_id"]
    assert api.get(str(queued["status_url"])).json()["status"] == "COMPLETED"
    assert api.get(str(queued["response_url"])).status_code == 499

    answer = api.put(str(running["cancel_url"]))
    assert (answer.status_code, answer.json()) == (202, {"status": "CANCELLATION_REQUESTED"})
    wait_status(api, str(running["status_url"]), within_s=3)
    assert api.get(str(running["response_url"])).status_code == 499
    assert time.monotonic() - started < 3

    answer = api.put(str(running["cancel_url"]))
    assert (answer.status_code, answer.json()) == (400, {"status": "ALREADY_COMPLETED"})
    answer = api.put(f"/{APP}/requests/{uuid.uuid4()}/cancel")
    assert (answer.status_code, answer.json()) == (404, {"status": "NOT_FOUND"})


# Storage ---------------------------------------------------------------------------------------


def test_token_shape(api: httpx.Client, simulator: SimulatorServer) -> None:
    grant = api.post("/storage/auth/token", params={"storage_type": "fal-cdn-v3"}, json={}).json()
    assert grant["token_type"] == "Bearer" and grant["token"]
    assert grant["base_url"] == simulator.url
    assert grant["expires_at"].endswith("Z")


def test_upload_and_public_download_with_a_sanitised_name(
    api: httpx.Client, simulator: SimulatorServer
) -> None:
    data = png_bytes(64, 48)
    url = upload(api, data, "../../etc/my photo?.png", "image/png")

    assert url.startswith(simulator.url + "/files/")
    assert url.rsplit("/", 1)[-1] == "my_photo_.png"
    answer = httpx.get(url)
    assert answer.status_code == 200 and answer.content == data
    assert answer.headers["content-type"].startswith("image/png")
    stored = list((simulator.config.data_dir / "files").rglob("*"))
    assert all(p.resolve().is_relative_to(simulator.config.data_dir.resolve()) for p in stored)


def test_upload_needs_a_valid_token(simulator: SimulatorServer) -> None:
    for auth in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": f"Key {KEY}"}):
        answer = httpx.post(simulator.url + "/files/upload", content=b"x", headers=auth)
        assert answer.status_code == 401


def test_initiate_then_put_fallback(api: httpx.Client) -> None:
    grant = api.post(
        "/storage/upload/initiate",
        params={"storage_type": "fal-cdn-v3"},
        json={"file_name": "clip.wav", "content_type": "audio/wav"},
    ).json()
    data = wav_bytes(0.5)

    forged = grant["upload_url"].split("?")[0] + "?signature=forged"
    assert httpx.put(forged, content=data).status_code == 403
    assert httpx.get(grant["file_url"]).status_code == 404  # nothing there before the PUT
    put = httpx.put(grant["upload_url"], content=data, headers={"Content-Type": "audio/wav"})
    assert put.status_code == 200
    answer = httpx.get(grant["file_url"])
    assert answer.content == data and answer.headers["content-type"].startswith("audio/wav")


def test_upload_size_cap_is_413_even_when_streamed(tmp_path: Path) -> None:
    config = SimulatorConfig(data_dir=tmp_path / "sim", instant=True, max_upload_bytes=10_000)
    with SimulatorServer(config) as server, httpx.Client(base_url=server.url) as client:
        grant = client.post(
            "/storage/auth/token", headers={"Authorization": f"Key {KEY}"}, json={}
        ).json()
        headers = {"Authorization": f"Bearer {grant['token']}", "X-Fal-File-Name": "big.bin"}

        declared = client.post("/files/upload", content=b"x" * 20_000, headers=headers)

        def chunks() -> Iterator[bytes]:  # no Content-Length: the cap must hold while streaming
            for _ in range(20):
                yield b"y" * 1000

        streamed = client.post("/files/upload", content=chunks(), headers=headers)
        small = client.post("/files/upload", content=b"z" * 100, headers=headers)
    assert declared.status_code == 413 and streamed.status_code == 413
    assert small.status_code == 200
    kept = [p for p in (tmp_path / "sim" / "files").rglob("*") if p.is_file()]
    assert [p.stat().st_size for p in kept] == [100], "nothing partial left behind"


def test_expired_urls_answer_410(api: httpx.Client, simulator: SimulatorServer) -> None:
    url = upload(api, b"hello", "a.txt", "text/plain")
    assert httpx.get(url).status_code == 200
    expired = httpx.post(simulator.url + "/_sim/expire", json={"origin": "upload"}).json()
    assert expired == {"expired": 1}
    assert httpx.get(url).status_code == 410
    missing = url.rsplit("/", 2)[0] + "/" + "0" * 32 + "/a.txt"
    assert httpx.get(missing).status_code == 404


# Faults ----------------------------------------------------------------------------------------


def test_429_with_retry_after(api: httpx.Client, simulator: SimulatorServer) -> None:
    simulator.faults.rate_429 = 1.0
    answer = api.post(f"/{T2V}", json={"prompt": NO_RENDER})
    simulator.faults.rate_429 = 0.0
    assert answer.status_code == 429 and answer.headers["retry-after"] == "0"
    assert not any(e.model_id for e in simulator.log), "a refused submit created no job"


def test_5xx_on_submit_has_no_request_id_and_creates_no_job(
    api: httpx.Client, simulator: SimulatorServer
) -> None:
    simulator.faults = Faults(rate_5xx=1.0, seed=1)
    codes = {api.post(f"/{T2V}", json={"prompt": NO_RENDER}).status_code for _ in range(8)}
    answers = [api.post(f"/{T2V}", json={"prompt": NO_RENDER}) for _ in range(3)]
    status = api.get(f"/{APP}/requests/{uuid.uuid4()}/status")
    simulator.faults = Faults()

    assert codes <= {502, 503} and codes
    assert all("x-fal-request-id" not in a.headers for a in answers)
    assert status.status_code in (500, 503)
    assert not any(e.request_id for e in simulator.log if e.model_id)


def test_drop_closes_without_an_answer_and_sim_endpoints_are_exempt(
    api: httpx.Client, simulator: SimulatorServer
) -> None:
    job = submit(api, {"prompt": NO_RENDER})
    simulator.faults.rate_drop = 1.0
    with pytest.raises(httpx.RemoteProtocolError):
        api.get(str(job["status_url"]))
    assert httpx.get(simulator.url + "/_sim/log").status_code == 200
    simulator.faults.rate_drop = 0.0

    dropped = entries_for(simulator, "/status")[-1]
    assert dropped.status is None and dropped.request_id == job["request_id"]
    assert api.get(str(job["status_url"])).status_code in (200, 202)


def test_drop_after_submit_creates_the_job_but_gives_no_answer(
    api: httpx.Client, simulator: SimulatorServer
) -> None:
    httpx.post(simulator.url + "/_sim/faults", json={"drop_after_submit": 1.0})
    with pytest.raises(httpx.RemoteProtocolError):
        api.post(f"/{T2V}", json={"prompt": NO_RENDER})
    httpx.post(simulator.url + "/_sim/faults", json={"drop_after_submit": 0.0})

    entry = entries_for(simulator, f"/{T2V}")[-1]
    assert entry.status is None and entry.request_id and entry.model_id == T2V
    status = api.get(f"/{APP}/requests/{entry.request_id}/status")
    assert status.status_code in (200, 202), "the ambiguous submit really was accepted"


def test_slow_answers(api: httpx.Client, simulator: SimulatorServer) -> None:
    simulator.faults.slow_s = 0.3
    started = time.monotonic()
    api.post("/storage/auth/token", json={})
    assert time.monotonic() - started >= 0.3


def test_truncated_download_then_range_resume(
    api: httpx.Client, simulator: SimulatorServer
) -> None:
    data = bytes(range(256)) * 1000
    url = upload(api, data, "blob.bin", "application/octet-stream")
    simulator.faults.truncate_download_rate = 1.0

    received = bytearray()
    with pytest.raises(httpx.RemoteProtocolError), httpx.stream("GET", url) as answer:
        assert int(answer.headers["content-length"]) == len(data)
        for chunk in answer.iter_raw():
            received += chunk
    assert 0 < len(received) < len(data)
    rest = httpx.get(url, headers={"Range": f"bytes={len(received)}-"})
    simulator.faults.truncate_download_rate = 0.0

    assert rest.status_code == 206
    assert bytes(received) + rest.content == data


def test_faults_endpoint_validates(simulator: SimulatorServer) -> None:
    bad = httpx.post(simulator.url + "/_sim/faults", json={"rate_429": 2})
    unknown = httpx.post(simulator.url + "/_sim/faults", json={"nope": 1})
    good = httpx.post(simulator.url + "/_sim/faults", json={"slow_s": 0.0, "seed": 5})
    assert bad.status_code == 422 and unknown.status_code == 422
    assert good.json()["seed"] == 5 and simulator.faults.seed == 5


# Runner and CLI --------------------------------------------------------------------------------


def test_stop_is_idempotent_and_frees_the_port(tmp_path: Path) -> None:
    server = SimulatorServer(SimulatorConfig(data_dir=tmp_path / "sim", instant=True))
    url = server.start()
    assert url.startswith("http://127.0.0.1:") and server.url == url
    server.stop()
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/_sim/log")


def test_stop_ends_open_streams(tmp_path: Path) -> None:
    config = SimulatorConfig(data_dir=tmp_path / "sim", instant=True, run_time_s=30)
    server = SimulatorServer(config)
    server.start()
    headers = {"Authorization": f"Key {KEY}"}
    job = httpx.post(f"{server.url}/{T2V}", json={"prompt": SLOW}, headers=headers).json()
    opened = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", job["status_url"] + "/stream", headers=headers) as stream:
            opened.set()
            for _ in stream.iter_raw():
                pass

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert opened.wait(5)
    started = time.monotonic()
    server.stop()
    listener.join(5)
    assert not listener.is_alive() and time.monotonic() - started < 5


def test_cli_serves_until_stopped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["--instant", "--rate-429", "0.5", "--data-dir", str(tmp_path)])
    stop = threading.Event()
    thread = threading.Thread(target=cli.run_from_args, args=(args, stop), daemon=True)
    thread.start()
    url = ""
    deadline = time.monotonic() + 10
    while not url and time.monotonic() < deadline:
        out = capsys.readouterr().out
        url = next((w for w in out.split() if w.startswith("http://")), "")
        time.sleep(0.02)
    faults = httpx.get(url + "/_sim/faults").json()
    stop.set()
    thread.join(10)
    assert faults["rate_429"] == 0.5 and not thread.is_alive()
    with pytest.raises(SystemExit):
        parser.parse_args(["--rate-drop", "1.5"])


def test_reference_to_video_uses_uploaded_references(api: httpx.Client, tmp_path: Path) -> None:
    pytest.importorskip("seedance_desktop.media.probe")
    image_url = upload(api, png_bytes(800, 800, (20, 90, 200)), "face.png", "image/png")
    audio_url = upload(api, wav_bytes(2.0), "beat.wav", "audio/wav")
    payload = {"prompt": "[Image1] dances to [Audio1]", "image_urls": [image_url]}
    payload |= {"audio_urls": [audio_url], "resolution": "480p", "duration": "4", "seed": 1}

    answer = run(api, payload, R2V)

    assert answer.status_code == 200, answer.text
    path = tmp_path / "r2v.mp4"
    path.write_bytes(httpx.get(answer.json()["video"]["url"]).content)
    with av.open(str(path)) as container:
        context = container.streams.video[0].codec_context
        assert (context.width, context.height) == (640, 640)  # 1:1 follows the first image
        assert len(container.streams.audio) == 1
