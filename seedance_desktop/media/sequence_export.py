"""One MP4 from a sequence of trimmed shots, on PyAV (no ffmpeg program needed).

H.264 + AAC at the sequence's size and frame rate. A shot of another size is letterboxed (or, with
`Fit.FILL`, scaled to fill and cropped); a shot of another frame rate is shown at the sequence's
rate (each output frame takes the source frame on screen at that moment); a shot without sound
gets silence, so the sound runs through the whole film. Optional crossfades overlap the shots by
a few frames, picture and sound alike.

Blocking: run it off the UI thread. `progress(done, total)` is called every few frames from that
thread; setting `cancel` stops at the next frame. The film is written to a hidden temporary file
beside the target and renamed into place only when complete: a cancel, a full disk or any other
failure leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import threading
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from seedance_desktop.media.encode import AUDIO_RATE, read_audio

_AAC_FRAME = 1024
_NO_ROOM = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
Progress = Callable[[int, int], None]


class Fit(StrEnum):
    LETTERBOX = "letterbox"  # the whole picture, black bars where the shape differs
    FILL = "fill"  # scaled to fill the frame, the overflow cropped


class SequenceExportError(Exception):
    """The film could not be made; the message is meant for the person."""


class ExportCancelled(SequenceExportError):
    def __init__(self) -> None:
        super().__init__("The export was cancelled; nothing was written.")


@dataclass(frozen=True)
class ExportClip:
    path: Path
    in_s: float
    out_s: float
    label: str  # "Shot 2 (a fox in the snow)", for messages


@dataclass(frozen=True)
class ExportOptions:
    width: int | None = None  # None: the first shot's size
    height: int | None = None
    fps: int = 24
    fit: Fit = Fit.LETTERBOX
    crossfade_frames: int = 0  # 0: straight cuts
    crf: int = 20


@dataclass(frozen=True)
class ClipInfo:
    clip: ExportClip
    width: int
    height: int
    fps: float
    has_audio: bool


@dataclass
class ExportReport:
    path: Path
    width: int
    height: int
    frames: int
    fps: int
    notes: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps


def frame_count(clip: ExportClip, fps: int) -> int:
    return max(0, round((clip.out_s - clip.in_s) * fps))


def inspect_clips(clips: Sequence[ExportClip], fps: int = 24) -> tuple[list[ClipInfo], list[str]]:
    """Check every shot before anything is written: SequenceExportError for what stops the
    export (no shots, a file gone or unreadable, an empty trim), notes for what it adapts."""
    if not clips:
        raise SequenceExportError("The sequence has no shots yet: add results to it first.")
    infos, notes = [], []
    for clip in clips:
        if not clip.path.exists():
            raise SequenceExportError(
                f"{clip.label}: its video file is gone ({clip.path}). Remove the shot or switch "
                "it to another take, then export again."
            )
        if frame_count(clip, fps) < 1:
            raise SequenceExportError(f"{clip.label} is trimmed to nothing; widen its in/out.")
        try:
            with av.open(str(clip.path)) as container:
                if not container.streams.video:
                    raise SequenceExportError(f"{clip.label} has no picture: {clip.path.name}.")
                video = container.streams.video[0]
                rate = float(video.average_rate or video.guessed_rate or fps)
                info = ClipInfo(
                    clip, video.width, video.height, rate, bool(container.streams.audio)
                )
        except (av.error.FFmpegError, OSError) as exc:
            raise SequenceExportError(
                f"{clip.label} cannot be read ({clip.path.name}): {_reason(exc)}"
            ) from exc
        if abs(info.fps - fps) > 0.01:
            notes.append(
                f"{clip.label} runs at {info.fps:g} fps; it plays at {fps} fps in the film "
                "(frames repeated or skipped, its timing kept)."
            )
        if not info.has_audio:
            notes.append(f"{clip.label} has no sound: the film is silent there.")
        infos.append(info)
    return infos, notes


def export_mp4(
    clips: Sequence[ExportClip],
    target: Path,
    options: ExportOptions | None = None,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> ExportReport:
    """Write the film to `target` (replacing a file there only once the new one is complete)."""
    options = options or ExportOptions()
    infos, notes = inspect_clips(clips, options.fps)
    width = options.width or infos[0].width
    height = options.height or infos[0].height
    width, height = width - width % 2, height - height % 2
    fps = options.fps
    counts = [frame_count(c, fps) for c in clips]
    fade = min([options.crossfade_frames, *(n // 2 for n in counts)]) if len(clips) > 1 else 0
    total = sum(counts) - fade * (len(clips) - 1)
    if any(i.width != width or i.height != height for i in infos):
        how = "letterboxed" if options.fit is Fit.LETTERBOX else "scaled to fill and cropped"
        notes.append(f"Shots of another size than {width}×{height} are {how}.")
    if not target.parent.is_dir():
        raise SequenceExportError(f"The folder {target.parent} does not exist.")
    try:
        handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".export-", suffix=".mp4")
        os.close(handle)
    except OSError as exc:
        raise SequenceExportError(write_failure_message(target, exc)) from exc
    temp = Path(temp_name)
    # The failure is raised only once the encoder's frames are gone: a traceback that keeps
    # PyAV's threaded codecs alive (as a test's `raises` does) can deadlock their release.
    failure: SequenceExportError | None = None
    try:
        sound = _soundtrack(infos, counts, fade, fps)
        _encode(infos, counts, fade, temp, (width, height), options, sound, progress, cancel)
        with temp.open("rb") as done:
            os.fsync(done.fileno())
        temp.chmod(0o644)
        temp.replace(target)
    except ExportCancelled:
        failure = ExportCancelled()
    except SequenceExportError as exc:
        failure = SequenceExportError(str(exc))
    except (av.error.FFmpegError, OSError) as exc:
        failure = SequenceExportError(write_failure_message(target, exc))
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    if failure is not None:
        temp.unlink(missing_ok=True)
        raise failure
    return ExportReport(target, width, height, total, fps, notes)


# Picture -----------------------------------------------------------------------------------------


def _encode(
    infos: list[ClipInfo],
    counts: list[int],
    fade: int,
    temp: Path,
    size: tuple[int, int],
    options: ExportOptions,
    sound: np.ndarray,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> None:
    """Encode the film into `temp`; ExportCancelled once the encoders are drained and closed
    (closing x264 with frames in flight can deadlock PyAV while FFmpeg's log goes to Python)."""
    width, height = size
    fps = options.fps
    total = sum(counts) - fade * (len(infos) - 1)
    samples_per_frame = Fraction(AUDIO_RATE, fps)
    with av.open(str(temp), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        out.metadata.clear()
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "veryfast", "crf": str(options.crf)}
        video.thread_type = "AUTO"
        audio = out.add_stream("aac", rate=AUDIO_RATE)
        audio.layout = "stereo"
        written = 0
        audio_done = 0

        def emit(frame: av.VideoFrame) -> bool:
            nonlocal written, audio_done
            if cancel is not None and cancel.is_set():
                return False
            frame.pts = written
            frame.time_base = Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
            written += 1
            audio_done = _encode_audio(
                out, audio, sound, audio_done, int(written * samples_per_frame)
            )
            if progress is not None and (written % 6 == 0 or written == total):
                progress(written, total)
            return True

        tail: list[np.ndarray] = []  # the last frames of the shot before, kept for a crossfade
        going = True
        for index, info in enumerate(infos):
            hold = 0 if index == len(infos) - 1 else fade
            fading, tail = tail, []
            with contextlib.closing(
                _clip_frames(info, counts[index], fps, size, options.fit)
            ) as frames:
                for position, frame in enumerate(frames):
                    if position < len(fading):
                        going = emit(_blend(fading[position], frame, (position + 1) / (fade + 1)))
                    elif position >= counts[index] - hold:
                        tail.append(frame.to_ndarray())
                    else:
                        going = emit(frame)
                    if not going:
                        break
            if not going:
                break
        for packet in video.encode():
            out.mux(packet)
        _encode_audio(out, audio, sound, audio_done, sound.shape[1] if going else audio_done)
        for packet in audio.encode():
            out.mux(packet)
    if not going:
        raise ExportCancelled()


def _blend(previous: np.ndarray, frame: av.VideoFrame, mix: float) -> av.VideoFrame:
    """A crossfade frame: yuv420p planes mixed linearly (the same as mixing the pictures)."""
    current = frame.to_ndarray().astype(np.float32)
    mixed = previous.astype(np.float32) * (1 - mix) + current * mix
    return av.VideoFrame.from_ndarray(np.round(mixed).astype(np.uint8), format="yuv420p")


def _clip_frames(
    info: ClipInfo, count: int, fps: int, size: tuple[int, int], fit: Fit
) -> Generator[av.VideoFrame, None, None]:
    """`count` frames of the shot from its in point at `fps`, as yuv420p at `size`."""
    clip = info.clip
    with av.open(str(clip.path)) as container:
        stream = container.streams.video[0]
        # One decoding thread: with FFmpeg's log routed to Python (media.probe does that), a
        # decoder thread logging an error while this thread waits on it deadlocks on the GIL.
        stream.codec_context.thread_count = 1
        time_base = stream.time_base or Fraction(1, 90_000)
        start = float((stream.start_time or 0) * time_base)
        if clip.in_s > 0:
            container.seek(
                int(clip.in_s / time_base) + (stream.start_time or 0), stream=stream, backward=True
            )
        slack = 0.25 / max(info.fps, fps)
        held: av.VideoFrame | None = None
        produced = 0
        for frame in container.decode(stream):
            at = (frame.time if frame.time is not None else 0.0) - start
            while produced < count and clip.in_s + produced / fps < at - slack:
                yield _fitted(held if held is not None else frame, size, fit)
                produced += 1
            held = frame
            if produced >= count:
                break
        while held is not None and produced < count:  # the file ended early: hold its last frame
            yield _fitted(held, size, fit)
            produced += 1


def _fitted(frame: av.VideoFrame, size: tuple[int, int], fit: Fit) -> av.VideoFrame:
    width, height = size
    if frame.width == width and frame.height == height:
        return frame.reformat(format="yuv420p")
    scale_to = min if fit is Fit.LETTERBOX else max
    scale = scale_to(width / frame.width, height / frame.height)
    scaled_w = max(2, round(frame.width * scale / 2) * 2)
    scaled_h = max(2, round(frame.height * scale / 2) * 2)
    picture = frame.reformat(width=scaled_w, height=scaled_h, format="rgb24").to_ndarray()
    canvas = np.zeros((height, width, 3), np.uint8)
    x, y = (width - scaled_w) // 2, (height - scaled_h) // 2
    src = picture[max(0, -y) : max(0, -y) + height, max(0, -x) : max(0, -x) + width]
    canvas[max(0, y) : max(0, y) + src.shape[0], max(0, x) : max(0, x) + src.shape[1]] = src
    return av.VideoFrame.from_ndarray(canvas, format="rgb24").reformat(format="yuv420p")


# Sound -------------------------------------------------------------------------------------------


def _soundtrack(infos: list[ClipInfo], counts: list[int], fade: int, fps: int) -> np.ndarray:
    """The film's sound as (2, n) float32: each shot's trimmed sound padded with silence to its
    picture's exact length, overlapped and faded over the crossfades."""
    per_frame = AUDIO_RATE / fps
    overlap = round(fade * per_frame)
    total_frames = sum(counts) - fade * (len(infos) - 1)
    track = np.zeros((2, round(total_frames * per_frame)), np.float32)
    at_frame = 0
    for index, (info, count) in enumerate(zip(infos, counts, strict=True)):
        length = round(count * per_frame)
        piece = np.zeros((2, length), np.float32)
        if info.has_audio:
            try:
                decoded = read_audio(info.clip.path, info.clip.out_s)
            except (av.error.FFmpegError, OSError) as exc:
                raise SequenceExportError(
                    f"The sound of {info.clip.label} cannot be read: {_reason(exc)}"
                ) from exc
            begin = round(info.clip.in_s * AUDIO_RATE)
            cut = decoded[:, begin : begin + length]
            piece[:, : cut.shape[1]] = cut
        if overlap and index > 0:
            piece[:, :overlap] *= np.linspace(0, 1, overlap, dtype=np.float32)
        if overlap and index < len(infos) - 1:
            piece[:, length - overlap :] *= np.linspace(1, 0, overlap, dtype=np.float32)
        start = round(at_frame * per_frame)
        end = min(track.shape[1], start + length)
        track[:, start:end] += piece[:, : end - start]
        at_frame += count - fade
    return np.clip(track, -1.0, 1.0)


def _encode_audio(
    out: av.container.OutputContainer,
    stream: av.audio.stream.AudioStream,
    sound: np.ndarray,
    done: int,
    until: int,
) -> int:
    """Encode whole AAC frames of `sound` up to sample `until` (the rest at the very end)."""
    until = min(until, sound.shape[1])
    final = until == sound.shape[1]
    while done < until and (final or until - done >= _AAC_FRAME):
        piece = np.ascontiguousarray(sound[:, done : min(done + _AAC_FRAME, until)])
        frame = av.AudioFrame.from_ndarray(piece, format="fltp", layout="stereo")
        frame.sample_rate = AUDIO_RATE
        frame.pts = done
        frame.time_base = Fraction(1, AUDIO_RATE)
        for packet in stream.encode(frame):
            out.mux(packet)
        done += piece.shape[1]
    return done


# Messages ----------------------------------------------------------------------------------------


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).rstrip(".") + "."


def write_failure_message(target: Path, exc: BaseException) -> str:
    if getattr(exc, "errno", None) in _NO_ROOM:
        return (
            f"There is not enough room on the disk for {target.name} in {target.parent}; "
            "nothing was written. Free some space or choose another folder."
        )
    if isinstance(exc, PermissionError) or getattr(exc, "errno", None) == errno.EACCES:
        return f"{target.parent} cannot be written to; choose another folder."
    return f"{target.name} could not be written: {_reason(exc)}"
