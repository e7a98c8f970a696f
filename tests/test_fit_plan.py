"""domain.fit: the pure rules of fitting (sizes, ranges, budgets, media fragments)."""

from __future__ import annotations

import pytest

from seedance_desktop.domain.endpoints import LIMITS
from seedance_desktop.domain.fit import (
    Budget,
    Crop,
    FitPlan,
    FitRecord,
    FitRefusal,
    FitSettings,
    FragmentError,
    TimeRange,
    budget_for,
    needs_fit,
    plan_fit,
    split_fragment,
    video_size,
)
from seedance_desktop.domain.media_info import MediaInfo, MediaKind


def video(width: int, height: int, seconds: float, size: int = 10_000_000) -> MediaInfo:
    return MediaInfo(MediaKind.VIDEO, "mp4", size, width, height, seconds, 30.0, True)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ((1920, 1080), (1280, 720)),
        ((1080, 1920), (720, 1280)),
        ((3840, 2160), (1280, 720)),
        ((1440, 1080), (1112, 834)),
        ((1080, 1080), (962, 962)),
        ((800, 600), (800, 600)),  # already inside the window: unchanged
        ((320, 240), (1112, 834)),  # too few pixels: scaled up into the window
    ],
)
def test_video_size_is_the_largest_inside_the_pixel_window_keeping_the_shape(
    source: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert video_size(*source) == expected


@pytest.mark.parametrize("source", [(1917, 1077), (1001, 999), (4000, 1000), (333, 1999)])
def test_odd_shapes_still_land_inside_the_window_with_even_sides(source: tuple[int, int]) -> None:
    width, height = video_size(*source)
    low, high = LIMITS.video_pixels
    assert low <= width * height <= high
    assert width % 2 == 0 and height % 2 == 0
    assert abs(width / height - source[0] / source[1]) / (source[0] / source[1]) < 0.01


def test_a_long_phone_clip_is_cut_to_the_first_seconds_that_fit() -> None:
    plan = plan_fit("clip.mp4", video(1920, 1080, 30.0))
    assert isinstance(plan, FitPlan)
    assert (plan.start_s, plan.end_s, plan.width, plan.height) == (0.0, 15.0, 1280, 720)
    assert plan.out_format == "mp4"


def test_the_default_range_is_what_is_left_of_the_15_seconds() -> None:
    others = [video(1280, 720, 9.0, 5_000_000)]
    plan = plan_fit("clip.mp4", video(1920, 1080, 30.0), budget=budget_for(others))
    assert isinstance(plan, FitPlan)
    assert plan.end_s == 6.0
    assert plan.max_bytes is not None
    assert plan.max_bytes < LIMITS.max_total_video_bytes - 5_000_000


def test_a_chosen_range_is_kept_and_capped_by_the_budget() -> None:
    plan = plan_fit("c.mp4", video(1920, 1080, 60.0), FitSettings(TimeRange(20.0, 50.0)))
    assert isinstance(plan, FitPlan)
    assert (plan.start_s, plan.end_s) == (20.0, 35.0)


def test_a_clip_under_two_seconds_cannot_be_fitted_up() -> None:
    refusal = plan_fit("short.mp4", video(1920, 1080, 1.4))
    assert isinstance(refusal, FitRefusal)
    assert "1.4 s" in refusal.message and "not lengthen" in refusal.message


def test_a_range_shorter_than_two_seconds_is_refused() -> None:
    refusal = plan_fit("c.mp4", video(1920, 1080, 10), FitSettings(TimeRange(3.0, 4.0)))
    assert isinstance(refusal, FitRefusal)
    assert "at least 2 s" in refusal.message


def test_a_range_past_the_end_is_refused() -> None:
    refusal = plan_fit("c.mp4", video(1920, 1080, 10), FitSettings(TimeRange(12.0, None)))
    assert isinstance(refusal, FitRefusal)
    assert "past its end" in refusal.message


def test_no_room_left_for_video_bytes_is_refused() -> None:
    refusal = plan_fit("c.mp4", video(1920, 1080, 10), budget=Budget(15.0, 15.0, 100_000))
    assert isinstance(refusal, FitRefusal)
    assert "MB left" in refusal.message


def test_crop_to_the_shots_aspect_ratio_is_centred() -> None:
    plan = plan_fit("c.mp4", video(1920, 1080, 5), FitSettings(crop_aspect="9:16"))
    assert isinstance(plan, FitPlan)
    assert plan.crop == Crop(656, 0, 608, 1080)
    assert plan.width is not None and plan.height is not None
    assert abs(plan.width / plan.height - 9 / 16) < 0.01


def test_sound_is_cut_to_15_seconds_as_wav_or_mp3() -> None:
    sound = MediaInfo(MediaKind.AUDIO, "m4a", 900_000, duration_s=40.0, has_audio=True)
    plan = plan_fit("memo.m4a", sound)
    assert isinstance(plan, FitPlan)
    assert (plan.out_format, plan.end_s) == ("wav", 15.0)
    mp3 = plan_fit("memo.m4a", sound, FitSettings(audio_format="mp3"))
    assert isinstance(mp3, FitPlan) and mp3.out_format == "mp3"


def test_pictures_are_downscaled_and_cropped_into_the_ratio_window() -> None:
    huge = MediaInfo(MediaKind.IMAGE, "tiff", 80_000_000, 8000, 6000)
    plan = plan_fit("scan.tif", huge)
    assert isinstance(plan, FitPlan)
    assert (plan.width, plan.height, plan.out_format) == (6000, 4500, "jpeg")
    banner = MediaInfo(MediaKind.IMAGE, "png", 1_000_000, 3000, 500)
    cropped = plan_fit("banner.png", banner)
    assert isinstance(cropped, FitPlan)
    assert cropped.crop == Crop(875, 0, 1250, 500)
    assert cropped.out_format == "png"


def test_needs_fit_names_the_files_fitting_can_mend() -> None:
    assert needs_fit(video(1920, 1080, 5))
    assert needs_fit(video(1280, 720, 20))
    assert not needs_fit(video(1280, 720, 5))
    assert needs_fit(MediaInfo(MediaKind.IMAGE, "heic", 3_000_000, 4032, 3024))
    assert not needs_fit(MediaInfo(MediaKind.IMAGE, "jpeg", 3_000_000, 4032, 3024))
    assert needs_fit(MediaInfo(MediaKind.AUDIO, "m4a", 300_000, duration_s=5.0))


@pytest.mark.parametrize(
    ("text", "path", "expected"),
    [
        ("clip.mp4#t=3,9", "clip.mp4", TimeRange(3.0, 9.0)),
        ("clip.mp4#t=,9", "clip.mp4", TimeRange(0.0, 9.0)),
        ("clip.mp4#t=3", "clip.mp4", TimeRange(3.0, None)),
        ("clip.mp4#t=npt:3.5,9.25", "clip.mp4", TimeRange(3.5, 9.25)),
        ("a#b.mp4#t=0:01:02.5,0:01:10", "a#b.mp4", TimeRange(62.5, 70.0)),
        ("https://x.test/v.mp4", "https://x.test/v.mp4", None),
        ("plain.mp4", "plain.mp4", None),
    ],
)
def test_media_fragments(text: str, path: str, expected: TimeRange | None) -> None:
    assert split_fragment(text) == (path, expected)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("c.mp4#t=9,3", "ends before it starts"),
        ("c.mp4#t=abc", "is not a time"),
        ("c.mp4#t=", "has no times"),
        ("c.mp4#t=3,x", "is not a time"),
    ],
)
def test_bad_media_fragments_say_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(FragmentError, match=words):
        split_fragment(text)


def test_fit_records_round_trip_as_json() -> None:
    record = FitRecord("/a/clip.mov", "/d/clip-fit-1.mp4", FitSettings(TimeRange(3, 9), "16:9"))
    assert FitRecord.from_json(record.to_json()) == record
    assert FitRecord.from_json({"source": 3}) is None
