"""Kill the engine's process (SIGKILL) at each point of a job's life, restart, and prove that every
job reaches `done` exactly once, nothing is submitted twice and no partial file is a result."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from cli_runner import run_cli as cli
from media_factory import make_image

from seedance_desktop.simulator.config import SimulatorConfig

pytestmark = pytest.mark.slow


@pytest.fixture
def sim_config(tmp_path: Path) -> SimulatorConfig:
    # Short but real waits, so a job is seen IN_QUEUE and IN_PROGRESS.
    return SimulatorConfig(data_dir=tmp_path / "sim", queue_delay_s=0.4, run_time_s=0.4)


def jobs(home: Path, url: str) -> list[dict]:
    result = cli(home, url, "queue", "list", "--all", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def submits(simulator) -> list:
    return [e for e in simulator.log if e.method == "POST" and e.model_id]


@pytest.mark.parametrize(
    "point",
    [
        "during_upload",
        "after_submit",
        "in_queue",
        "mid_download",
        "before_library_write",
        "after_library_write",
    ],
)
def test_a_crash_loses_nothing_and_pays_once(point: str, simulator, tmp_path: Path) -> None:
    home = tmp_path / "home"
    image = make_image(tmp_path / "start.png", 800, 600)
    generate = ["generate", "--mode", "image-to-video", "--prompt", "slow dolly in",
                "--image", str(image), "--resolution", "480p", "--duration", "4"]  # fmt: skip
    crashed = cli(home, simulator.url, *generate, crash_at=point)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr

    resumed = cli(home, simulator.url, "queue", "run")
    assert resumed.returncode == 0, resumed.stderr
    (job,) = jobs(home, simulator.url)
    assert job["state"] == "done", job
    assert len(submits(simulator)) == 1, "submitted exactly once"
    result = Path(job["result_path"])
    library = json.loads(cli(home, simulator.url, "library", "list", "--json").stdout)
    assert [entry["path"] for entry in library] == [str(result)]
    import av

    with av.open(str(result)) as container:
        assert container.streams.video[0].frames == 96
    assert not list(result.parent.glob("*.part")), "no partial file is left as a result"


def test_a_crash_in_the_submit_window_waits_for_the_person(simulator, tmp_path: Path) -> None:
    home = tmp_path / "home"
    generate = ["generate", "--mode", "text-to-video", "--prompt", "a lighthouse at night",
                "--resolution", "480p", "--duration", "4"]  # fmt: skip
    crashed = cli(home, simulator.url, *generate, crash_at="before_submit")
    assert crashed.returncode == -signal.SIGKILL

    resumed = cli(home, simulator.url, "queue", "run")
    (job,) = jobs(home, simulator.url)
    assert job["state"] == "unknown_submission"
    assert resumed.returncode == 1
    assert submits(simulator) == [], "never resent by itself"

    decided = cli(home, simulator.url, "queue", "resolve", str(job["id"]), "resubmit")
    assert decided.returncode == 0, decided.stderr
    assert cli(home, simulator.url, "queue", "run").returncode == 0
    (job,) = jobs(home, simulator.url)
    assert job["state"] == "done"
    assert len(submits(simulator)) == 1


def test_every_crash_point_the_engine_names_exists() -> None:
    """A misspelt point would never fire: its crash test would pass and prove nothing."""
    import re
    from pathlib import Path

    import pytest

    from seedance_desktop.engine import crashpoints

    source = "\n".join(path.read_text() for path in Path(crashpoints.__file__).parent.rglob("*.py"))
    named = set(re.findall(r'crash_point\("([a-z_]+)"\)', source))
    assert named == set(crashpoints.POINTS)
    with pytest.raises(ValueError):
        crashpoints.crash_point("befor_submit")
