"""`generate --fit` and `#t=` ranges, and `batch --fit`, as a person runs them (subprocesses)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from media_factory import make_audio, make_image, make_video

from seedance_desktop.domain.endpoints import LIMITS
from seedance_desktop.domain.media_info import MediaInfo
from seedance_desktop.media.probe import probe


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SEEDANCE_HOME": str(home), "SEEDANCE_SIMULATOR_INSTANT": "1"}
    return subprocess.run(
        [sys.executable, "-m", "seedance_desktop", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("phone")
    return {
        "phone": make_video(folder / "phone.mp4", 1920, 1080, seconds=20, fps=4, keyframe_every=8),
        "face": make_image(folder / "face.png"),
        "song": make_audio(folder / "song.mp3", seconds=40, fmt="mp3"),
    }


def dry_run(home: Path, files: dict[str, Path], *extra: str) -> subprocess.CompletedProcess[str]:
    return run(
        home, "generate", "--mode", "reference-to-video", "--prompt", "[Image1] dances",
        "--image", str(files["face"]), *extra, "--dry-run", "--json",
    )  # fmt: skip


def test_fit_turns_a_refused_phone_clip_into_one_that_passes(
    files: dict[str, Path], tmp_path: Path
) -> None:
    before = hashlib.sha256(files["phone"].read_bytes()).hexdigest()
    refused = dry_run(tmp_path, files, "--video", str(files["phone"]))
    assert refused.returncode == 2
    done = dry_run(tmp_path, files, "--video", str(files["phone"]), "--audio",
                   str(files["song"]), "--fit")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    out = json.loads(done.stdout)
    assert [p for p in out["problems"] if p["severity"] == "error"] == []
    (video,) = out["input"]["video_urls"]
    (audio,) = out["input"]["audio_urls"]
    assert {line["to"] for line in out["fitted"]} == {video, audio}
    assert out["fitted"][0]["from"] == str(files["phone"])
    assert "1920×1080" in out["fitted"][0]["summary"]
    assert Path(video).parent == tmp_path / "data" / "fitted"
    clip, sound = probe(video), probe(audio)
    assert isinstance(clip, MediaInfo) and isinstance(sound, MediaInfo)
    low, high = LIMITS.video_pixels
    assert low <= (clip.pixels or 0) <= high and clip.format == "mp4"
    assert clip.duration_s is not None and 2 <= clip.duration_s <= 15
    assert clip.size_bytes < LIMITS.max_total_video_bytes
    assert sound.format in LIMITS.audio_formats and (sound.duration_s or 99) <= 15
    assert hashlib.sha256(files["phone"].read_bytes()).hexdigest() == before


def test_a_media_fragment_range_is_fitted_and_reported(
    files: dict[str, Path], tmp_path: Path
) -> None:
    done = run(
        tmp_path, "generate", "--mode", "reference-to-video", "--prompt", "[Video1]",
        "--video", f"{files['phone']}#t=3,9", "--dry-run",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Fitted:    video_urls[0]: {files['phone']}#t=3,9 → " in done.stdout
    assert "→ 1280×720, 3–9 s, H.264 MP4" in done.stdout
    fitted = next((tmp_path / "data" / "fitted").iterdir())
    info = probe(fitted)
    assert isinstance(info, MediaInfo) and info.duration_s == pytest.approx(6.0, abs=0.05)


@pytest.mark.parametrize(
    ("suffix", "words"),
    [("#t=9,3", "ends before it starts"), ("#t=1:xx", "is not a time"), ("#t=25", "past its end")],
)
def test_bad_ranges_are_one_clear_line(
    files: dict[str, Path], tmp_path: Path, suffix: str, words: str
) -> None:
    done = run(
        tmp_path, "generate", "--mode", "reference-to-video", "--prompt", "[Video1]",
        "--video", f"{files['phone']}{suffix}", "--dry-run",
    )  # fmt: skip
    assert done.returncode == 2
    assert words in done.stdout and "Traceback" not in done.stderr
    assert not any((tmp_path / "data" / "fitted").glob("*"))


def test_batch_fit_queues_fitted_references(files: dict[str, Path], tmp_path: Path) -> None:
    line = {
        "endpoint": "bytedance/seedance-2.0/fast/reference-to-video",
        "input": {
            "prompt": "[Image1] moves like [Video1]",
            "resolution": "480p",
            "duration": "4",
            "image_urls": [str(files["face"])],
            "video_urls": [f"{files['phone']}#t=2,6"],
        },
    }
    batch = tmp_path / "shots.jsonl"
    batch.write_text(json.dumps(line) + "\n")
    ranged = run(tmp_path, "batch", str(batch))
    assert ranged.returncode == 0, ranged.stderr  # a range alone asks for the fit
    line["input"]["video_urls"] = [str(files["phone"])]  # type: ignore[index]
    batch.write_text(json.dumps(line) + "\n")
    assert run(tmp_path, "batch", str(batch)).returncode == 2
    done = run(tmp_path, "batch", str(batch), "--fit", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["state"] == "done"


def test_a_heic_start_frame_is_fitted_for_image_to_video(tmp_path: Path) -> None:
    from fit_media import make_heic

    photo = make_heic(tmp_path / "IMG_0042.HEIC", 1600, 1200)
    args = ("generate", "--mode", "image-to-video", "--prompt", "She turns", "--image", str(photo))
    assert run(tmp_path, *args, "--dry-run", "--json").returncode == 2
    done = run(tmp_path, *args, "--fit", "--dry-run", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    sent = json.loads(done.stdout)["input"]["image_url"]
    assert sent.endswith(".jpg") and "IMG_0042-fit-" in sent
    info = probe(sent)
    assert isinstance(info, MediaInfo) and (info.width, info.height) == (1600, 1200)
