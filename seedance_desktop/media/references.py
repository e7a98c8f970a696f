"""Probe the local references of a shot (URLs are checked by fal, not here)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from seedance_desktop.domain.media_info import ProbeResult
from seedance_desktop.domain.shot import Shot

REMOTE_PREFIXES = ("http://", "https://", "data:")


def is_remote(reference: str) -> bool:
    return reference.lower().startswith(REMOTE_PREFIXES)


def probe_references(shot: Shot) -> dict[str, ProbeResult]:
    """Probe every distinct local reference of the shot, a few at a time."""
    local = sorted({ref for _, ref in shot.references() if not is_remote(ref)})
    if not local:
        return {}
    from seedance_desktop.media.probe import probe  # PyAV: loaded when first needed

    with ThreadPoolExecutor(max_workers=min(4, len(local))) as pool:
        return dict(zip(local, pool.map(probe, local), strict=True))
