"""Which fal the app talks to: the real service, a configured compatible server, or the bundled
simulator started in-process when there is no key."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from seedance_desktop.fal.config import ENV_CDN_URL, ENV_QUEUE_URL, ENV_REST_URL, FalConfig
from seedance_desktop.paths import AppPaths
from seedance_desktop.secrets import load_key

if TYPE_CHECKING:
    from seedance_desktop.simulator.runner import SimulatorServer

SIMULATOR_KEY = "simulator:local"
ENV_INSTANT = "SEEDANCE_SIMULATOR_INSTANT"


class BackendKind(StrEnum):
    FAL = "fal"
    CUSTOM = "custom"  # a fal-compatible server named in the environment
    SIMULATOR = "simulator"  # the bundled simulator: nothing is billed


@dataclass
class Backend:
    config: FalConfig
    kind: BackendKind
    simulator: SimulatorServer | None = None

    @property
    def label(self) -> str:
        return {
            BackendKind.FAL: "fal",
            BackendKind.CUSTOM: f"compatible server at {self.config.queue_url}",
            BackendKind.SIMULATOR: "bundled simulator (no key: nothing is billed)",
        }[self.kind]

    def close(self) -> None:
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None


def runs_on_simulator(key: str | None = None) -> bool:
    """Whether `open_backend` (with its default preference) would start the simulator, without
    starting anything: no SEEDANCE_FAL_* bases and no key."""
    if any(os.environ.get(name) for name in (ENV_QUEUE_URL, ENV_REST_URL, ENV_CDN_URL)):
        return False
    return not (key or load_key().key)


def open_backend(
    paths: AppPaths, *, key: str | None = None, port: int = 0, prefer: str = "auto"
) -> Backend:
    """Base URLs from the environment win; else fal with a key (unless the simulator is
    preferred); else the embedded simulator."""
    key = key or load_key().key
    if any(os.environ.get(name) for name in (ENV_QUEUE_URL, ENV_REST_URL, ENV_CDN_URL)):
        return Backend(FalConfig.from_env(key or SIMULATOR_KEY), BackendKind.CUSTOM)
    if key and prefer != "simulator":
        return Backend(FalConfig.from_env(key), BackendKind.FAL)
    return start_simulator_backend(paths, port=port)


def start_simulator_backend(paths: AppPaths, *, port: int = 0) -> Backend:
    from seedance_desktop.simulator.config import SimulatorConfig
    from seedance_desktop.simulator.runner import SimulatorServer

    instant = os.environ.get(ENV_INSTANT, "") not in ("", "0")
    config = SimulatorConfig(data_dir=paths.simulator_data, instant=instant)
    server = SimulatorServer(config, port=port)
    url = server.start()
    fal = FalConfig(key=None, queue_url=url, rest_url=url, cdn_url=url).with_key(SIMULATOR_KEY)
    return Backend(fal, BackendKind.SIMULATOR, server)


def key_check_config(key: str, env: Mapping[str, str] | None = None) -> FalConfig:
    """Where "Test key" asks: fal itself, or the compatible server the SEEDANCE_FAL_* variables
    name. Never the bundled simulator, which accepts any key, even while the app runs on it."""
    return FalConfig.from_env(key, env)


async def check_key(config: FalConfig) -> tuple[bool, str]:
    """Ask fal whether a key works, with the cheapest authenticated call there is (a storage
    token). True only when fal handed one out. The answer is a message for the person; it
    never contains the key."""
    from seedance_desktop.fal import errors
    from seedance_desktop.fal.client import FalClient
    from seedance_desktop.fal.retry import RetryPolicy

    if config.key is None:
        return False, "Enter a key first."
    # A person is waiting for the answer: one quick retry, not the engine's patient schedule.
    async with FalClient(config, retry=RetryPolicy(max_attempts=2, base_delay_s=0.2)) as client:
        try:
            await client.storage.token()
        except errors.InvalidKey:
            return False, "fal did not accept this key. Check that you copied all of it."
        except errors.BalanceExhausted as exc:
            return False, exc.message
        except errors.NetworkDown:
            return False, (
                "Can't check the key: offline (fal could not be reached). Check the network "
                "and try again."
            )
        except errors.FalError as exc:
            return False, f"Can't check the key: fal answered with a problem: {exc.message}"
    return True, "The key works."
