"""Cut a range of any sound (M4A/AAC, FLAC, Ogg, MP3, WAV, a video's sound track) to WAV or MP3.

WAV is 16-bit PCM at 48 kHz (no further loss; 15 s of stereo is under 3 MB); MP3 is 192 kb/s at
44.1 kHz. Odd source rates (8, 11.025, 22.05, 37.8 kHz…) are resampled; more than two channels
are mixed down to stereo.
"""

from __future__ import annotations

import threading
from pathlib import Path

import av
import numpy as np

from seedance_desktop.domain.fit import FitPlan
from seedance_desktop.media.encode import encode_audio, flush_stream
from seedance_desktop.media.fit_errors import FitError, Progress, check_cancel

_MP3_FRAME = 1152
_WAV_CHUNK = 4096


def fit_audio(
    source: Path,
    target: Path,
    plan: FitPlan,
    name: str,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> None:
    """Write `target` (a new file) from `source` as `plan` says. Raises FitError."""
    assert plan.end_s is not None
    rate = plan.sample_rate or 48_000
    wanted = round((plan.end_s - plan.start_s) * rate)
    sound = _decode(source, name, plan.start_s, wanted, rate, progress, cancel)
    if sound.shape[1] < wanted:
        sound = np.pad(sound, ((0, 0), (0, wanted - sound.shape[1])))
    _encode(target, np.clip(sound[:, :wanted], -1.0, 1.0), plan.out_format, rate, cancel)
    if progress is not None:
        progress(1.0)


def _decode(
    source: Path,
    name: str,
    start_s: float,
    wanted: int,
    rate: int,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> np.ndarray:
    chunks: list[np.ndarray] = []
    got = 0
    position: int | None = None
    with av.open(str(source), metadata_errors="ignore") as container:
        if not container.streams.audio:
            raise FitError(f"{name} holds no sound to fit.")
        stream = container.streams.audio[0]
        mono = stream.codec_context.layout.nb_channels == 1
        resampler = av.AudioResampler(format="fltp", layout="mono" if mono else "stereo", rate=rate)
        if start_s > 0:
            container.seek(int(start_s * av.time_base))
        for frame in container.decode(stream):
            check_cancel(cancel)
            if position is None:
                position = round(((frame.time or 0.0) - start_s) * rate)
                if position > 0:
                    chunks.append(np.zeros((1 if mono else 2, position), np.float32))
                    got += position
            frame.pts = None
            for out in resampler.resample(frame):
                data = out.to_ndarray()
                if position is not None and position < 0:
                    drop = min(data.shape[1], -position)
                    data, position = data[:, drop:], position + drop
                chunks.append(data)
                got += data.shape[1]
            if progress is not None:
                progress(min(0.9, 0.9 * got / max(wanted, 1)))
            if got >= wanted:
                break
    if not chunks:
        raise FitError(f"{name} has no sound in the chosen range.")
    sound = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    return np.repeat(sound, 2, axis=0) if sound.shape[0] == 1 else sound


def _encode(
    target: Path, sound: np.ndarray, fmt: str, rate: int, cancel: threading.Event | None
) -> None:
    with av.open(str(target), "w", format=fmt) as out:
        out.metadata.clear()
        if fmt == "wav":
            stream = out.add_stream("pcm_s16le", rate=rate)
            chunk, sample_format = _WAV_CHUNK, "s16"
            data: np.ndarray = (sound * 32767).astype(np.int16)
            data = np.ascontiguousarray(data.T.reshape(1, -1))  # interleaved: packed s16
        else:
            stream = out.add_stream("libmp3lame", rate=rate)
            stream.bit_rate = 192_000
            chunk, sample_format = _MP3_FRAME, "fltp"
            data = sound
        stream.layout = "stereo"
        total = sound.shape[1]
        for start in range(0, total, chunk):
            check_cancel(cancel)
            if sample_format == "s16":
                piece = data[:, start * 2 : (start + chunk) * 2]
            else:
                piece = np.ascontiguousarray(data[:, start : start + chunk])
            encode_audio(out, stream, piece, sample_format=sample_format, layout="stereo",
                         rate=rate, pts=start)  # fmt: skip
        flush_stream(out, stream)
