"""The command line for real, as a subprocess against the simulator: generate, batch, queue and
library listings and export, and the exit codes a script relies on."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest
from cli_runner import run_cli as cli
from engine_fixtures import TEST_KEY


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_generate_saves_the_video_and_prints_its_path(home: Path, simulator, tmp_path) -> None:
    out = tmp_path / "boat.mp4"
    result = cli(home, simulator.url, "generate", "--mode", "text-to-video", "--prompt",
                 "A paper boat in the rain", "--resolution", "480p", "--duration", "4",
                 "--seed", "3", "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    assert "request" in result.stderr and "Done: seed 3" in result.stderr
    with av.open(str(out)) as container:
        assert (container.streams.video[0].width, container.streams.video[0].height) == (864, 496)
    listed = json.loads(cli(home, simulator.url, "library", "list", "--json").stdout)
    assert [entry["seed"] for entry in listed] == [3]
    assert TEST_KEY not in result.stdout + result.stderr


def test_generate_reports_fals_reason_and_exits_1(home: Path, simulator) -> None:
    prompt = "forbidden #sim:content_policy"
    result = cli(home, simulator.url, "generate", "--mode", "text-to-video", "--prompt", prompt,
                 "--resolution", "480p", "--duration", "4")  # fmt: skip
    assert result.returncode == 1
    assert "Failed:" in result.stderr
    jobs = json.loads(cli(home, simulator.url, "queue", "list", "--all", "--json").stdout)
    assert jobs[0]["state"] == "failed" and jobs[0]["error"]


def test_generate_refuses_bad_input_with_exit_2(home: Path, simulator) -> None:
    result = cli(home, simulator.url, "generate", "--mode", "image-to-video", "--prompt", "x")
    assert result.returncode == 2
    assert "Start frame is required" in result.stderr
    assert [e for e in simulator.log if e.model_id] == [], "nothing was sent"


def test_batch_checks_every_line_first_then_runs_them_all(
    home: Path, simulator, tmp_path: Path
) -> None:
    model = "bytedance/seedance-2.0/fast/text-to-video"
    lines = [
        {"endpoint": model, "input": {"prompt": f"Shot {n}", "resolution": "480p",
                                      "duration": "4", "seed": n}}
        for n in range(3)
    ]  # fmt: skip
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([json.dumps(lines[0]), "{not json", json.dumps(
        {"endpoint": model, "input": {"prompt": "x", "duration": "16"}})]) + "\n")  # fmt: skip
    refused = cli(home, simulator.url, "batch", str(bad))
    assert refused.returncode == 2
    assert "line 2: not a shot" in refused.stderr and "duration" in refused.stderr
    assert [e for e in simulator.log if e.model_id] == []

    good = tmp_path / "shots.jsonl"
    good.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    result = cli(home, simulator.url, "batch", str(good), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [job["state"] for job in report] == ["done"] * 3
    assert sorted(job["seed"] for job in report) == [0, 1, 2]


def test_library_export_never_overwrites(home: Path, simulator, tmp_path: Path) -> None:
    assert cli(home, simulator.url, "generate", "--mode", "text-to-video", "--prompt",
               "Lanterns on a river", "--resolution", "480p", "--duration", "4",
               "--seed", "9").returncode == 0  # fmt: skip
    (entry,) = json.loads(cli(home, simulator.url, "library", "list", "--json").stdout)
    folder = tmp_path / "exports"
    first = cli(home, simulator.url, "library", "export", str(entry["id"]), "--to", str(folder),
                "--template", "{mode}_{seed}_{prompt}", "--sidecar")  # fmt: skip
    second = cli(home, simulator.url, "library", "export", str(entry["id"]), "--to", str(folder),
                 "--template", "{mode}_{seed}_{prompt}")  # fmt: skip
    assert first.returncode == 0 and second.returncode == 0
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "text-to-video_9_lanterns-on-a-river (2).mp4",
        "text-to-video_9_lanterns-on-a-river.json",
        "text-to-video_9_lanterns-on-a-river.mp4",
    ]
    broken = cli(home, simulator.url, "library", "export", str(entry["id"]), "--to", str(folder),
                 "--template", "{nonsense}")  # fmt: skip
    assert broken.returncode == 2 and "naming template" in broken.stderr
    searched = json.loads(
        cli(home, simulator.url, "library", "list", "--search", "lantern", "--json").stdout
    )
    assert [e["id"] for e in searched] == [entry["id"]]
