"""pytest plugin: the bundled simulator on a real socket, for any test that talks fal's protocol."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from seedance_desktop.simulator.config import SimulatorConfig
from seedance_desktop.simulator.runner import SimulatorServer

TEST_KEY = "test-key:secret"


@pytest.fixture
def sim_config(tmp_path_factory: pytest.TempPathFactory) -> SimulatorConfig:
    """Instant mode (no queue wait, no progress delays). The data folder is NOT inside the
    test's tmp_path, so a test can assert on exactly what it wrote there. Timings and
    max_concurrent are read live, so tests may also change them on `simulator.config`."""
    data_dir = tmp_path_factory.mktemp("simulator")
    return SimulatorConfig(data_dir=data_dir, instant=True, run_time_s=1.0)


@pytest.fixture
def simulator(sim_config: SimulatorConfig) -> Iterator[SimulatorServer]:
    server = SimulatorServer(sim_config)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fal_env(simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> SimulatorServer:
    """Point the fal client at the simulator, with a test key."""
    for name in ("SEEDANCE_FAL_QUEUE_URL", "SEEDANCE_FAL_REST_URL", "SEEDANCE_FAL_CDN_URL"):
        monkeypatch.setenv(name, simulator.url)
    monkeypatch.setenv("FAL_KEY", TEST_KEY)
    return simulator
