"""Library rows written straight into a real database, for tests of listing and searching."""

from __future__ import annotations

from seedance_desktop.domain.endpoints import Mode


def library_row(job_id: int, prompt: str, **values: object) -> dict[str, object]:
    """One library entry's columns (no file behind it), with `values` overriding any."""
    return {
        "job_id": job_id,
        "uid": f"{job_id:032x}",
        "path": f"/nowhere/{job_id}.mp4",
        "thumbnail": None,
        "created_at": float(job_id),
        "mode": Mode.TEXT_TO_VIDEO.value,
        "endpoint": "bytedance/seedance-2.0/text-to-video",
        "prompt": prompt,
        "input_json": "{}",
        "shot_json": "{}",
        "seed": job_id,
        "cost": None,
        "request_id": None,
        "timings_json": "{}",
        "width": None,
        "height": None,
        "duration_s": None,
        "size_bytes": None,
        **values,
    }
