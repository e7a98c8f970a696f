"""Pictures taken from media: poster frames, the last frame of a video, thumbnails, waveforms.

All write atomically (a temporary file beside the target, then a rename), turn video frames
upright when the file carries a display rotation, and raise MediaError with a message for a
person on bad input. Blocking: call them from a worker thread.

Output format: JPEG when the target's name ends in .jpg/.jpeg, PNG otherwise (last_frame and
audio_waveform always write PNG).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageOps

from seedance_desktop.media.names import display_name

PathArg = str | os.PathLike[str]

_SEEK_BACK_S = 2.0  # last_frame decodes from the keyframe before this point
_WAVEFORM_RATE = 8000  # plenty for peaks a few hundred pixels wide
_BACKGROUND = (32, 34, 40)
_WAVE = (120, 190, 255)
_READ_ERRORS = (av.error.FFmpegError, OSError, ValueError, EOFError, IndexError)


class MediaError(Exception):
    """A picture could not be made from a file; the message says why, in plain words."""


def poster_frame(
    video_path: PathArg, out_path: PathArg, *, max_side: int = 480, at_s: float | None = None
) -> Path:
    """A thumbnail of one frame (by default about 10% in) with its longer side ≤ max_side."""
    _check_side(max_side)
    name = display_name(video_path)
    with _open_video(video_path) as (container, stream):
        duration = _stream_duration(stream)
        target = max(0.0, at_s if at_s is not None else (duration or 0.0) * 0.1)
        frame = _frame_at(container, stream, target)
    if frame is None:
        raise MediaError(f"{name} has no picture that can be shown.")
    return _save(_scaled(_upright(frame), max_side), Path(out_path))


def last_frame(video_path: PathArg, out_path: PathArg) -> Path:
    """The last decodable frame at full size, as PNG (the start frame of a continued shot)."""
    name = display_name(video_path)
    with _open_video(video_path) as (container, stream):
        frame = _last(container, stream)
    if frame is None:
        raise MediaError(f"{name} has no picture to continue from.")
    return _save(_upright(frame), Path(out_path), fmt="PNG")


def image_thumbnail(image_path: PathArg, out_path: PathArg, *, max_side: int = 480) -> Path:
    """A picture scaled so its longer side is ≤ max_side, turned by its EXIF orientation."""
    _check_side(max_side)
    name = display_name(image_path)
    out = Path(out_path)
    try:
        with Image.open(image_path) as image:
            image.draft("RGB", (max_side, max_side))  # JPEG: decode at a fraction of full size
            picture = ImageOps.exif_transpose(image)
            picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            picture = _flatten(picture, keep_alpha=_format_for(out) == "PNG")
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise _open_error(name, exc) from exc
    except Image.DecompressionBombError as exc:
        raise MediaError(f"{name} has far too many pixels to be used safely.") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise MediaError(f"{name} could not be read as a picture.") from exc
    return _save(picture, out)


def audio_waveform(
    audio_path: PathArg, out_path: PathArg, *, width: int = 480, height: int = 96
) -> Path:
    """A PNG of the sound's peaks, one column per slice of time (a video's sound works too)."""
    if width < 1 or height < 2:
        raise ValueError("a waveform needs width ≥ 1 and height ≥ 2")
    name = display_name(audio_path)
    samples = _read_peaks_source(audio_path, name)
    if samples.size == 0:
        raise MediaError(f"{name} has no sound that can be decoded.")
    peaks = _column_peaks(np.abs(samples), width)
    # Loud parts fill the height; a lone click (an AAC start, say) may clip rather than flatten
    # everything else. Quieter than -40 dB throughout: drawn as it is, nearly flat.
    level = max(float(np.percentile(peaks, 90)), float(peaks.max()) / 2)
    peaks = np.minimum(peaks / level, 1.0) if level >= 0.01 else peaks
    image = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    middle = (height - 1) / 2
    for x, peak in enumerate(peaks):
        half = max(0.5, float(peak) * (height / 2 - 1))
        draw.line((x, middle - half, x, middle + half), fill=_WAVE)
    return _save(image, Path(out_path), fmt="PNG")


def _open_error(name: str, exc: OSError) -> MediaError:
    if isinstance(exc, FileNotFoundError):
        return MediaError(f"{name} was not found.")
    if isinstance(exc, IsADirectoryError):
        return MediaError(f"{name} is a folder, not a file.")
    if isinstance(exc, PermissionError):
        return MediaError(f"{name} cannot be read: permission denied.")
    return MediaError(f"{name} cannot be read.")


# ---- video ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _open_video(
    path: PathArg,
) -> Iterator[tuple[av.container.InputContainer, av.video.stream.VideoStream]]:
    """The container and its first real video stream; MediaError for anything unreadable.

    A file object, not a name: FFmpeg never sees a file name that is not valid UTF-8.
    """
    name = display_name(path)
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, after the container
    except OSError as exc:
        raise _open_error(name, exc) from exc
    try:
        try:
            container = av.open(handle, mode="r", metadata_errors="ignore")
        except _READ_ERRORS as exc:
            raise MediaError(f"{name} is not a video this app can read.") from exc
        with container:
            demuxer = container.format.name.split(",")[0]
            if demuxer in ("image2", "ico") or demuxer.endswith("_pipe"):
                raise MediaError(f"{name} is a picture, not a video.")
            stream = next(
                (
                    s
                    for s in container.streams.video
                    if not s.disposition & av.stream.Disposition.attached_pic
                ),
                None,
            )
            if stream is None:
                raise MediaError(f"{name} has no pictures, only sound.")
            yield container, stream
    finally:
        handle.close()


def _stream_duration(stream: av.video.stream.VideoStream) -> float | None:
    if stream.duration is None or stream.time_base is None:
        return None
    return float(stream.duration * stream.time_base)


def _frames(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> Iterator[av.VideoFrame]:
    """Decoded frames from the current position; a damaged packet is skipped, a cut file ends."""
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except _READ_ERRORS:
            break  # the data ends early (a file cut short): flush what the decoder holds
        try:
            yield from packet.decode()
        except av.error.FFmpegError:
            continue  # one damaged packet; the decoder picks up again at the next keyframe
    with contextlib.suppress(*_READ_ERRORS):
        yield from stream.codec_context.decode(None)


def _seek(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, t: float
) -> bool:
    """Seek to the keyframe at or before `t` seconds; False when the file does not allow it."""
    assert stream.time_base is not None
    offset = int(t / stream.time_base) + (stream.start_time or 0)
    try:
        container.seek(offset, stream=stream, backward=True)
    except _READ_ERRORS:
        return False
    return True


def _frame_at(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, target: float
) -> av.VideoFrame | None:
    """The first frame at or after `target` seconds, else the last frame there is."""
    if target >= 1.0 and stream.time_base is not None:
        _seek(container, stream, target)
    chosen = None
    for frame in _frames(container, stream):
        chosen = frame
        if frame.time is not None and frame.time >= target - 1e-3:
            break
    return chosen


def _last(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> av.VideoFrame | None:
    """Decode from a keyframe shortly before the end; from the start if that finds nothing."""
    duration = _stream_duration(stream)
    last = None
    if (
        duration is not None
        and duration > _SEEK_BACK_S
        and _seek(container, stream, duration - _SEEK_BACK_S)
    ):
        for frame in _frames(container, stream):
            last = frame
        if last is not None:
            return last
        if not _seek(container, stream, 0.0):
            return None
    for frame in _frames(container, stream):
        last = frame
    return last


def _upright(frame: av.VideoFrame) -> Image.Image:
    """The frame as displayed: rotation is counter-clockwise degrees, as PIL's rotate takes."""
    image: Image.Image = frame.to_image()  # type: ignore[no-untyped-call]  # PyAV's stub
    turn = round((frame.rotation or 0) / 90) % 4
    if turn:
        transpose = Image.Transpose
        image = image.transpose(
            (transpose.ROTATE_90, transpose.ROTATE_180, transpose.ROTATE_270)[turn - 1]
        )
    return image


# ---- sound ----------------------------------------------------------------------------------


def _read_peaks_source(path: PathArg, name: str) -> np.ndarray:
    """The first sound stream as mono float32 at a low rate (peaks only, not for listening)."""
    chunks: list[np.ndarray] = []
    try:
        with (
            open(path, "rb") as handle,
            av.open(handle, mode="r", metadata_errors="ignore") as container,
        ):
            if not container.streams.audio:
                raise MediaError(f"{name} has no sound.")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=_WAVEFORM_RATE)
            for frame in _audio_frames(container):
                frame.pts = None  # resample by sample count; odd timestamps must not add gaps
                chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(frame))
            chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    except OSError as exc:
        raise _open_error(name, exc) from exc
    except _READ_ERRORS as exc:
        raise MediaError(f"{name} could not be read as sound.") from exc
    return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


def _audio_frames(container: av.container.InputContainer) -> Iterator[av.AudioFrame]:
    stream = container.streams.audio[0]
    try:
        for packet in container.demux(stream):
            try:
                yield from packet.decode()
            except av.error.FFmpegError:
                continue
    except av.error.FFmpegError:
        return  # cut short: draw what there is


def _column_peaks(magnitude: np.ndarray, width: int) -> np.ndarray:
    """The loudest sample in each of `width` equal slices (samples repeat if there are few)."""
    if magnitude.size < width:
        return magnitude[(np.arange(width) * magnitude.size) // width]
    starts = (np.arange(width) * magnitude.size) // width
    return np.maximum.reduceat(magnitude, starts)


# ---- pictures -------------------------------------------------------------------------------


def _check_side(max_side: int) -> None:
    if max_side < 1:
        raise ValueError("max_side must be at least 1 pixel")


def _scaled(image: Image.Image, max_side: int) -> Image.Image:
    image = image.convert("RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


def _flatten(image: Image.Image, *, keep_alpha: bool) -> Image.Image:
    """RGB, or RGBA for a PNG of a picture with transparency; JPEG gets it over white."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if not has_alpha:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    if keep_alpha:
        return rgba
    flat = Image.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat


def _format_for(out_path: Path) -> str:
    return "JPEG" if out_path.suffix.lower() in (".jpg", ".jpeg") else "PNG"


def _save(image: Image.Image, out_path: Path, fmt: str | None = None) -> Path:
    fmt = fmt or _format_for(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=out_path.parent, prefix=".frame-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            if fmt == "JPEG":
                image.convert("RGB").save(stream, "JPEG", quality=88)
            else:
                image.save(stream, "PNG")
        Path(temp).chmod(0o644)
        Path(temp).replace(out_path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return out_path
