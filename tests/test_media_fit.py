"""media.fit on real camera and phone files made in the test: fitted files pass validation,
the originals stay byte-identical, the same fit is made once, and every failure leaves nothing
behind."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
from pathlib import Path

import av
import numpy as np
import pytest
from fit_media import make_heic, make_sound, make_special_video
from media_factory import make_audio, make_image, make_video

from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.domain.fit import FitSettings, TimeRange
from seedance_desktop.domain.media_info import MediaInfo, MediaKind
from seedance_desktop.domain.plan import plan_shot
from seedance_desktop.domain.shot import Shot
from seedance_desktop.media.fit import FitCancelled, FitError, Fitted, fit_file
from seedance_desktop.media.probe import probe


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def errors_for(shot: Shot) -> list[str]:
    media = {ref: probe(ref) for _, ref in shot.references()}
    return [p.message for p in plan_shot(shot, media).errors]


def reference_shot(**refs: tuple[str, ...]) -> Shot:
    return Shot(Mode.REFERENCE_TO_VIDEO, prompt="[Image1] dances", **refs)  # type: ignore[arg-type]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture(scope="module")
def phone_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1920×1080, 30 s, with sound (4 fps keeps making it quick)."""
    folder = tmp_path_factory.mktemp("phone")
    return make_video(folder / "phone.mp4", 1920, 1080, seconds=30, fps=4, keyframe_every=8)


def test_a_1080p_30_second_clip_is_fitted_and_then_passes_validation(
    phone_clip: Path, tmp_path: Path
) -> None:
    before = digest(phone_clip)
    image = str(make_image(tmp_path / "face.png"))
    assert errors_for(reference_shot(images=(image,), videos=(str(phone_clip),)))  # refused first
    fitted = fit_file(phone_clip, tmp_path / "fitted", kind=MediaKind.VIDEO)
    assert fitted.made
    assert (fitted.info.width, fitted.info.height) == (1280, 720)
    assert fitted.info.duration_s == pytest.approx(15.0, abs=0.05)
    assert fitted.info.video_codec == "h264" and fitted.info.audio_codec == "aac"
    assert errors_for(reference_shot(images=(image,), videos=(str(fitted.path),))) == []
    assert digest(phone_clip) == before
    assert "1920×1080" in fitted.summary() and "1280×720, 0–15 s" in fitted.summary()


def test_a_range_is_taken_from_the_middle(phone_clip: Path, tmp_path: Path) -> None:
    settings = FitSettings(TimeRange(20.0, 26.0))
    fitted = fit_file(phone_clip, tmp_path, settings)
    assert fitted.info.duration_s == pytest.approx(6.0, abs=0.05)
    # The bar at the top grows with time: at 20 s of 30 it covers two thirds of the width.
    with av.open(str(fitted.path)) as container:
        first = next(container.decode(video=0)).to_ndarray(format="rgb24")
        stream = container.streams.audio[0]
        assert stream.duration is not None and stream.time_base is not None
        sound_s = float(stream.duration * stream.time_base)
        sound = [f.to_ndarray() for f in container.decode(audio=0)]
    bar = (first[10, :, :].min(axis=1) > 200).mean()
    assert bar == pytest.approx(20 / 30, abs=0.05)
    assert sound_s == 6.0  # the sound is cut to the range to the sample
    samples = np.concatenate(sound, axis=1)
    assert np.abs(samples[:, 48000:-48000]).max() > 0.2  # and it is the tone, not silence


def test_the_same_source_and_settings_make_no_new_file(phone_clip: Path, tmp_path: Path) -> None:
    settings = FitSettings(TimeRange(0.0, 4.0))
    first = fit_file(phone_clip, tmp_path, settings)
    stamp = first.path.stat().st_mtime_ns
    again = fit_file(phone_clip, tmp_path, settings)
    assert not again.made and again.path == first.path
    assert first.path.stat().st_mtime_ns == stamp
    assert leftovers(tmp_path) == [first.path.name]
    other = fit_file(phone_clip, tmp_path, FitSettings(TimeRange(0.0, 5.0)))
    assert other.made and other.path != first.path


def test_a_portrait_clip_stored_landscape_with_a_rotation_comes_out_upright(
    tmp_path: Path,
) -> None:
    # Stored 1920×1080 with its left half red and a quarter-turn flag: shown 1080×1920, the red
    # half on top.
    source = make_video(tmp_path / "portrait.mp4", 1920, 1080, seconds=3, fps=8,
                        rotation=-90, left_color=(255, 0, 0))  # fmt: skip
    shown = probe(source)
    assert isinstance(shown, MediaInfo) and (shown.width, shown.height) == (1080, 1920)
    before = digest(source)
    fitted = fit_file(source, tmp_path / "out")
    assert (fitted.info.width, fitted.info.height) == (720, 1280)
    with av.open(str(fitted.path)) as container:
        frame = next(container.decode(video=0))
        assert not frame.rotation
        rgb = frame.to_ndarray(format="rgb24")
    assert rgb[320, 360, 0] > 200 and rgb[320, 360, 2] < 60  # top half red
    assert rgb[960, 360, 2] > 150  # bottom half blue
    assert digest(source) == before
    image = str(make_image(tmp_path / "face.png"))
    assert errors_for(reference_shot(images=(image,), videos=(str(fitted.path),))) == []


def test_a_heic_photo_becomes_a_jpeg_that_passes_validation(tmp_path: Path) -> None:
    source = make_heic(tmp_path / "IMG_0042.HEIC")
    before = digest(source)
    assert errors_for(reference_shot(images=(str(source),)))  # HEIC is refused as it is
    fitted = fit_file(source, tmp_path / "out", kind=MediaKind.IMAGE)
    assert fitted.info.format == "jpeg" and (fitted.info.width, fitted.info.height) == (1200, 900)
    assert fitted.path.name.startswith("IMG_0042-fit-") and fitted.path.suffix == ".jpg"
    assert errors_for(reference_shot(images=(str(fitted.path),))) == []
    assert digest(source) == before


def test_exif_rotation_is_applied_and_huge_pictures_shrink(tmp_path: Path) -> None:
    turned = make_image(tmp_path / "turned.jpg", 800, 600, "jpeg", exif_orientation=6)
    fitted = fit_file(turned, tmp_path / "out", FitSettings(image_format="jpeg"))
    assert (fitted.info.width, fitted.info.height) == (600, 800)
    big = tmp_path / "scan.tif"
    from PIL import Image

    Image.new("RGB", (8000, 4000), (10, 90, 200)).save(big, "TIFF")
    shrunk = fit_file(big, tmp_path / "out")
    assert (shrunk.info.width, shrunk.info.height) == (6000, 3000)
    assert shrunk.info.format == "jpeg"


def test_a_40_second_mp3_and_an_m4a_become_sound_fal_takes(tmp_path: Path) -> None:
    mp3 = make_audio(tmp_path / "song.mp3", seconds=40, fmt="mp3")
    m4a = make_sound(tmp_path / "memo.m4a", 6, fmt="ipod", codec="aac", rate=44100)
    hashes = {mp3: digest(mp3), m4a: digest(m4a)}
    image = str(make_image(tmp_path / "face.png"))
    assert errors_for(reference_shot(images=(image,), audios=(str(mp3),)))
    song = fit_file(mp3, tmp_path / "out", kind=MediaKind.AUDIO)
    assert song.info.format == "wav" and song.info.duration_s == pytest.approx(15.0, abs=0.01)
    budget_left = FitSettings(audio_format="mp3")
    memo = fit_file(m4a, tmp_path / "out", budget_left)
    assert memo.info.format == "mp3"
    shot = reference_shot(images=(image,), audios=(str(song.path),))
    assert errors_for(shot) == []
    assert all(digest(path) == value for path, value in hashes.items())


@pytest.mark.parametrize(
    ("name", "codec", "fmt", "rate", "channels"),
    [
        ("odd.wav", "pcm_s16le", "wav", 11025, 1),
        ("voice.flac", "flac", "flac", 22050, 1),
        ("talk.ogg", "libopus", "ogg", 48000, 2),
        ("surround.wav", "pcm_s16le", "wav", 37800, 6),
    ],
)
def test_odd_sample_rates_and_layouts_become_48khz_stereo(
    tmp_path: Path, name: str, codec: str, fmt: str, rate: int, channels: int
) -> None:
    source = make_sound(tmp_path / name, 3, fmt=fmt, codec=codec, rate=rate, channels=channels)
    fitted = fit_file(source, tmp_path / "out")
    with av.open(str(fitted.path)) as container:
        stream = container.streams.audio[0]
        assert (stream.rate, stream.codec_context.layout.nb_channels) == (48000, 2)
        frames = list(container.decode(stream))
    seconds = fitted.plan.seconds  # the source's own length (Opus counts a few ms more)
    assert seconds == pytest.approx(3.0, abs=0.01)
    assert sum(f.samples for f in frames) == round(seconds * 48000)
    samples = np.concatenate([f.to_ndarray() for f in frames], axis=1)
    assert np.abs(samples).max() > 3000  # the tone survived (16-bit samples)


def test_ten_bit_hevc_becomes_eight_bit_h264(tmp_path: Path) -> None:
    source = make_special_video(tmp_path / "hdr.mp4", 1920, 1080, 2.5,
                                codec="libx265", pix_fmt="yuv420p10le")  # fmt: skip
    fitted = fit_file(source, tmp_path / "out")
    with av.open(str(fitted.path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.codec_context.pix_fmt) == ("h264", "yuv420p")
    assert (fitted.info.width, fitted.info.height) == (1280, 720)


def test_a_variable_frame_rate_clip_keeps_its_timing(tmp_path: Path) -> None:
    times = [0, 0.02, 0.07, 0.09, 0.2, 0.5, 0.52, 1.0, 1.5, 1.6, 2.2, 2.9]
    source = make_special_video(tmp_path / "vfr.mp4", 1920, 1080, 3, frame_times=times)
    fitted = fit_file(source, tmp_path / "out")
    assert fitted.info.duration_s == pytest.approx(3.0, abs=0.05)
    with av.open(str(fitted.path)) as container:
        shades = [int(f.to_ndarray(format="gray")[0, 0]) for f in container.decode(video=0)]
    fps = fitted.plan.fps
    assert fps is not None and len(shades) == 3 * fps
    # The source frame shown at 1.2 s is the one stamped 1.0 s (index 7): its shade, ±codec.
    expected = (30 + 7 * 7) % 255
    assert abs(shades[round(1.2 * fps)] - expected) < 12


def test_a_clip_under_two_seconds_says_it_cannot_be_fitted_up(tmp_path: Path) -> None:
    source = make_video(tmp_path / "blink.mp4", 1920, 1080, seconds=1.5, fps=8)
    with pytest.raises(FitError, match="not lengthen"):
        fit_file(source, tmp_path / "out")
    assert leftovers(tmp_path / "out") == []


def test_a_file_without_pictures_cannot_be_a_reference_video(tmp_path: Path) -> None:
    sound = make_sound(tmp_path / "memo.mp4", 3, fmt="mp4", codec="aac", rate=44100)
    with pytest.raises(FitError, match="holds no video picture"):
        fit_file(sound, tmp_path / "out", kind=MediaKind.VIDEO)
    not_media = tmp_path / "notes.mp4"
    not_media.write_text("hello")
    with pytest.raises(FitError, match="text file"):
        fit_file(not_media, tmp_path / "out", kind=MediaKind.VIDEO)


def test_cancel_leaves_nothing_behind(phone_clip: Path, tmp_path: Path) -> None:
    cancel = threading.Event()
    seen: list[float] = []

    def progress(done: float) -> None:
        seen.append(done)
        if done > 0.2:
            cancel.set()

    with pytest.raises(FitCancelled):
        fit_file(phone_clip, tmp_path / "out", progress=progress, cancel=cancel)
    assert seen and max(seen) < 1.0
    assert leftovers(tmp_path / "out") == []


def test_a_file_that_changes_while_being_fitted_is_not_kept(tmp_path: Path) -> None:
    source = make_video(tmp_path / "copying.mp4", 1280, 720, seconds=20, fps=8)

    def still_copying(done: float) -> None:
        if 0.3 < done < 0.5:
            with source.open("ab") as more:
                more.write(b"\0" * 1000)

    with pytest.raises(FitError, match="changed while it was being fitted"):
        fit_file(source, tmp_path / "out", progress=still_copying)
    assert leftovers(tmp_path / "out") == []


FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from seedance_desktop.media.fit import FitError, fit_file
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))  # files may not grow past 20 kB
try:
    fit_file(Path(sys.argv[1]), Path(sys.argv[2]))
except FitError as exc:
    print(exc.message)
"""


@pytest.mark.parametrize("kind", ["video", "audio", "image"])
def test_a_full_disk_gives_a_clear_message_and_leaves_nothing(tmp_path: Path, kind: str) -> None:
    if kind == "video":
        source = make_video(tmp_path / "clip.mp4", 1920, 1080, seconds=3, fps=8)
    elif kind == "audio":
        source = make_audio(tmp_path / "song.mp3", seconds=5, fmt="mp3")
    else:
        source = make_heic(tmp_path / "photo.heic", 2000, 1500)
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(source), str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "not enough free space" in done.stdout
    assert "Traceback" not in done.stderr
    assert leftovers(out) == []


def test_fitted_returns_a_record_for_the_shot(phone_clip: Path, tmp_path: Path) -> None:
    settings = FitSettings(TimeRange(3.0, 9.0))
    fitted: Fitted = fit_file(phone_clip, tmp_path, settings)
    record = fitted.record(settings)
    assert record.source == str(phone_clip) and record.fitted == str(fitted.path)
    assert record.settings.time_range == TimeRange(3.0, 9.0)
    assert "→ 1280×720, 3–9 s" in record.summary


def test_gif_bmp_and_webp_become_what_reference_to_video_takes(tmp_path: Path) -> None:
    image = str(make_image(tmp_path / "face.png"))
    for name, fmt in (("loop.gif", "GIF"), ("scan.bmp", "BMP")):
        source = tmp_path / name
        from PIL import Image

        Image.new("RGB", (900, 700), (200, 40, 90)).save(source, fmt)
        assert errors_for(reference_shot(images=(image, str(source))))
        fitted = fit_file(source, tmp_path / "out", kind=MediaKind.IMAGE)
        assert fitted.info.format in ("png", "jpeg")
        assert errors_for(reference_shot(images=(image, str(fitted.path)))) == []
