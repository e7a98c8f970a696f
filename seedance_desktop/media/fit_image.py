"""Make a picture fal takes: upright (EXIF orientation applied), cropped, at most 6000 px a side,
as JPEG or PNG, under 30 MB. Reads HEIC/HEIF (pillow-heif), TIFF, BMP, GIF (first frame), WebP,
AVIF and the rest Pillow knows. The EXIF block is not copied: the pixels are upright already.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

from PIL import Image, ImageOps

from seedance_desktop.domain.fit import FitPlan
from seedance_desktop.media.fit_errors import FitError, Progress, check_cancel
from seedance_desktop.media.heif import register_heif

_JPEG_QUALITIES = (92, 85, 75, 60)


def fit_image(
    source: Path,
    target: Path,
    plan: FitPlan,
    name: str,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> str:
    """Write `target` (a new file) from `source` as `plan` says; returns the format written
    ("png" becomes "jpeg" for a picture that would be over the limit as PNG). Raises FitError."""
    register_heif()
    with Image.open(source) as opened:
        opened.seek(0)  # the first frame of an animation
        picture = ImageOps.exif_transpose(opened) or opened
        picture.load()
    check_cancel(cancel)
    if progress is not None:
        progress(0.4)
    if plan.crop is not None:
        crop = plan.crop
        picture = picture.crop((crop.x, crop.y, crop.x + crop.width, crop.y + crop.height))
    if plan.width and plan.height and picture.size != (plan.width, plan.height):
        picture = picture.resize((plan.width, plan.height), Image.Resampling.LANCZOS)
    check_cancel(cancel)
    if progress is not None:
        progress(0.7)
    fmt, data = _encoded(picture, plan.out_format, plan.max_bytes or 30 * 1024 * 1024, name)
    target.write_bytes(data)
    if progress is not None:
        progress(1.0)
    return fmt


def _encoded(picture: Image.Image, fmt: str, max_bytes: int, name: str) -> tuple[str, bytes]:
    if fmt == "png":
        clear = picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info
        buffer = io.BytesIO()
        picture.convert("RGBA" if clear else "RGB").save(buffer, "PNG", compress_level=6)
        if buffer.tell() <= max_bytes:
            return "png", buffer.getvalue()
        fmt = "jpeg"  # a photo-sized PNG over the limit: a JPEG says the same in far less
    rgb = picture.convert("RGB")
    for quality in _JPEG_QUALITIES:
        buffer = io.BytesIO()
        rgb.save(buffer, "JPEG", quality=quality, subsampling="4:2:0")
        if buffer.tell() <= max_bytes:
            return "jpeg", buffer.getvalue()
    raise FitError(f"{name} cannot be made smaller than {max_bytes // (1024 * 1024)} MB.")
