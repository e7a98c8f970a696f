"""`seedance-desktop generate --dry-run --json` for valid and invalid requests of all six endpoints.

Run as a real subprocess, like a person or a script would run it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from media_factory import make_audio, make_image, make_video

from seedance_desktop.domain.endpoints import ENDPOINTS


def dry_run(*args: str, expect: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "seedance_desktop", "generate", *args, "--dry-run", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )
    assert result.returncode == expect, result.stderr + result.stdout
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("media")
    return {
        "start": make_image(folder / "start.png", 1280, 720),
        "end": make_image(folder / "end.jpg", 1280, 720, fmt="jpeg"),
        "ref": make_image(folder / "ref.webp", 800, 800, fmt="webp"),
        "clip": make_video(folder / "clip.mp4", 832, 832, seconds=2.0),
        "song": make_audio(folder / "song.wav", seconds=3.0),
        "text": _write(folder / "notes.mp4", b"this is not a video at all"),
        "empty": _write(folder / "empty.png", b""),
    }


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("fast", [False, True])
def test_text_to_video(fast: bool) -> None:
    flags = ["--fast"] if fast else []
    out = dry_run(
        "--mode", "text-to-video", *flags, "--prompt", "A fox", "--duration", "5",
        "--aspect-ratio", "16:9", "--seed", "3", expect=0,
    )  # fmt: skip
    assert out["endpoint"] in ENDPOINTS
    assert out["endpoint"].endswith("fast/text-to-video" if fast else "0/text-to-video")
    assert out["input"] == {"prompt": "A fox", "duration": "5", "aspect_ratio": "16:9", "seed": 3}
    assert out["problems"] == []
    assert out["estimate_usd"]["min"] == out["estimate_usd"]["max"] > 0


@pytest.mark.parametrize("fast", [False, True])
def test_image_to_video(fast: bool, media: dict[str, Path]) -> None:
    flags = ["--fast"] if fast else []
    out = dry_run(
        "--mode", "image-to-video", *flags, "--prompt", "Push in", "--image", str(media["start"]),
        "--end-image", str(media["end"]), "--no-audio", expect=0,
    )  # fmt: skip
    assert out["input"] == {
        "prompt": "Push in",
        "generate_audio": False,
        "image_url": str(media["start"]),
        "end_image_url": str(media["end"]),
    }
    assert out["estimate_usd"]["min"] < out["estimate_usd"]["max"], "auto duration is a range"


@pytest.mark.parametrize("fast", [False, True])
def test_reference_to_video(fast: bool, media: dict[str, Path]) -> None:
    flags = ["--fast"] if fast else []
    out = dry_run(
        "--mode", "reference-to-video", *flags, "--prompt", "[Image1] dances like [Video1]",
        "--image", str(media["ref"]), "--video", str(media["clip"]), "--audio", str(media["song"]),
        "--image", "https://example.com/b.png", "--resolution", "480p", "--duration", "5",
        expect=0,
    )  # fmt: skip
    assert out["input"]["image_urls"] == [str(media["ref"]), "https://example.com/b.png"]
    assert out["input"]["video_urls"] == [str(media["clip"])]
    assert out["input"]["audio_urls"] == [str(media["song"])]
    assert out["problems"] == []


def test_invalid_requests_list_every_problem(media: dict[str, Path]) -> None:
    out = dry_run(
        "--mode", "reference-to-video", "--prompt", "[Image3] with [Audio1]",
        "--audio", str(media["song"]), "--duration", "20", "--resolution", "1080p",
        "--video", str(media["text"]), expect=2,
    )  # fmt: skip
    by_field = {p["field"]: p for p in out["problems"]}
    assert by_field["duration"]["severity"] == "error"
    assert by_field["resolution"]["severity"] == "error"
    assert by_field["video_urls[0]"]["severity"] == "error"
    assert by_field["prompt"]["severity"] == "warning"
    assert "endpoint" in out and "input" in out


@pytest.mark.parametrize("mode", ["text-to-video", "image-to-video", "reference-to-video"])
def test_each_mode_reports_a_missing_or_bad_file(mode: str, media: dict[str, Path]) -> None:
    out = dry_run("--mode", mode, "--prompt", "x", "--image", str(media["empty"]), expect=(
        0 if mode == "text-to-video" else 2
    ))  # fmt: skip
    fields = {p["field"]: p for p in out["problems"]}
    if mode == "text-to-video":
        assert fields["image_urls"]["severity"] == "warning"
    else:
        key = "image_url" if mode == "image-to-video" else "image_urls[0]"
        assert fields[key]["severity"] == "error"
        assert "empty" in fields[key]["message"]


def test_image_to_video_without_a_start_frame() -> None:
    out = dry_run("--mode", "image-to-video", "--prompt", "x", expect=2)
    assert [p["field"] for p in out["problems"]] == ["image_url"]


def test_two_start_frames_are_an_error(media: dict[str, Path]) -> None:
    out = dry_run(
        "--mode", "image-to-video", "--prompt", "x", "--image", str(media["start"]),
        "--image", str(media["end"]), expect=2,
    )  # fmt: skip
    assert any("one start frame" in p["message"] for p in out["problems"])


def test_wrong_arguments_exit_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "seedance_desktop", "generate", "--mode", "sideways", "--prompt",
         "x", "--dry-run"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_plain_text_output(media: dict[str, Path]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "seedance_desktop", "generate", "--mode", "image-to-video",
         "--prompt", "x", "--image", str(media["clip"]), "--dry-run"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Endpoint:  bytedance/seedance-2.0/image-to-video" in result.stdout
    assert "error   image_url: Start frame must be an image, but this file is a video" in (
        result.stdout
    )


def test_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    good = make_image(folder / "plain.png", 640, 480)
    odd = os.fsencode(folder) + b"/\xff\xfeframe.png"
    os.rename(good, odd)
    result = subprocess.run(
        [sys.executable.encode(), b"-m", b"seedance_desktop", b"generate", b"--mode",
         b"image-to-video", b"--prompt", b"x", b"--image", odd, b"--dry-run", b"--json"],
        capture_output=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["problems"] == []
