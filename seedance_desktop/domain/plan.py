"""A shot ready to queue: its endpoint, exact input, cost estimate and every problem found."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from seedance_desktop.domain.endpoints import Endpoint, Mode
from seedance_desktop.domain.media_info import ProbeResult
from seedance_desktop.domain.pricing import Estimate, estimate
from seedance_desktop.domain.shot import Shot, build_input
from seedance_desktop.domain.validation import Problem, Severity, validate_input


@dataclass(frozen=True)
class Plan:
    shot: Shot
    endpoint: Endpoint
    input: dict[str, object]
    estimate: Estimate
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, object]:
        return {
            "endpoint": self.endpoint.model_id,
            "input": self.input,
            "estimate_usd": self.estimate.to_json(),
            "problems": [p.to_json() for p in self.problems],
        }


def plan_shot(shot: Shot, media: Mapping[str, ProbeResult] | None = None) -> Plan:
    payload = build_input(shot)
    problems = [*_unused_references(shot), *validate_input(shot.endpoint, payload, media)]
    return Plan(
        shot, shot.endpoint, payload, estimate(shot.endpoint, payload, media), tuple(problems)
    )


def _unused_references(shot: Shot) -> list[Problem]:
    """References the chosen mode does not send: say so instead of dropping them silently."""
    label = shot.mode.label
    unused: list[tuple[str, str]] = []
    if shot.mode is not Mode.IMAGE_TO_VIDEO:
        if shot.start_image:
            unused.append(("image_url", "a start frame, so it"))
        if shot.end_image:
            unused.append(("end_image_url", "an end frame, so it"))
    if shot.mode is not Mode.REFERENCE_TO_VIDEO:
        for name, refs, what in (
            ("image_urls", shot.images, "reference images, so they"),
            ("video_urls", shot.videos, "reference videos, so they"),
            ("audio_urls", shot.audios, "reference audio, so it"),
        ):
            if refs:
                unused.append((name, what))
    return [
        Problem(name, Severity.WARNING, f"{label} does not use {what} will be left out.")
        for name, what in unused
    ]
