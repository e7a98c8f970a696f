"""A history of finished jobs written straight into the app's database (its own schema), for the
scale and memory benchmarks: N jobs that went through every state, each with its library entry,
video and thumbnail. One real video and one real thumbnail are made and hard-linked (copied where
links are not possible) under every entry's own name, as the engine would have left them.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import time
import uuid
from pathlib import Path

from media import make_clip

SUBJECTS = (
    "a red fox",
    "an old lighthouse",
    "a paper boat",
    "two dancers",
    "a heron",
    "a vintage car",
    "a city tram",
    "a glass jellyfish",
    "a mountain goat",
    "a kite",
)
ACTIONS = (
    "runs through",
    "drifts across",
    "spins above",
    "waits beside",
    "glides over",
    "races along",
    "rises from",
    "circles around",
    "sleeps under",
    "dances in",
)
PLACES = (
    "fresh snow",
    "a rainy street",
    "a night market",
    "the desert dunes",
    "a misty lake",
    "a neon alley",
    "an autumn forest",
    "a quiet harbour",
    "a wheat field",
    "the city roofs",
)
STYLES = ("golden hour light", "handheld close-up", "slow dolly shot", "35mm film grain",
          "soft morning haze", "wide aerial view", "dramatic backlight")  # fmt: skip
STATES = ("queued", "uploading", "submitting", "in_queue", "in_progress", "fetching",
          "downloading", "done")  # fmt: skip


def prompt_for(rng: random.Random) -> str:
    return (f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(ACTIONS)} {rng.choice(PLACES)}, "
            f"{rng.choice(STYLES)}")  # fmt: skip


def _place(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def fill_history(paths: object, count: int, *, seed: int = 1) -> None:
    """Add `count` finished jobs, newest first in time, to the database under `paths`."""
    from seedance_desktop.domain.endpoints import Mode
    from seedance_desktop.domain.shot import Shot, build_input, shot_to_json
    from seedance_desktop.engine.database import Database
    from seedance_desktop.media.frames import poster_frame
    from seedance_desktop.paths import AppPaths

    assert isinstance(paths, AppPaths)
    paths.ensure()
    month = paths.library / time.strftime("%Y-%m")
    month.mkdir(parents=True, exist_ok=True)
    paths.thumbnails.mkdir(parents=True, exist_ok=True)
    video = make_clip(paths.cache / "bench-source.mp4", 854, 480, 2.0, bit_rate=1_000_000)
    thumbnail = poster_frame(video, paths.cache / "bench-source.jpg")
    rng = random.Random(seed)
    now = time.time()
    jobs, history, library = [], [], []
    db = Database.open(paths.database)
    first_id = int(db.execute("SELECT coalesce(max(id), 0) FROM jobs").fetchone()[0]) + 1
    for n in range(count):
        job_id, uid = first_id + n, uuid.uuid4().hex
        shot = Shot(mode=Mode.TEXT_TO_VIDEO, prompt=prompt_for(rng), resolution="720p",
                    duration="5", aspect_ratio="16:9", seed=rng.randrange(2**31))  # fmt: skip
        created = now - (count - n) * 90.0
        target, thumb = month / f"{uid}.mp4", paths.thumbnails / f"{uid}.jpg"
        _place(video, target)
        _place(thumbnail, thumb)
        request_id = str(uuid.uuid4())
        payload = json.dumps(build_input(shot))
        result = {"video": {"url": f"http://127.0.0.1:9/files/{uid}/output.mp4",
                            "content_type": "video/mp4", "file_name": "output.mp4",
                            "file_size": video.stat().st_size}, "seed": shot.seed}  # fmt: skip
        jobs.append((job_id, uid, float(job_id), "done", shot.endpoint.model_id,
                     json.dumps(shot_to_json(shot)), payload, request_id, 1.21, 1.21, 1.21,
                     shot.seed, json.dumps(result), str(target), created, created + 60,
                     created + 5, created + 50, created + 60))  # fmt: skip
        history += [(job_id, 1, created + i * 7.5, state, None) for i, state in enumerate(STATES)]
        timings = {"queued_at": created, "submitted_at": created + 5,
                   "completed_at": created + 50, "saved_at": created + 60}  # fmt: skip
        library.append((job_id, uid, str(target), str(thumb), created + 60, "text-to-video",
                        shot.endpoint.model_id, shot.prompt, payload,
                        json.dumps(shot_to_json(shot)), shot.seed, 1.21, request_id,
                        json.dumps(timings), 1280, 720, 5.0, video.stat().st_size))  # fmt: skip
    with db.transaction() as tx:
        tx.executemany(
            """INSERT INTO jobs (id, uid, position, state, endpoint, shot_json, input_json,
               request_id, estimate_min, estimate_max, final_cost, seed, result_json, result_path,
               created_at, updated_at, submitted_at, completed_at, finished_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            jobs,
        )
        tx.executemany(
            "INSERT INTO job_history (job_id, attempt, at, state, detail) VALUES (?, ?, ?, ?, ?)",
            history,
        )
        tx.executemany(
            """INSERT INTO library (job_id, uid, path, thumbnail, created_at, mode, endpoint,
               prompt, input_json, shot_json, seed, cost, request_id, timings_json, width, height,
               duration_s, size_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
               ?)""",
            library,
        )
    db.close()
