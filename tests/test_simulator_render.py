"""The simulator's animatic renderer and the MP4 writer, checked by decoding real files."""

from __future__ import annotations

import gc
import struct
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from seedance_desktop.domain.endpoints import OUTPUT_SIZES
from seedance_desktop.media.encode import AUDIO_RATE, Mp4Writer, read_audio
from seedance_desktop.simulator.render import RenderSpec, render

pytestmark = pytest.mark.timeout(60)

PROMPT = "A red kite over a windy beach at dawn, slow pan left, [Image1] flying it."
RED, GREEN, BLUE = (220, 30, 30), (30, 200, 40), (30, 40, 220)


# Inputs -----------------------------------------------------------------------------------------


def make_image(
    path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (320, 200)
) -> Path:
    Image.new("RGB", size, colour).save(path)
    return path


def make_video(path: Path, colour: tuple[int, int, int], seconds: float = 1.0) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        picture = np.full((240, 320, 3), colour, np.uint8)
        for index in range(round(seconds * 24)):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def make_wav(path: Path, seconds: float, frequency: float, amplitude: float) -> Path:
    rate = 44_100
    t = np.arange(round(seconds * rate)) / rate
    samples = (amplitude * 32767 * np.sin(2 * np.pi * frequency * t)).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


# Reading the output -----------------------------------------------------------------------------


def info(path: Path) -> dict[str, object]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        result: dict[str, object] = {
            "width": video.codec_context.width,
            "height": video.codec_context.height,
            "codec": video.codec_context.name,
            "pix_fmt": video.codec_context.pix_fmt,
            "rate": video.average_rate,
            "video_s": video.duration * video.time_base,
            "container_us": container.duration,
            "frames": sum(1 for _ in container.decode(video=0)),
            "audio": audio.codec_context.name if audio else None,
        }
        if audio is not None:
            result["audio_s"] = audio.duration * audio.time_base
            result["audio_rate"] = audio.sample_rate
    return result


def frames_at(path: Path, indices: list[int]) -> dict[int, np.ndarray]:
    wanted, found = set(indices), {}
    with av.open(str(path)) as container:
        for number, frame in enumerate(container.decode(video=0)):
            if number in wanted:
                found[number] = frame.to_ndarray(format="rgb24")
    return found


def all_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def centre(frame: np.ndarray) -> np.ndarray:
    """The mean colour of the frame's middle, clear of the label, the prompt band and the strip."""
    h, w = frame.shape[:2]
    return frame[int(h * 0.3) : int(h * 0.55), int(w * 0.3) : int(w * 0.7)].reshape(-1, 3).mean(0)


def close_to(colour: np.ndarray, expected: tuple[int, int, int], tolerance: float = 25) -> bool:
    return bool(np.abs(colour - np.array(expected)).max() < tolerance)


def mono_audio(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        chunks = [f.to_ndarray().mean(axis=0) for f in container.decode(audio=0)]
    return np.concatenate(chunks)


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def top_level_boxes(path: Path) -> list[str]:
    names, data, offset = [], path.read_bytes(), 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        names.append(kind.decode("latin-1"))
        offset += size
    return names


def spec(**overrides: object) -> RenderSpec:
    values: dict[str, object] = {
        "width": 864,
        "height": 496,
        "duration_s": 4,
        "prompt": PROMPT,
        "seed": 42,
    }
    values.update(overrides)
    return RenderSpec(**values)  # type: ignore[arg-type]


# The animatic -----------------------------------------------------------------------------------


def test_text_to_video_is_a_real_h264_aac_mp4_of_exact_length(tmp_path: Path) -> None:
    out = render(spec(), tmp_path / "out" / "clip.mp4")

    assert out == tmp_path / "out" / "clip.mp4"
    got = info(out)
    assert (got["width"], got["height"]) == (864, 496)
    assert (got["codec"], got["pix_fmt"], got["audio"]) == ("h264", "yuv420p", "aac")
    assert got["rate"] == 24
    assert got["frames"] == 96
    assert got["video_s"] == 4
    assert got["audio_s"] == 4  # the last AAC frame is trimmed: not 4.0107 s
    assert got["container_us"] == 4_000_000
    assert got["audio_rate"] == AUDIO_RATE
    boxes = top_level_boxes(out)
    assert boxes.index("moov") < boxes.index("mdat")  # faststart
    assert [p.name for p in out.parent.iterdir()] == ["clip.mp4"]  # no temp file left behind


def test_text_to_video_moves_and_shows_text_and_seed_colours(tmp_path: Path) -> None:
    out = render(spec(), tmp_path / "a.mp4")
    frames = frames_at(out, [0, 48, 95])
    first, middle = frames[0].astype(int), frames[48].astype(int)
    h = first.shape[0]
    # The background pans: the top part of the picture changes over the clip.
    assert np.abs(first[h // 8 : h // 2] - middle[h // 8 : h // 2]).mean() > 8
    # The prompt band holds bright (text) pixels over a dark band.
    band = first[int(h * 0.7) : int(h * 0.9)]
    assert (band.min(axis=2) > 200).sum() > 500
    # Another prompt changes the band, not the picture above it.
    other = frames_at(render(spec(prompt="Else", duration_s=1), tmp_path / "b.mp4"), [0])[0]
    assert np.abs(other[int(h * 0.7) : int(h * 0.9)].astype(int) - band).mean() > 5
    assert np.abs(other[h // 4 : h // 2].astype(int) - first[h // 4 : h // 2]).mean() < 3
    # Another seed, other colours.
    reseeded = frames_at(render(spec(seed=7, duration_s=1), tmp_path / "c.mp4"), [0])[0]
    assert np.abs(centre(reseeded) - centre(frames[0])).max() > 20


@pytest.mark.parametrize("ratio", ["21:9", "9:16", "1:1", "4:3", "3:4"])
def test_every_480p_aspect_ratio_has_its_exact_size(tmp_path: Path, ratio: str) -> None:
    width, height = OUTPUT_SIZES["480p"][ratio]
    got = info(render(spec(width=width, height=height, duration_s=1), tmp_path / "o.mp4"))
    assert (got["width"], got["height"], got["frames"], got["video_s"]) == (width, height, 24, 1)


def test_720p_21_9_has_its_exact_size_and_length(tmp_path: Path) -> None:
    width, height = OUTPUT_SIZES["720p"]["21:9"]  # 1470×630: not a multiple of 16
    got = info(render(spec(width=width, height=height), tmp_path / "o.mp4"))
    assert (got["width"], got["height"], got["frames"]) == (1470, 630, 96)
    assert got["video_s"] == got["audio_s"] == 4


def test_fractional_duration_rounds_to_whole_frames(tmp_path: Path) -> None:
    got = info(render(spec(duration_s=1.51, generate_audio=False), tmp_path / "o.mp4"))
    assert got["frames"] == 36
    assert got["video_s"] == Fraction(36, 24)


def test_no_audio_stream_when_generate_audio_is_off(tmp_path: Path) -> None:
    got = info(render(spec(generate_audio=False), tmp_path / "o.mp4"))
    assert got["audio"] is None
    assert got["frames"] == 96


def test_generated_sound_is_a_tone_with_an_envelope_not_noise(tmp_path: Path) -> None:
    sound = mono_audio(render(spec(), tmp_path / "o.mp4"))[: 4 * AUDIO_RATE]
    middle = sound[AUDIO_RATE : 3 * AUDIO_RATE]
    assert 0.02 < rms(middle) < 0.5
    assert rms(sound[:480]) < rms(middle) / 3  # fades in
    assert rms(sound[-2400:]) < rms(middle) / 3  # and out
    spectrum = np.abs(np.fft.rfft(middle)) ** 2
    strongest = np.sort(spectrum)[::-1]
    assert strongest[:40].sum() > 0.8 * spectrum.sum()  # a few pure partials, not noise


def test_reference_audio_is_the_soundtrack_padded_with_silence(tmp_path: Path) -> None:
    tone = make_wav(tmp_path / "tone.wav", 1.5, 440.0, 0.6)
    quiet = make_wav(tmp_path / "quiet.wav", 1.0, 440.0, 0.0)
    out = render(
        spec(
            reference_images=(make_image(tmp_path / "r.png", RED),), reference_audio=(tone, quiet)
        ),
        tmp_path / "o.mp4",
    )
    got = info(out)
    assert got["audio"] == "aac" and got["audio_s"] == 4
    sound = mono_audio(out)
    loud, after = (
        sound[int(0.2 * AUDIO_RATE) : int(1.3 * AUDIO_RATE)],
        sound[int(1.7 * AUDIO_RATE) :],
    )
    assert rms(loud) > 0.3
    assert rms(after) < 0.01  # the silent second file, then padding
    peak = np.argmax(np.abs(np.fft.rfft(loud))) * AUDIO_RATE / len(loud)
    assert abs(peak - 440.0) < 3


def test_long_reference_audio_is_cut_to_the_clip(tmp_path: Path) -> None:
    tone = make_wav(tmp_path / "tone.wav", 6.0, 330.0, 0.5)
    out = render(
        spec(duration_s=2, reference_images=(make_image(tmp_path / "r.png", RED),),
             reference_audio=(tone,)),
        tmp_path / "o.mp4",
    )  # fmt: skip
    got = info(out)
    assert got["audio_s"] == got["video_s"] == 2
    assert rms(mono_audio(out)[AUDIO_RATE // 2 : 3 * AUDIO_RATE // 2]) > 0.25


def test_image_to_video_goes_from_the_start_frame_to_the_end_frame(tmp_path: Path) -> None:
    start = make_image(tmp_path / "start.png", RED, (1200, 700))
    end = make_image(tmp_path / "end.jpg", BLUE, (600, 900))  # another shape: cover-fitted
    out = render(spec(start_image=start, end_image=end), tmp_path / "o.mp4")
    frames = frames_at(out, [0, 48, 95])
    assert close_to(centre(frames[0]), RED)
    assert close_to(centre(frames[95]), BLUE)
    middle = centre(frames[48])
    assert not close_to(middle, RED) and not close_to(middle, BLUE)  # cross-fading


def test_start_frame_alone_gets_a_push_in(tmp_path: Path) -> None:
    checker = (np.indices((400, 640)).sum(axis=0) // 40 % 2 * 255).astype(np.uint8)
    Image.fromarray(checker).save(tmp_path / "start.png")
    out = render(spec(start_image=tmp_path / "start.png"), tmp_path / "o.mp4")
    frames = frames_at(out, [0, 95])
    h, w = frames[0].shape[:2]
    region = (slice(h // 4, h // 2), slice(w // 4, 3 * w // 4))
    assert np.abs(frames[0][region].astype(int) - frames[95][region]).mean() > 20


def test_reference_images_and_video_frames_are_shown(tmp_path: Path) -> None:
    out = render(
        spec(
            reference_images=(make_image(tmp_path / "r.png", RED),
                              make_image(tmp_path / "g.png", GREEN)),
            reference_videos=(make_video(tmp_path / "b.mp4", BLUE),),
        ),
        tmp_path / "o.mp4",
    )  # fmt: skip
    colours = [centre(frame) for frame in all_frames(out)]
    for expected in (RED, GREEN, BLUE):
        assert any(close_to(colour, expected) for colour in colours), expected
    assert close_to(colours[0], RED) and close_to(colours[-1], BLUE)  # in the order given


def test_unreadable_references_become_placeholders_not_crashes(tmp_path: Path) -> None:
    bad_image = tmp_path / "broken.png"
    bad_image.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    bad_video = tmp_path / "broken.mp4"
    bad_video.write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")
    bad_audio = tmp_path / "broken.mp3"
    bad_audio.write_bytes(b"ID3 nothing here")
    missing = tmp_path / "gone.png"
    out = render(
        spec(reference_images=(bad_image, missing), reference_videos=(bad_video,),
             reference_audio=(bad_audio,)),
        tmp_path / "o.mp4",
    )  # fmt: skip
    got = info(out)
    assert (got["width"], got["height"], got["frames"], got["audio"]) == (864, 496, 96, "aac")
    assert rms(mono_audio(out)[AUDIO_RATE : 2 * AUDIO_RATE]) > 0.02  # the chord stands in
    bad_start = render(spec(start_image=bad_image, end_image=missing), tmp_path / "i.mp4")
    assert info(bad_start)["frames"] == 96


def test_same_spec_gives_the_same_bytes(tmp_path: Path) -> None:
    """x264 with mbtree read stray memory and differed run to run at 864×496; not any more."""
    image = make_image(tmp_path / "s.png", GREEN)
    one = render(spec(start_image=image), tmp_path / "one.mp4").read_bytes()
    junk = [np.random.default_rng(n).bytes(1 << 20) for n in range(32)]  # stir the heap
    del junk
    gc.collect()
    two = render(spec(start_image=image), tmp_path / "two.mp4").read_bytes()
    assert one == two
    assert render(spec(start_image=image, seed=43), tmp_path / "three.mp4").read_bytes() != one


# The writer -------------------------------------------------------------------------------------


def test_writer_trims_audio_to_the_video_and_accepts_mono(tmp_path: Path) -> None:
    path = tmp_path / "w.mp4"
    with Mp4Writer(path, 64, 48, fps=24, channels=1, sample_rate=44_100) as out:
        for index in range(72):
            out.add_frame(np.full((48, 64, 3), index * 3, np.uint8))
        out.add_audio(np.full(5 * 44_100, 0.25, np.float32))  # longer than the 3 s of video
    got = info(path)
    assert got["video_s"] == got["audio_s"] == 3  # not 3.008
    assert got["container_us"] == 3_000_000
    assert got["audio_rate"] == 44_100
    with av.open(str(path)) as container:
        assert container.streams.audio[0].codec_context.layout.nb_channels == 1


def test_writer_leaves_no_file_when_writing_fails(tmp_path: Path) -> None:
    path = tmp_path / "w.mp4"
    path.write_bytes(b"the previous, complete file")
    with pytest.raises(RuntimeError), Mp4Writer(path, 64, 48) as out:
        out.add_frame(np.zeros((48, 64, 3), np.uint8))
        raise RuntimeError("render failed")
    assert path.read_bytes() == b"the previous, complete file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.mp4"]


def test_writer_refuses_odd_sizes_and_wrong_frames(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Mp4Writer(tmp_path / "odd.mp4", 65, 48)
    with pytest.raises(ValueError), Mp4Writer(tmp_path / "w.mp4", 64, 48, with_audio=False) as out:
        out.add_frame(np.zeros((48, 66, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_every_listed_output_size_is_even() -> None:
    sizes = [size for table in OUTPUT_SIZES.values() for size in table.values()]
    assert all(w % 2 == 0 and h % 2 == 0 for w, h in sizes)


def test_read_audio_resamples_to_the_asked_rate_and_layout(tmp_path: Path) -> None:
    tone = make_wav(tmp_path / "t.wav", 1.5, 440.0, 0.5)
    stereo = read_audio(tone)
    assert stereo.dtype == np.float32 and stereo.shape == (2, round(1.5 * AUDIO_RATE))
    assert 0.3 < rms(stereo[1]) < 0.4  # 0.5 / sqrt(2): mono goes to both sides at full level
    mono = read_audio(tone, 1.0, rate=16_000, channels=1)
    assert mono.shape == (1, 16_000)
    assert 0.3 < rms(mono) < 0.4
    assert read_audio(make_video(tmp_path / "silent.mp4", RED)).shape == (2, 0)
