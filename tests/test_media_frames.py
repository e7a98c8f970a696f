"""media.frames on real files made in tmp_path; every output is decoded back and checked."""

from __future__ import annotations

import os
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from media_factory import make_audio, make_image, make_video, tone, truncate_file
from PIL import Image

from seedance_desktop.media.frames import (
    MediaError,
    audio_waveform,
    image_thumbnail,
    last_frame,
    poster_frame,
)

BLUE = (40, 120, 200)
RED = (230, 20, 20)
GREEN = (20, 200, 40)


def opened(path: Path) -> Image.Image:
    with Image.open(path) as image:
        image.load()
        return image


def near(pixel: tuple[int, ...], colour: tuple[int, int, int], tolerance: int = 24) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ---- poster frames --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "max_side", "expected"),
    [
        ((640, 480), 480, (480, 360)),
        ((480, 640), 480, (360, 480)),
        ((640, 480), 160, (160, 120)),
        ((320, 240), 480, (320, 240)),  # never enlarged
    ],
)
@pytest.mark.parametrize(("suffix", "fmt"), [(".jpg", "JPEG"), (".png", "PNG")])
def test_poster_frame_size_and_format(
    tmp_path: Path,
    size: tuple[int, int],
    max_side: int,
    expected: tuple[int, int],
    suffix: str,
    fmt: str,
) -> None:
    video = make_video(tmp_path / "clip.mp4", *size, seconds=1.0, color=BLUE)
    out = poster_frame(video, tmp_path / "thumbs" / f"poster{suffix}", max_side=max_side)
    assert out == tmp_path / "thumbs" / f"poster{suffix}"
    image = opened(out)
    assert (image.format, image.size) == (fmt, expected)
    assert near(image.convert("RGB").getpixel((expected[0] // 2, expected[1] - 4)), BLUE)
    assert leftovers(out.parent) == []


@pytest.mark.parametrize(
    ("at_s", "colour"),
    [(None, BLUE), (0.0, BLUE), (1.5, BLUE), (2.8, BLUE), (3.1, RED), (3.9, RED), (60.0, RED)],
)
def test_poster_frame_time(tmp_path: Path, at_s: float | None, colour: tuple) -> None:
    # Blue for three seconds, then red for the last one.
    video = make_video(tmp_path / "clip.mp4", 320, 240, 4.0, color=BLUE, last_color=RED)
    image = opened(poster_frame(video, tmp_path / "p.png", at_s=at_s)).convert("RGB")
    assert near(image.getpixel((160, 200)), colour)


def test_poster_frame_of_a_turned_video_is_upright(tmp_path: Path) -> None:
    video = make_video(tmp_path / "phone.mp4", 64, 32, 1.0, color=BLUE, left_color=RED, rotation=90)
    image = opened(poster_frame(video, tmp_path / "p.png")).convert("RGB")
    # Stored 64×32 with a red left half; turned a quarter counter-clockwise the left goes down.
    assert image.size == (32, 64)
    assert near(image.getpixel((16, 58)), RED) and near(image.getpixel((16, 10)), BLUE)


# ---- the last frame -------------------------------------------------------------------------


def bar_end(width: int, frames: int, index: int) -> int:
    """Where media_factory's white bar ends in frame `index`."""
    return (index * width) // frames


@pytest.mark.parametrize(
    ("seconds", "container", "gop"),
    [
        (1.0, "mp4", None),  # short: decoded from the start
        (2.5, "mp4", 4),
        (6.0, "mp4", None),  # long, one keyframe: the seek lands on the first frame
        (6.0, "mp4", 8),  # long: decoded from a keyframe shortly before the end
        (6.0, "mov", 5),
        (0.125, "mp4", None),  # one frame
    ],
)
@pytest.mark.parametrize("faststart", [False, True])
def test_last_frame_is_really_the_last(
    tmp_path: Path, seconds: float, container: str, gop: int | None, faststart: bool
) -> None:
    fps = 8
    width, height = 640, 480
    frames = round(seconds * fps)
    video = make_video(
        tmp_path / f"clip.{container}",
        width,
        height,
        seconds,
        fps,
        container=container,
        color=BLUE,
        last_color=RED,
        faststart=faststart,
        with_audio=False,
        keyframe_every=gop,
    )
    out = last_frame(video, tmp_path / "frames" / "last.png")
    image = opened(out)
    assert (image.format, image.size) == ("PNG", (width, height))  # full size
    rgb = image.convert("RGB")
    assert near(rgb.getpixel((width // 2, height - 10)), RED)
    # The white bar grows frame by frame: only the very last frame reaches this far.
    if frames > 1:
        between = (bar_end(width, frames, frames - 2) + bar_end(width, frames, frames - 1)) // 2
        assert near(rgb.getpixel((between, 5)), (255, 255, 255), 40)
        assert not near(rgb.getpixel((bar_end(width, frames, frames - 1) + 8, 5)), (255,) * 3)


def test_last_frame_of_a_video_with_sound(tmp_path: Path) -> None:
    video = make_video(
        tmp_path / "clip.mp4", 640, 480, 5.0, 8, color=BLUE, last_color=GREEN, keyframe_every=6
    )
    rgb = opened(last_frame(video, tmp_path / "last.png")).convert("RGB")
    assert near(rgb.getpixel((320, 400)), GREEN)
    assert near(rgb.getpixel((bar_end(640, 40, 39) - 8, 5)), (255, 255, 255), 40)


def test_last_frame_of_a_turned_video_is_upright(tmp_path: Path) -> None:
    video = make_video(
        tmp_path / "phone.mp4", 64, 32, 1.0, color=BLUE, left_color=RED, rotation=-90
    )
    image = opened(last_frame(video, tmp_path / "last.png")).convert("RGB")
    # Turned a quarter clockwise, the red left half ends up on top.
    assert image.size == (32, 64)
    assert near(image.getpixel((16, 10)), RED) and near(image.getpixel((16, 58)), BLUE)


def test_last_frame_of_a_file_cut_short_is_the_last_decodable_one(tmp_path: Path) -> None:
    video = make_video(tmp_path / "cut.mp4", 320, 240, 4.0, 8, faststart=True, color=BLUE)
    truncate_file(video, 0.6)
    image = opened(last_frame(video, tmp_path / "last.png"))
    assert image.size == (320, 240)
    assert near(image.convert("RGB").getpixel((160, 200)), BLUE)


def test_an_existing_output_is_replaced(tmp_path: Path) -> None:
    out = tmp_path / "last.png"
    out.write_bytes(b"old")
    video = make_video(tmp_path / "clip.mp4", 160, 120, 0.5, color=RED)
    assert last_frame(video, out) == out
    assert opened(out).size == (160, 120)
    assert leftovers(tmp_path) == []


# ---- bad input ------------------------------------------------------------------------------


def _missing(folder: Path) -> Path:
    return folder / "gone.mp4"


def _folder(folder: Path) -> Path:
    (folder / "album").mkdir()
    return folder / "album"


def _text(folder: Path) -> Path:
    (folder / "notes.mp4").write_text("not a video\n" * 50)
    return folder / "notes.mp4"


def _picture(folder: Path) -> Path:
    return make_image(folder / "still.mp4", 64, 48)


def _header_only(folder: Path) -> Path:
    return truncate_file(make_video(folder / "stub.mp4", 160, 120, 0.5), 0.01)


def _sound_only(folder: Path) -> Path:
    return make_audio(folder / "song.mp4", 0.5)


VIDEO_FUNCTIONS: list[Callable[[Path, Path], Path]] = [poster_frame, last_frame]


@pytest.mark.parametrize("function", VIDEO_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (_missing, "gone.mp4 was not found"),
        (_folder, "album is a folder"),
        (_text, "notes.mp4 is not a video"),
        (_picture, "still.mp4 is a picture, not a video"),
        (_header_only, "stub.mp4 is not a video"),
        (_sound_only, "song.mp4 has no pictures"),
    ],
)
def test_video_functions_refuse_bad_input(
    tmp_path: Path,
    function: Callable[[Path, Path], Path],
    make: Callable[[Path], Path],
    expected: str,
) -> None:
    out = tmp_path / "out" / "frame.png"
    out.parent.mkdir()
    out.write_bytes(b"previous")
    with pytest.raises(MediaError) as caught:
        function(make(tmp_path), out)
    assert str(caught.value).startswith(expected)
    assert out.read_bytes() == b"previous"  # untouched
    assert leftovers(out.parent) == []


# ---- image thumbnails -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp", "gif", "avif"])
def test_image_thumbnail_of_each_format(tmp_path: Path, fmt: str) -> None:
    source = make_image(tmp_path / f"big.{fmt}", 1600, 900, fmt, color=(200, 80, 40))
    image = opened(image_thumbnail(source, tmp_path / "thumb.jpg", max_side=320))
    assert (image.format, image.size) == ("JPEG", (320, 180))
    assert near(image.getpixel((300, 90)), (200, 80, 40), 30)  # the gradient's bright end


def test_image_thumbnail_honours_exif_orientation(tmp_path: Path) -> None:
    source = make_image(tmp_path / "phone.jpg", 640, 480, "jpeg", exif_orientation=6)
    image = opened(image_thumbnail(source, tmp_path / "thumb.png", max_side=200))
    assert image.size == (150, 200)


def test_image_thumbnail_keeps_transparency_in_png_and_flattens_it_in_jpeg(
    tmp_path: Path,
) -> None:
    source = tmp_path / "logo.png"
    pixels = np.zeros((100, 200, 4), np.uint8)
    pixels[:, :100] = (255, 0, 0, 255)  # left half opaque red, right half transparent
    Image.fromarray(pixels, "RGBA").save(source)
    png = opened(image_thumbnail(source, tmp_path / "t.png", max_side=100))
    assert png.mode == "RGBA" and png.getpixel((80, 25))[3] == 0
    jpeg = opened(image_thumbnail(source, tmp_path / "t.jpg", max_side=100)).convert("RGB")
    assert near(jpeg.getpixel((80, 25)), (255, 255, 255)) and near(jpeg.getpixel((20, 25)), RED)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (_missing, "gone.mp4 was not found"),
        (_folder, "album is a folder"),
        (_text, "notes.mp4 could not be read as a picture"),
        (lambda f: truncate_file(make_image(f / "cut.png", 800, 600), 0.5), "cut.png could"),
    ],
)
def test_image_thumbnail_refuses_bad_input(
    tmp_path: Path, make: Callable[[Path], Path], expected: str
) -> None:
    with pytest.raises(MediaError) as caught:
        image_thumbnail(make(tmp_path), tmp_path / "thumb.png")
    assert str(caught.value).startswith(expected)
    assert not (tmp_path / "thumb.png").exists()
    assert leftovers(tmp_path) == []


# ---- waveforms ------------------------------------------------------------------------------


def wave_columns(image: Image.Image) -> np.ndarray:
    """How many lit pixels each column of a waveform picture has."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.int16)
    lit = np.abs(rgb - np.array([120, 190, 255])).sum(axis=2) < 60
    return lit.sum(axis=0)


@pytest.mark.parametrize("fmt", ["wav", "mp3"])
@pytest.mark.parametrize(("width", "height"), [(480, 96), (160, 64), (7, 20)])
def test_waveform_of_a_steady_tone(tmp_path: Path, fmt: str, width: int, height: int) -> None:
    sound = make_audio(tmp_path / f"tone.{fmt}", 2.0, fmt)
    image = opened(audio_waveform(sound, tmp_path / "wave.png", width=width, height=height))
    assert (image.format, image.size) == ("PNG", (width, height))
    columns = wave_columns(image)
    edge = max(1, width // 50)  # the encoder's fade in and out at both ends
    assert (columns[edge:-edge] >= height - 4).all()  # a steady tone fills every column


def test_waveform_shows_where_the_sound_is(tmp_path: Path) -> None:
    path = tmp_path / "half.wav"
    loud = (tone(1.0, 16000) * 3 * 32767).clip(-32767, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:  # written by another tool than our own factory
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(loud.tobytes() + np.zeros(16000, "<i2").tobytes())
    columns = wave_columns(opened(audio_waveform(path, tmp_path / "w.png", width=100, height=50)))
    assert (columns[5:45] >= 45).all()
    assert (columns[55:] <= 2).all()


def test_waveform_of_a_video_uses_its_sound(tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", 160, 120, 1.0)
    image = opened(audio_waveform(video, tmp_path / "w.png", width=50, height=30))
    assert (wave_columns(image)[3:-3] >= 26).all()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (_missing, "gone.mp4 was not found"),
        (_folder, "album is a folder"),
        (_text, "notes.mp4 could not be read as sound"),
        (_picture, "still.mp4 has no sound"),
        (lambda f: make_video(f / "silent.mp4", 160, 120, 0.5, with_audio=False), "silent.mp4"),
    ],
)
def test_waveform_refuses_bad_input(
    tmp_path: Path, make: Callable[[Path], Path], expected: str
) -> None:
    with pytest.raises(MediaError) as caught:
        audio_waveform(make(tmp_path), tmp_path / "wave.png")
    assert str(caught.value).startswith(expected)
    assert leftovers(tmp_path) == []


# ---- names ----------------------------------------------------------------------------------


def test_file_names_that_are_not_utf8(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path)
    video = Path(os.fsdecode(folder + b"/clip-\xff.mp4"))
    make_video(video, 160, 120, 0.5, color=RED)
    out = Path(os.fsdecode(folder + b"/thumb-\xfe.jpg"))
    assert opened(poster_frame(video, out)).size == (160, 120)
    assert opened(last_frame(video, tmp_path / "last.png")).size == (160, 120)
    assert opened(audio_waveform(video, tmp_path / "w.png")).size == (480, 96)
    assert opened(image_thumbnail(out, tmp_path / "t.png")).size == (160, 120)
    with pytest.raises(MediaError) as caught:
        last_frame(Path(os.fsdecode(folder + b"/gone-\xff.mp4")), tmp_path / "x.png")
    str(caught.value).encode("utf-8")  # printable
