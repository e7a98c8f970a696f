"""Media probing: what a file really is, by its content, in milliseconds, and never a crash.

Images are read with Pillow (header plus a cheap verify), video and audio with PyAV (FFmpeg).
Every unusable file yields a ProbeFailure whose message a person understands. Pure functions:
safe to call from worker threads.
"""

from __future__ import annotations

import errno
import os
import stat

import av
from PIL import Image, UnidentifiedImageError

from seedance_desktop.domain.media_info import MediaInfo, MediaKind, ProbeFailure, ProbeResult
from seedance_desktop.media.names import display_name

# A file this large is refused without being read (fal takes at most 50 MB of video in all).
MAX_PROBE_BYTES = 2 * 1024**3

_PILLOW_FORMATS = {
    "JPEG": "jpeg",
    "PNG": "png",
    "WEBP": "webp",
    "GIF": "gif",
    "AVIF": "avif",
    "BMP": "bmp",
    "TIFF": "tiff",
    "ICO": "ico",
    "PPM": "ppm",
}
_AUDIO_CONTAINERS = {"mp3": "mp3", "wav": "wav", "ogg": "ogg", "flac": "flac", "aac": "aac"}

av.logging.set_level(av.logging.PANIC)  # FFmpeg's own console noise; errors come as exceptions


def probe(path: str | os.PathLike[str] | bytes) -> ProbeResult:
    name = display_name(path)
    fs_path = os.fsencode(path) if isinstance(path, bytes) else os.fspath(path)
    try:
        info = os.stat(fs_path)
    except FileNotFoundError:
        if os.path.lexists(fs_path):
            return ProbeFailure(f"{name} is a link to a file that no longer exists.")
        return ProbeFailure(f"{name} was not found; it may have been moved or deleted.")
    except OSError as exc:
        return ProbeFailure(f"{name} cannot be read ({_reason(exc)}).")
    if stat.S_ISDIR(info.st_mode):
        return ProbeFailure(f"{name} is a folder, not a file.")
    if not stat.S_ISREG(info.st_mode):
        return ProbeFailure(f"{name} is not a regular file.")
    if info.st_size == 0:
        return ProbeFailure(f"{name} is empty (0 bytes).")
    if info.st_size > MAX_PROBE_BYTES:
        return ProbeFailure(
            f"{name} is {info.st_size / 1024**3:.1f} GB, far larger than anything Seedance takes."
        )
    try:
        with open(fs_path, "rb") as handle:
            head = handle.read(64)
    except OSError as exc:
        return ProbeFailure(f"{name} cannot be read ({_reason(exc)}).")
    if _looks_like_image(head):
        return _probe_image(fs_path, name, info.st_size)
    return _probe_av(fs_path, name, info.st_size, head)


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or type(exc).__name__


def _looks_like_image(head: bytes) -> bool:
    return (
        head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM"))
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
        or (head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis", b"mif1", b"heic"))
        or head.startswith((b"II*\x00", b"MM\x00*"))
    )


def _looks_like_av(head: bytes) -> bool:
    return (
        head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free")
        or (head[:4] == b"RIFF" and head[8:12] == b"WAVE")
        or head.startswith((b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2", b"OggS", b"fLaC"))
        or head.startswith(b"\x1a\x45\xdf\xa3")
    )


def _probe_image(path: str | bytes, name: str, size: int) -> ProbeResult:
    try:
        with Image.open(path) as image:
            fmt = _PILLOW_FORMATS.get(image.format or "", (image.format or "image").lower())
            width, height = image.size
            image.verify()  # structure check without decoding every pixel
        if fmt in ("jpeg", "png", "webp"):
            # verify() misses a truncated pixel stream; decoding a small draft catches it cheaply.
            with Image.open(path) as image:
                image.draft("RGB", (64, 64))
                image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        return ProbeFailure(f"{name} looks like a picture but is damaged or cut short ({exc}).")
    except Image.DecompressionBombError:
        return ProbeFailure(f"{name} has far too many pixels to be used safely.")
    return MediaInfo(MediaKind.IMAGE, fmt, size, width=width, height=height)


def _probe_av(path: str | bytes, name: str, size: int, head: bytes) -> ProbeResult:
    # A file object, not a name: FFmpeg then never sees a file name that is not valid UTF-8.
    with open(path, "rb") as handle:
        try:
            container = av.open(handle, mode="r", metadata_errors="ignore")
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            if _looks_like_av(head):
                return ProbeFailure(f"{name} is damaged or cut short ({_short(exc)}).")
            return ProbeFailure(
                f"{name} is not a picture, video or sound file this app can read ({_short(exc)})."
            )
        try:
            return _describe(container, name, size, head)
        except (av.error.FFmpegError, OSError, ValueError, ZeroDivisionError) as exc:
            return ProbeFailure(f"{name} is damaged or cut short ({_short(exc)}).")
        finally:
            container.close()


def _short(exc: Exception) -> str:
    """FFmpeg's reason without the file name it repeats."""
    text = str(exc)
    if isinstance(exc, av.error.FFmpegError) and exc.strerror:
        text = exc.strerror
    return text[:120]


def _describe(
    container: av.container.InputContainer, name: str, size: int, head: bytes
) -> ProbeResult:
    video = next((s for s in container.streams.video if not _is_cover_art(s)), None)
    audio = next(iter(container.streams.audio), None)
    duration = _duration(container, video or audio)
    if video is not None:
        # Decode one frame: a file whose header survived but whose data did not is caught here.
        frame = next(container.decode(video), None)
        if frame is None:
            return ProbeFailure(f"{name} has no picture that can be decoded; it may be damaged.")
        return MediaInfo(
            MediaKind.VIDEO,
            _video_format(container, head),
            size,
            width=video.codec_context.width or frame.width,
            height=video.codec_context.height or frame.height,
            duration_s=duration,
            fps=float(video.average_rate) if video.average_rate else None,
            has_audio=audio is not None,
            video_codec=video.codec_context.name,
            audio_codec=audio.codec_context.name if audio is not None else None,
        )
    if audio is not None:
        frame = next(container.decode(audio), None)
        if frame is None:
            return ProbeFailure(f"{name} has no sound that can be decoded; it may be damaged.")
        names = container.format.name.split(",")
        fmt = next((_AUDIO_CONTAINERS[n] for n in names if n in _AUDIO_CONTAINERS), None)
        if fmt is None:
            fmt = "m4a" if head[4:8] == b"ftyp" else names[0]
        return MediaInfo(
            MediaKind.AUDIO,
            fmt,
            size,
            duration_s=duration,
            has_audio=True,
            audio_codec=audio.codec_context.name,
        )
    return ProbeFailure(f"{name} holds neither picture nor sound.")


def _is_cover_art(stream: av.stream.Stream) -> bool:
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def _duration(
    container: av.container.InputContainer, stream: av.stream.Stream | None
) -> float | None:
    if stream is not None and stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _video_format(container: av.container.InputContainer, head: bytes) -> str:
    names = container.format.name.split(",")
    if "mp4" in names or "mov" in names:
        # One demuxer reads both; the brand in the ftyp box tells them apart.
        return "mov" if head[8:12] == b"qt  " else "mp4"
    for known in ("webm", "matroska", "avi", "mpegts", "flv"):
        if known in names:
            return "webm" if known == "matroska" else known
    return names[0]
