"""Settings of the bundled fal simulator: timings, and the faults it injects on demand."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

# Uploads above this size are refused with 413 (fal's own client switches to multipart above it).
DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024


@dataclass
class Faults:
    """Failure rates (probabilities 0..1) applied per request with a seeded RNG.

    Mutable at run time: tests change rates between requests. The `/_sim/*` endpoints are exempt.
    """

    rate_429: float = 0.0  # 429 with Retry-After: 1 (0 in instant mode)
    rate_5xx: float = 0.0  # submit: 502/503 without x-fal-request-id; other calls: 500/503
    rate_drop: float = 0.0  # connection closed without an answer
    drop_after_submit: float = 0.0  # submit accepted (job exists), then the connection is closed
    slow_s: float = 0.0  # extra delay before each answer
    truncate_download_rate: float = 0.0  # full-file downloads cut off after half the body
    seed: int = 0

    def to_json(self) -> dict[str, float | int]:
        return asdict(self)

    def update(self, changes: dict[str, object]) -> None:
        """Set the named fields from JSON values; unknown names or bad values raise ValueError."""
        types = {f.name: f.type for f in fields(self)}
        for name, value in changes.items():
            if name not in types:
                raise ValueError(f"unknown fault setting: {name}")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number")
            if name == "seed":
                if not isinstance(value, int):
                    raise ValueError("seed must be a whole number")
                self.seed = value
                continue
            if value < 0 or (name != "slow_s" and value > 1):
                raise ValueError(f"{name} is out of range")
            setattr(self, name, float(value))


@dataclass
class SimulatorConfig:
    data_dir: Path  # uploaded files and rendered videos live here
    instant: bool = False  # True: no queue wait, no progress delays (tests)
    queue_delay_s: float = 2.0  # realistic mode timings
    run_time_s: float = 6.0
    max_concurrent: int = 2  # like fal: extra requests wait IN_QUEUE with a queue_position
    faults: Faults = field(default_factory=Faults)
    keepalive_s: float = 15.0  # SSE comment interval
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    token_ttl_s: float = 3600.0  # lifetime of a storage token
