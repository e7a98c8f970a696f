"""`seedance-desktop sequence` for real, as subprocesses against the simulator."""

from __future__ import annotations

import json
from pathlib import Path

import av
import opentimelineio as otio
from test_cli_live import cli


def make(home: Path, url: str, prompt: str) -> int:
    result = cli(home, url, "generate", "--mode", "text-to-video", "--prompt", prompt,
                 "--resolution", "480p", "--duration", "4")  # fmt: skip
    assert result.returncode == 0, result.stderr
    listed = json.loads(cli(home, url, "library", "list", "--json").stdout)
    return int(next(e["id"] for e in listed if e["prompt"] == prompt))


def test_new_list_and_export_a_sequence(tmp_path: Path, simulator) -> None:
    home, url = tmp_path / "home", simulator.url
    first, second = make(home, url, "A paper boat"), make(home, url, "The boat sinks")

    made = cli(home, url, "sequence", "new", "Boat scene", str(first), str(second))
    assert made.returncode == 0, made.stderr
    assert "Boat scene: 2 shots, 8.00 s" in made.stdout
    listed = json.loads(cli(home, url, "sequence", "list", "--json").stdout)
    assert [s["result_id"] for s in listed[0]["shots"]] == [first, second]
    assert "1. result" in cli(home, url, "sequence", "list").stdout

    film, cut = tmp_path / "film.mp4", tmp_path / "cut.otio"
    done = cli(home, url, "sequence", "export", "boat scene", "--to", str(film), "--otio", str(cut))
    assert done.returncode == 0, done.stderr
    with av.open(str(film)) as container:
        assert abs(float(container.duration or 0) / 1e6 - 8.0) <= 1 / 24
        assert container.streams.audio
    assert len(list(otio.adapters.read_from_file(str(cut)).find_clips())) == 4


def test_bad_input_is_one_clear_line_with_exit_2(tmp_path: Path, simulator) -> None:
    home, url = tmp_path / "home", simulator.url
    nothing = cli(home, url, "sequence", "export", "Nope", "--to", str(tmp_path / "f.mp4"))
    assert (
        nothing.returncode == 2 and nothing.stderr.strip() == "There is no sequence named “Nope”."
    )
    one = make(home, url, "A lighthouse")
    missing = cli(home, url, "sequence", "new", "Light", str(one), "77")
    assert missing.returncode == 2 and "There is no result 77 in the library." in missing.stderr
    assert cli(home, url, "sequence", "new", "Empty").returncode == 0
    empty = cli(home, url, "sequence", "export", "Empty", "--to", str(tmp_path / "e.mp4"))
    assert empty.returncode == 2 and "“Empty” has no shots yet" in empty.stderr
    assert "Traceback" not in nothing.stderr + missing.stderr + empty.stderr
    assert not (tmp_path / "e.mp4").exists()
