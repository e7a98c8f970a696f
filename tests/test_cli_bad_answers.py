"""The command line for real, as a subprocess, when fal answers badly: a submit answered 408 is
sent once and reported with fal's request id; `queue fetch-again ID` brings a paid job that failed
on a bad answer home with no new submit, and where it does not apply says so in one line."""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import run_cli as cli
from engine_fixtures import quick_shot
from fal_proxy import Answer, running_proxy
from test_engine_bad_answers import FINAL, RESULT, SUBMIT, make_harness, submits

from seedance_desktop.engine.states import JobState
from seedance_desktop.simulator.runner import SimulatorServer


async def test_queue_fetch_again_brings_a_failed_paid_job_home_without_a_new_submit(
    tmp_path: Path, simulator: SimulatorServer
) -> None:
    with running_proxy(simulator.url) as proxy:
        proxy.script("GET", RESULT, Answer(200, b"garbled", content_type="text/plain"), repeat=True)
        harness = make_harness(tmp_path, proxy)
        engine = await harness.start()
        try:
            (job,) = await engine.enqueue(quick_shot())
            assert await harness.wait_for(job.id, FINAL) is JobState.FAILED
        finally:
            await harness.stop()
    home = tmp_path / "app"  # make_harness keeps everything there, as SEEDANCE_HOME does

    fetched = cli(home, simulator.url, "queue", "fetch-again", str(job.id))
    assert fetched.returncode == 0, fetched.stderr
    assert fetched.stdout.strip() == f"Job {job.id}: Fetching result."
    ran = cli(home, simulator.url, "queue", "run")
    assert ran.returncode == 0, ran.stderr
    (listed,) = json.loads(cli(home, simulator.url, "queue", "list", "--all", "--json").stdout)
    assert listed["state"] == "done" and listed["request_id"]
    assert len(submits(simulator)) == 1, "fetch again sends no new submit"

    again = cli(home, simulator.url, "queue", "fetch-again", str(job.id))
    assert again.returncode == 1
    assert again.stderr.strip() == "Only a failed job can be fetched again."
    missing = cli(home, simulator.url, "queue", "fetch-again", "99")
    assert missing.returncode == 2 and "There is no job 99." in missing.stderr


def test_generate_answered_408_sends_once_and_names_fals_request(
    tmp_path: Path, simulator: SimulatorServer
) -> None:
    with running_proxy(simulator.url) as proxy:
        timeout = Answer(408, b"{}", {"x-fal-request-id": "req-408-cli"})
        proxy.script("POST", SUBMIT, timeout, repeat=True)
        shot = ["--prompt", "A fox in snow", "--resolution", "480p", "--duration", "4"]
        result = cli(tmp_path / "home", proxy.url, "generate", "--mode", "text-to-video", *shot)
        assert proxy.count("POST", SUBMIT) == 1
    assert result.returncode == 1
    assert "fal named it request req-408-cli" in result.stderr
    assert "Traceback" not in result.stderr
