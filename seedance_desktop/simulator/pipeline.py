"""What the simulated model does with one request: check the input as fal would, then render.

References that point at this server's own storage are probed and rendered; references anywhere
else are not fetched (the simulator works offline) and show as placeholders. Renders run in a worker
thread and are cached by everything that affects the pixels, so the same input and seed give the
same file.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import re
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from urllib.parse import urlsplit

from seedance_desktop.domain.endpoints import (
    AUTO_DURATION_RANGE_S,
    ENDPOINTS,
    LIMITS,
    OUTPUT_FPS,
    Endpoint,
    Mode,
    closest_aspect_ratio,
    output_size,
)
from seedance_desktop.domain.media_info import MediaInfo, ProbeResult
from seedance_desktop.domain.validation import Problem, errors_of, validate_input
from seedance_desktop.simulator.jobs import Job, Outcome
from seedance_desktop.simulator.storage import Storage, StoredFile

logger = logging.getLogger(__name__)

_SIM_FLAG = re.compile(r"#sim:([a-z_]+)")
_SINGLE_REFS = ("image_url", "end_image_url")
_LIST_REFS = ("image_urls", "video_urls", "audio_urls")
_LIST_MAX = {
    "image_urls": LIMITS.max_images,
    "video_urls": LIMITS.max_videos,
    "audio_urls": LIMITS.max_audios,
}
_TYPE_NAMES = {str: "string_type", bool: "bool_type", int: "int_type"}
OUTPUT_FILE_NAME = "output.mp4"


def sim_flags(payload: object) -> frozenset[str]:
    """`#sim:<flag>` markers in the prompt choose a per-request failure or a slow run."""
    prompt = payload.get("prompt") if isinstance(payload, Mapping) else None
    return frozenset(_SIM_FLAG.findall(prompt)) if isinstance(prompt, str) else frozenset()


def infra_outcome(status: int, error_type: str, detail: str, retryable: bool) -> Outcome:
    return Outcome(
        status,
        {"detail": detail, "error_type": error_type},
        {"X-Fal-Error-Type": error_type, "X-Fal-Retryable": "true" if retryable else "false"},
        error_type=error_type,
    )


def unprocessable(detail: list[dict[str, object]]) -> Outcome:
    return Outcome(422, {"detail": detail})


@dataclass(frozen=True)
class Reference:
    loc: tuple[str | int, ...]  # ("image_urls", 2)
    url: str


def references(payload: Mapping[str, object]) -> list[Reference]:
    found = [
        Reference((name,), value)
        for name in _SINGLE_REFS
        if isinstance(value := payload.get(name), str)
    ]
    for name in _LIST_REFS:
        items = payload.get(name)
        if isinstance(items, list):
            found.extend(
                Reference((name, i), item) for i, item in enumerate(items) if isinstance(item, str)
            )
    return found


def _value_at(payload: Mapping[str, object], loc: list[str | int]) -> tuple[bool, object]:
    value: object = payload
    for key in loc[1:]:
        if isinstance(key, int) and isinstance(value, list) and 0 <= key < len(value):
            value = value[key]
            continue
        if isinstance(key, str) and isinstance(value, Mapping) and key in value:
            value = value[key]
            continue
        return False, None
    return True, value


def _error_type(problem: Problem, endpoint: Endpoint, payload: Mapping[str, object]) -> str:
    """A pydantic-style `type` for a problem (fal's 422 items carry one; clients show `msg`)."""
    spec = endpoint.field(problem.field)
    if spec is None:
        return "value_error"
    if spec.name not in payload:
        return "missing"
    value = payload[spec.name]
    if spec.is_list:
        if not isinstance(value, list):
            return "list_type"
        return "too_long" if len(value) > _LIST_MAX.get(spec.name, len(value)) else "value_error"
    if spec.type is int and (isinstance(value, bool) or not isinstance(value, int)):
        return "int_type"
    if not isinstance(value, spec.type):
        return _TYPE_NAMES.get(spec.type, "value_error")
    if spec.choices and value not in spec.choices:
        return "literal_error"
    return "value_error"


def validation_detail(
    problems: list[Problem], endpoint: Endpoint, payload: Mapping[str, object]
) -> list[dict[str, object]]:
    detail: list[dict[str, object]] = []
    for problem in errors_of(problems):
        item: dict[str, object] = {
            "loc": problem.loc,
            "msg": problem.message,
            "type": _error_type(problem, endpoint, payload),
        }
        present, value = _value_at(payload, problem.loc)
        if present:
            item["input"] = value
        detail.append(item)
    return detail


def _content_policy(payload: Mapping[str, object]) -> Outcome:
    return unprocessable(
        [
            {
                "loc": ["body", "prompt"],
                "msg": "The content could not be processed because it was flagged by a content "
                "checker.",
                "type": "content_policy_violation",
                "url": "https://docs.fal.ai/errors#content_policy_violation",
                "input": payload.get("prompt"),
            }
        ]
    )


def _download_error(ref: Reference) -> dict[str, object]:
    return {
        "loc": ["body", *ref.loc],
        "msg": "Failed to download the file. Please check that the URL is accessible.",
        "type": "file_download_error",
        "url": "https://docs.fal.ai/errors#file_download_error",
        "input": ref.url,
    }


def _load_probe() -> Callable[[Path], ProbeResult] | None:
    try:
        from seedance_desktop.media.probe import probe
    except ImportError:  # pragma: no cover - the media layer is written in parallel
        return None
    return probe


class Pipeline:
    """The work of one simulated job: `await pipeline(job)` gives the result fal would answer."""

    def __init__(self, storage: Storage, outputs_dir: Path, executor: Executor) -> None:
        self._storage = storage
        self._outputs = outputs_dir
        self._outputs.mkdir(parents=True, exist_ok=True)
        self._executor = executor
        self._locks: dict[str, asyncio.Lock] = {}

    async def __call__(self, job: Job) -> Outcome:
        try:
            return await self._run(job)
        except Exception:
            logger.exception("simulated job %s failed", job.id)
            return Outcome(500, {"detail": "Internal error in the simulated model."})

    async def _run(self, job: Job) -> Outcome:
        endpoint = ENDPOINTS[job.model_id]
        payload = job.payload
        if not isinstance(payload, Mapping):
            item = {"loc": ["body"], "msg": "Input should be a JSON object.", "type": "dict_type"}
            return unprocessable([{**item, "input": payload}])
        flags = sim_flags(payload)
        if "runner_disconnected" in flags:
            return infra_outcome(503, "runner_disconnected", "The runner disconnected.", True)
        if "request_timeout" in flags:
            return infra_outcome(504, "request_timeout", "The request timed out.", True)

        files, download_errors = self._resolve(job, payload)
        media = await self._probe_all(files)
        problems = validate_input(endpoint, payload, media)
        detail = [_download_error(ref) for ref in download_errors]
        detail += validation_detail(problems, endpoint, payload)
        if detail:
            return unprocessable(detail)
        if "content_policy" in flags:
            return _content_policy(payload)
        return await self._render(job, endpoint, payload, files, media)

    # References ------------------------------------------------------------------------------

    def _resolve(
        self, job: Job, payload: Mapping[str, object]
    ) -> tuple[dict[str, StoredFile], list[Reference]]:
        files: dict[str, StoredFile] = {}
        errors: list[Reference] = []
        for ref in references(payload):
            stored, ours = self._storage.find_by_url(ref.url, set(job.own_netlocs))
            if stored is not None and not stored.expired:
                files[ref.url] = stored
            elif ours:
                errors.append(ref)
            else:
                host = urlsplit(ref.url).hostname or "a non-web address"
                job.log(
                    f"Not fetching a reference from {host}: the simulator only reads files "
                    "uploaded to it.",
                    "WARN",
                )
        return files, errors

    async def _probe_all(self, files: dict[str, StoredFile]) -> dict[str, ProbeResult] | None:
        probe = _load_probe()
        if probe is None or not files:
            return None if probe is None else {}
        loop = asyncio.get_running_loop()
        results = await asyncio.gather(
            *(loop.run_in_executor(self._executor, probe, f.path) for f in files.values())
        )
        return dict(zip(files, results, strict=True))

    # Rendering -------------------------------------------------------------------------------

    async def _render(
        self,
        job: Job,
        endpoint: Endpoint,
        payload: Mapping[str, object],
        files: dict[str, StoredFile],
        media: Mapping[str, ProbeResult] | None,
    ) -> Outcome:
        try:
            from seedance_desktop.simulator.render import RenderSpec, render
        except ImportError:  # pragma: no cover - the renderer is written in parallel
            return infra_outcome(
                503, "runner_scheduling_failure", "The simulator has no renderer.", False
            )
        seed = _seed(payload)
        width, height = output_size(
            str(payload.get("resolution", "720p")), _aspect(endpoint, payload, media or {})
        )

        def paths(names: tuple[str, ...]) -> tuple[Path, ...]:
            return tuple(files[u].path for u in _urls(payload, names) if u in files)

        def one(name: str) -> Path | None:
            found = paths((name,))
            return found[0] if found else None

        spec = RenderSpec(
            width=width,
            height=height,
            duration_s=float(_duration(payload, seed)),
            prompt=str(payload.get("prompt", "")),
            seed=seed,
            fps=OUTPUT_FPS,
            start_image=one("image_url"),
            end_image=one("end_image_url"),
            reference_images=paths(("image_urls",)),
            reference_videos=paths(("video_urls",)),
            reference_audio=paths(("audio_urls",)),
            generate_audio=bool(payload.get("generate_audio", True)),
        )
        key = _cache_key(spec, {f.path: f.sha256 for f in files.values()})
        out_path = self._outputs / f"{key}.mp4"
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if not out_path.exists():
                job.log(f"Rendering {width}×{height}, {spec.duration_s:g} s")
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(self._executor, render, spec, out_path)
        stored = self._storage.register_output(key, out_path, OUTPUT_FILE_NAME)
        video = {
            "url": job.base_url + stored.url_path,
            "content_type": "video/mp4",
            "file_name": stored.name,
            "file_size": stored.size,
        }
        return Outcome(200, {"video": video, "seed": seed})


def _urls(payload: Mapping[str, object], names: tuple[str, ...]) -> list[str]:
    urls: list[str] = []
    for name in names:
        value = payload.get(name)
        items = value if isinstance(value, list) else [value]
        urls.extend(item for item in items if isinstance(item, str))
    return urls


def _seed(payload: Mapping[str, object]) -> int:
    seed = payload.get("seed")
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed
    return random.randrange(2**31)


def _duration(payload: Mapping[str, object], seed: int) -> int:
    value = payload.get("duration", "auto")
    if value == "auto":
        low, high = AUTO_DURATION_RANGE_S
        return low + seed % (high - low + 1)
    return int(str(value))


def _aspect(
    endpoint: Endpoint, payload: Mapping[str, object], media: Mapping[str, ProbeResult]
) -> str:
    ratio = payload.get("aspect_ratio", "auto")
    if ratio != "auto":
        return str(ratio)
    if endpoint.mode is Mode.IMAGE_TO_VIDEO:
        candidates = _urls(payload, ("image_url",))
    elif endpoint.mode is Mode.REFERENCE_TO_VIDEO:
        candidates = _urls(payload, ("image_urls",))[:1] + _urls(payload, ("video_urls",))[:1]
    else:
        candidates = []
    for url in candidates[:1]:
        info = media.get(url)
        if isinstance(info, MediaInfo) and info.width and info.height:
            return closest_aspect_ratio(info.width, info.height)
    return "16:9"


def _cache_key(spec: object, digests: Mapping[Path, str]) -> str:
    """Everything that affects the rendered bytes; input files by content, not by URL."""

    def plain(value: object) -> object:
        if isinstance(value, Path):
            return digests.get(value, str(value))
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        return value

    assert is_dataclass(spec)
    values = {f.name: plain(getattr(spec, f.name)) for f in fields(spec)}
    text = json.dumps(values, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:40]
