"""Media probing: what a file really is, by its content, in milliseconds, and never a crash.

The first bytes pick the reader (never the file name's extension): pictures go to Pillow (header
plus a cheap integrity check), everything else to PyAV (FFmpeg), which also decodes one frame so a
file whose header survived but whose data did not is caught. Files cut short are found by their
own size fields (MP4/MOV boxes, the WAV header, the MP3 Xing header) without reading them whole.

Policy for files that are not jpeg/png/webp/gif/avif/mp4/mov/mp3/wav:
- readable media of another format (BMP, TIFF, HEIC through pillow-heif, FLAC, Ogg, M4A, WebM,
  ...) gives a MediaInfo with the real format, so validation can say "this is a FLAC sound" and
  which formats fit instead (and fitting can convert it: media/fit.py);
- anything this app cannot decode (SVG, PDF, text, unknown bytes; HEIC without pillow-heif)
  gives a ProbeFailure.

Width and height are as displayed: a phone video stored sideways with a rotation flag, or a JPEG
with an EXIF orientation, reports its upright size.

Pure functions without shared state: safe to call from several worker threads at once.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import IO

import av
from PIL import Image, UnidentifiedImageError

from seedance_desktop.domain.media_info import MediaInfo, MediaKind, ProbeFailure, ProbeResult
from seedance_desktop.media.heif import register_heif
from seedance_desktop.media.names import display_name

__all__ = ["MAX_PROBE_BYTES", "display_name", "probe"]

# A file this large is refused without being read (fal takes at most 50 MB of video in all).
MAX_PROBE_BYTES = 2 * 1024**3
_HEAD_BYTES = 512

# Sniffed picture format -> Pillow's plugin name. Only these plugins may open the file.
_PILLOW = {
    "jpeg": "JPEG",
    "png": "PNG",
    "gif": "GIF",
    "webp": "WEBP",
    "avif": "AVIF",
    "bmp": "BMP",
    "tiff": "TIFF",
    "heic": "HEIF",  # with pillow-heif (see media/heif.py); fitting converts it to JPEG
}
_LABELS = {
    "jpeg": "JPEG picture",
    "png": "PNG picture",
    "gif": "GIF picture",
    "webp": "WebP picture",
    "avif": "AVIF picture",
    "bmp": "BMP picture",
    "tiff": "TIFF picture",
    "heic": "HEIC picture",
    "isobmff": "MP4/MOV file",
    "wav": "WAV sound",
    "mp3": "MP3 sound",
    "ogg": "Ogg file",
    "flac": "FLAC sound",
    "matroska": "Matroska/WebM video",
    "media": "media file",
}
_NOT_READABLE = {
    "heic": "is a HEIC picture, which this app cannot read; export it as JPEG or PNG.",
    "svg": "is an SVG drawing; export it as a PNG or JPEG picture.",
    "pdf": "is a PDF document, not a picture, video or sound file.",
    "text": "is a text file, not a picture, video or sound file.",
}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_OLD_QUICKTIME = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
_AUDIO_DEMUXERS = {"mp3": "mp3", "wav": "wav", "ogg": "ogg", "flac": "flac", "aac": "aac"}
_AV_ERRORS = (av.error.FFmpegError, OSError, ValueError, ZeroDivisionError, IndexError)

av.logging.set_level(None)  # FFmpeg logs ignored, not routed through Python: a codec thread logging
# through the GIL can deadlock a decode (PyAV issue 751); errors still come as exceptions


def probe(path: str | os.PathLike[str] | bytes) -> ProbeResult:
    """Describe the media file at `path`, or say in plain words why it cannot be used."""
    name = display_name(path)
    try:
        return _probe(path, name)
    except Exception as exc:  # never raise: a caller shows the message and carries on
        return ProbeFailure(f"{name} could not be read ({type(exc).__name__}).")


def _probe(path: str | os.PathLike[str] | bytes, name: str) -> ProbeResult:
    fs_path: str | bytes = path if isinstance(path, bytes) else os.fspath(path)
    try:
        info = os.stat(fs_path)
    except FileNotFoundError:
        if os.path.lexists(fs_path):
            return ProbeFailure(f"{name} is a link to a file that no longer exists.")
        return ProbeFailure(f"{name} was not found; it may have been moved or deleted.")
    except OSError as exc:
        return ProbeFailure(f"{name} cannot be read: {_reason(exc)}.")
    except ValueError:  # e.g. an embedded NUL character
        return ProbeFailure(f"{name} is not a valid file name.")
    if stat.S_ISDIR(info.st_mode):
        return ProbeFailure(f"{name} is a folder, not a file.")
    if not stat.S_ISREG(info.st_mode):
        return ProbeFailure(f"{name} is not a regular file.")
    size = info.st_size
    if size == 0:
        return ProbeFailure(f"{name} is empty (0 bytes).")
    if size > MAX_PROBE_BYTES:
        return ProbeFailure(
            f"{name} is {size / 1024**3:.1f} GB, too large to use "
            f"(the limit is {MAX_PROBE_BYTES // 1024**3} GB)."
        )
    try:
        with open(fs_path, "rb") as handle:
            head = handle.read(_HEAD_BYTES)
            kind = _sniff(head)
            if kind == "heic" and register_heif():
                return _probe_image(handle, name, size, kind)
            if kind in _NOT_READABLE:
                return ProbeFailure(f"{name} {_NOT_READABLE[kind]}")
            if kind in _PILLOW:
                return _probe_image(handle, name, size, kind)
            if _cut_short(handle, head, size, kind):
                return ProbeFailure(_cut_short_message(name, kind))
            return _probe_av(handle, name, size, head, kind)
    except OSError as exc:
        return ProbeFailure(f"{name} cannot be read: {_reason(exc)}.")


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return (exc.strerror or type(exc).__name__).lower()


def _article(label: str) -> str:
    return "an" if label[0].lower() in "aeiou" or label.startswith(("MP", "M4")) else "a"


def _damaged_message(name: str, kind: str | None) -> str:
    if kind in _LABELS:
        label = _LABELS[kind]
        return f"{name} is {_article(label)} {label}, but it is damaged and cannot be read."
    return f"{name} is not a picture, video or sound file that this app can read."


def _cut_short_message(name: str, kind: str | None) -> str:
    label = _LABELS.get(kind or "", "media file")
    return (
        f"{name} is {_article(label)} {label} that is cut short "
        "(it may not have finished downloading or copying)."
    )


# ---- sniffing -------------------------------------------------------------------------------


def _sniff(head: bytes) -> str | None:
    """The format family the first bytes announce, or None to let FFmpeg look."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"BM") and head[14:18] in {bytes([n, 0, 0, 0]) for n in (12, 40, 108, 124)}:
        return "bmp"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head[4:8] == b"ftyp":
        return _ftyp_family(head)
    if head[4:8] in _OLD_QUICKTIME:
        return "isobmff"
    if head.startswith(b"ID3") or _is_mp3_frame(head):
        return "mp3"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"
    if head.startswith(b"%PDF"):
        return "pdf"
    return _sniff_text(head)


def _ftyp_family(head: bytes) -> str:
    box_end = min(int.from_bytes(head[:4], "big"), len(head))
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, box_end - 3, 4)}
    if head[8:12] in (b"avif", b"avis") or (head[8:12] in _HEIF_BRANDS and b"avif" in brands):
        return "avif"
    if head[8:12] in _HEIF_BRANDS:
        return "heic"
    return "isobmff"


def _is_mp3_frame(head: bytes) -> bool:
    # Frame sync (11 bits), a real MPEG version, layer III.
    return (
        len(head) >= 4
        and head[0] == 0xFF
        and head[1] & 0xE0 == 0xE0
        and (head[1] >> 3) & 3 != 1
        and (head[1] >> 1) & 3 == 1
    )


def _sniff_text(head: bytes) -> str | None:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the sample
            return None
        text = head[: exc.start].decode("utf-8")
    if not text or not all(ch.isprintable() or ch in "\t\n\r\f" for ch in text.lstrip("\ufeff")):
        return None
    return "svg" if "<svg" in text.lower() else "text"


# ---- files cut short ------------------------------------------------------------------------


def _cut_short(handle: IO[bytes], head: bytes, size: int, kind: str | None) -> bool:
    if kind == "isobmff":
        return _boxes_cut_short(handle, size)
    if kind == "wav":
        riff = int.from_bytes(head[4:8], "little")
        return riff not in (0, 0xFFFFFFFF) and riff + 8 > size + 1  # +1: a missing pad byte
    if kind == "mp3":
        return _xing_cut_short(handle, head, size)
    return False


def _boxes_cut_short(handle: IO[bytes], size: int) -> bool:
    """True when a top-level MP4/MOV box claims more bytes than the file holds."""
    offset = 0
    for _ in range(100_000):
        if offset + 8 > size:
            return False  # the end, or a few stray bytes after the last box
        handle.seek(offset)
        header = handle.read(16)
        length = int.from_bytes(header[:4], "big")
        if length == 1:  # 64-bit size follows the type
            length = int.from_bytes(header[8:16], "big")
        elif length == 0:  # the box runs to the end of the file
            return False
        if length < 8:
            return False  # not a box structure this check understands; FFmpeg decides
        offset += length
        if offset > size:
            return True
    return False


def _xing_cut_short(handle: IO[bytes], head: bytes, size: int) -> bool:
    """True when the MP3's Xing/Info header counts more bytes than the file holds."""
    start = 0
    if head.startswith(b"ID3") and len(head) >= 10:
        tag = sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(head[6:10]))
        start = 10 + tag + (10 if head[5] & 0x10 else 0)
    handle.seek(start)
    frame = handle.read(64)
    if not _is_mp3_frame(frame):
        return False
    mpeg1 = (frame[1] >> 3) & 3 == 3
    mono = (frame[3] >> 6) & 3 == 3
    side = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    at = 4 + side
    if frame[at : at + 4] not in (b"Xing", b"Info"):
        return False
    flags = int.from_bytes(frame[at + 4 : at + 8], "big")
    if not flags & 2:
        return False
    field = at + 8 + (4 if flags & 1 else 0)
    counted = int.from_bytes(frame[field : field + 4], "big")
    present = size - start
    return counted - present > max(4096, counted // 100)


# ---- pictures -------------------------------------------------------------------------------


def _probe_image(handle: IO[bytes], name: str, size: int, kind: str) -> ProbeResult:
    fmt = kind
    try:
        handle.seek(0)
        with Image.open(handle, formats=[_PILLOW[kind]]) as image:
            width, height = image.size
            image.verify()  # chunk CRCs for PNG; structure for the others
        handle.seek(0)
        with Image.open(handle, formats=[_PILLOW[kind]]) as image:
            if kind in ("jpeg", "webp", "avif", "tiff") and _exif_turned(image):
                width, height = height, width
            if kind in ("jpeg", "gif"):
                # verify() misses a cut pixel stream; a small draft (JPEG) or the first frame
                # (GIF) is cheap. WebP and AVIF were parsed whole by their libraries on open.
                image.draft("RGB", (64, 64))
                image.load()
    except Image.DecompressionBombError:
        return ProbeFailure(f"{name} has far too many pixels to be used safely.")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        return ProbeFailure(_damaged_message(name, kind))
    return MediaInfo(MediaKind.IMAGE, fmt, size, width=width, height=height)


def _exif_turned(image: Image.Image) -> bool:
    """True when the EXIF orientation shows the picture turned a quarter (5 to 8).

    Not asked of PNG: Pillow decodes the whole picture to look for an eXIf chunk after the data.
    """
    try:
        return image.getexif().get(0x0112) in (5, 6, 7, 8)
    except Exception:  # a damaged EXIF block only loses the orientation
        return False


# ---- video and sound ------------------------------------------------------------------------


def _probe_av(
    handle: IO[bytes], name: str, size: int, head: bytes, kind: str | None
) -> ProbeResult:
    handle.seek(0)
    # A file object, not a name: FFmpeg never sees a file name that is not valid UTF-8.
    try:
        container = av.open(handle, mode="r", metadata_errors="ignore")
    except _AV_ERRORS:
        return ProbeFailure(_damaged_message(name, kind))
    try:
        return _describe(container, name, size, head, kind)
    except _AV_ERRORS:
        return ProbeFailure(_damaged_message(name, kind or "media"))
    finally:
        container.close()


def _describe(
    container: av.container.InputContainer, name: str, size: int, head: bytes, kind: str | None
) -> ProbeResult:
    demuxers = container.format.name.split(",")
    video = next((s for s in container.streams.video if not _is_cover_art(s)), None)
    audio = next(iter(container.streams.audio), None)
    if video is not None:
        # Decode one frame: a file whose header survived but whose data did not is caught here.
        frame = next(container.decode(video), None)
        if frame is None:
            return ProbeFailure(_damaged_message(name, kind or "media"))
        width = video.codec_context.width or frame.width
        height = video.codec_context.height or frame.height
        if abs(frame.rotation or 0) % 180 == 90:
            width, height = height, width
        if _is_image_demuxer(demuxers[0]):
            fmt = demuxers[0].removesuffix("_pipe")
            fmt = video.codec_context.name if fmt == "image2" else fmt
            return MediaInfo(MediaKind.IMAGE, fmt, size, width=width, height=height)
        rate = video.average_rate or video.guessed_rate
        return MediaInfo(
            MediaKind.VIDEO,
            _video_format(demuxers, head, video.codec_context.name),
            size,
            width=width,
            height=height,
            duration_s=_duration(container, video),
            fps=float(rate) if rate else None,
            has_audio=audio is not None,
            video_codec=video.codec_context.name,
            audio_codec=_codec_name(audio),
        )
    if audio is not None:
        if next(container.decode(audio), None) is None:
            return ProbeFailure(_damaged_message(name, kind or "media"))
        return MediaInfo(
            MediaKind.AUDIO,
            _audio_format(demuxers),
            size,
            duration_s=_duration(container, audio),
            has_audio=True,
            audio_codec=_codec_name(audio),
        )
    return ProbeFailure(f"{name} holds neither pictures nor sound.")


def _is_cover_art(stream: av.stream.Stream) -> bool:
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def _is_image_demuxer(demuxer: str) -> bool:
    return demuxer in ("image2", "ico") or demuxer.endswith("_pipe")


def _codec_name(stream: av.stream.Stream | None) -> str | None:
    if stream is None:
        return None
    # The codec, not the decoder that read it ("mp3", not "mp3float").
    return stream.codec_context.codec.canonical_name or stream.codec_context.name


def _duration(container: av.container.InputContainer, stream: av.stream.Stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _video_format(demuxers: list[str], head: bytes, codec: str) -> str:
    if "mp4" in demuxers or "mov" in demuxers:
        # One demuxer reads both; the major brand in the ftyp box tells them apart, and a
        # QuickTime file from before ftyp existed starts straight with its boxes.
        if head[4:8] != b"ftyp":
            return "mov"
        brand = head[8:12]
        if brand == b"qt  ":
            return "mov"
        if brand.startswith(b"3g2"):
            return "3g2"
        return "3gp" if brand.startswith(b"3g") else "mp4"
    if "matroska" in demuxers:
        return "webm" if codec in ("vp8", "vp9", "av1") else "mkv"
    return demuxers[0]


def _audio_format(demuxers: list[str]) -> str:
    for demuxer in demuxers:
        if demuxer in _AUDIO_DEMUXERS:
            return _AUDIO_DEMUXERS[demuxer]
    if "mp4" in demuxers or "mov" in demuxers:
        return "m4a"  # an MP4 container with sound only
    if "matroska" in demuxers:
        return "mka"
    return demuxers[0]
