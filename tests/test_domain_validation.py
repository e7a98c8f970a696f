"""Every validation rule, table-driven, on the pure domain model."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seedance_desktop.domain.endpoints import ENDPOINTS, Mode, endpoint_for
from seedance_desktop.domain.media_info import MediaInfo, MediaKind, ProbeFailure
from seedance_desktop.domain.validation import Problem, Severity, validate_input

T2V = endpoint_for(Mode.TEXT_TO_VIDEO)
I2V = endpoint_for(Mode.IMAGE_TO_VIDEO)
R2V = endpoint_for(Mode.REFERENCE_TO_VIDEO)
MB = 1024 * 1024


def image(fmt: str = "png", w: int = 1024, h: int = 768, size: int = 200_000) -> MediaInfo:
    return MediaInfo(MediaKind.IMAGE, fmt, size, width=w, height=h)


def video(
    seconds: float = 4.0, w: int = 832, h: int = 832, size: int = 2 * MB, fmt: str = "mp4"
) -> MediaInfo:
    return MediaInfo(MediaKind.VIDEO, fmt, size, width=w, height=h, duration_s=seconds, fps=24.0)


def audio(seconds: float = 4.0, size: int = 100_000, fmt: str = "wav") -> MediaInfo:
    return MediaInfo(MediaKind.AUDIO, fmt, size, duration_s=seconds)


def problems_for(endpoint, payload, media=None) -> list[Problem]:
    return validate_input(endpoint, payload, media)


def fields(problems: list[Problem], severity: Severity | None = None) -> set[str]:
    return {p.field for p in problems if severity is None or p.severity is severity}


def test_a_minimal_valid_request_has_no_problem() -> None:
    for endpoint in ENDPOINTS.values():
        payload: dict[str, object] = {"prompt": "A fox runs through snow"}
        if endpoint.mode is Mode.IMAGE_TO_VIDEO:
            payload["image_url"] = "https://example.com/a.png"
        assert problems_for(endpoint, payload) == [], endpoint.model_id


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({}, "prompt", "required"),
        ({"prompt": "   "}, "prompt", "empty"),
        ({"prompt": 5}, "prompt", "text"),
        ({"prompt": "x", "resolution": "1080p"}, "resolution", "not available"),
        ({"prompt": "x", "resolution": "4k"}, "resolution", "480p, 720p"),
        ({"prompt": "x", "duration": 5}, "duration", "written as text"),
        ({"prompt": "x", "duration": "3"}, "duration", "not available"),
        ({"prompt": "x", "duration": "16"}, "duration", "not available"),
        ({"prompt": "x", "aspect_ratio": "2:1"}, "aspect_ratio", "not available"),
        ({"prompt": "x", "generate_audio": "yes"}, "generate_audio", "on or off"),
        ({"prompt": "x", "seed": "12"}, "seed", "whole number"),
        ({"prompt": "x", "seed": True}, "seed", "whole number"),
        ({"prompt": "x", "seed": -1}, "seed", "between"),
        ({"prompt": "x", "seed": 2**40}, "seed", "between"),
        ({"prompt": "x", "end_user_id": 7}, "end_user_id", "text"),
    ],
)
def test_plain_field_errors(payload: dict, field: str, words: str) -> None:
    problems = problems_for(T2V, payload)
    matching = [p for p in problems if p.field == field]
    assert matching, problems
    assert matching[0].severity is Severity.ERROR
    assert words in matching[0].message


@pytest.mark.parametrize("duration", ["auto", "4", "10", "15"])
@pytest.mark.parametrize("ratio", ["auto", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16"])
def test_every_listed_duration_and_ratio_is_accepted(duration: str, ratio: str) -> None:
    payload = {"prompt": "x", "duration": duration, "aspect_ratio": ratio, "resolution": "480p"}
    assert problems_for(T2V, payload) == []


def test_unknown_field_is_a_warning_not_an_error() -> None:
    problems = problems_for(T2V, {"prompt": "x", "aspect-ratio": "16:9"})
    assert [(p.field, p.severity) for p in problems] == [("aspect-ratio", Severity.WARNING)]


def test_image_to_video_needs_a_start_frame() -> None:
    problems = problems_for(I2V, {"prompt": "x"})
    assert fields(problems, Severity.ERROR) == {"image_url"}


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "gif", "avif"])
def test_start_frame_formats(fmt: str) -> None:
    payload = {"prompt": "x", "image_url": "/a"}
    assert problems_for(I2V, payload, {"/a": image(fmt)}) == []


@pytest.mark.parametrize(
    ("info", "field_words"),
    [
        (image("bmp"), "BMP"),
        (image(size=31 * MB), "30 MB"),
        (video(), "must be an image"),
        (audio(), "must be an image"),
        (ProbeFailure("the file is empty."), "the file is empty"),
    ],
)
def test_start_frame_errors(info, field_words: str) -> None:
    problems = problems_for(I2V, {"prompt": "x", "image_url": "/a"}, {"/a": info})
    errors = [p for p in problems if p.is_error]
    assert [p.field for p in errors] == ["image_url"]
    assert field_words in errors[0].message


def test_end_frame_rules() -> None:
    media = {"/a": image(w=1600, h=900), "/b": image(w=900, h=1600), "/c": image("bmp")}
    same = problems_for(I2V, {"prompt": "x", "image_url": "/a", "end_image_url": "/a"}, media)
    assert [(p.field, p.severity) for p in same] == [("end_image_url", Severity.WARNING)]
    shape = problems_for(I2V, {"prompt": "x", "image_url": "/a", "end_image_url": "/b"}, media)
    assert "different shape" in shape[0].message
    bad = problems_for(I2V, {"prompt": "x", "image_url": "/a", "end_image_url": "/c"}, media)
    assert fields(bad, Severity.ERROR) == {"end_image_url"}


@pytest.mark.parametrize(
    ("info", "severity", "words"),
    [
        (image(w=200, h=400), Severity.WARNING, "sides between"),
        (image(w=7000, h=4000), Severity.WARNING, "sides between"),
        (image(w=3000, h=1000), Severity.WARNING, "very wide"),
        (image(w=400, h=1100), Severity.WARNING, "very tall"),
        (image("gif"), Severity.ERROR, "use JPEG, PNG, WEBP"),
        (image("avif"), Severity.ERROR, "use JPEG, PNG, WEBP"),
    ],
)
def test_reference_image_rules(info, severity: Severity, words: str) -> None:
    problems = problems_for(R2V, {"prompt": "x", "image_urls": ["/i"]}, {"/i": info})
    assert [(p.field, p.severity) for p in problems] == [("image_urls[0]", severity)]
    assert words in problems[0].message


def r2v(images: int = 0, videos: int = 0, audios: int = 0) -> dict[str, object]:
    payload: dict[str, object] = {"prompt": "x"}
    if images:
        payload["image_urls"] = [f"https://e.com/i{n}.png" for n in range(images)]
    if videos:
        payload["video_urls"] = [f"https://e.com/v{n}.mp4" for n in range(videos)]
    if audios:
        payload["audio_urls"] = [f"https://e.com/a{n}.wav" for n in range(audios)]
    return payload


@pytest.mark.parametrize(
    ("counts", "error_fields"),
    [
        ((9, 3, 0), set()),
        ((9, 0, 3), set()),
        ((6, 3, 3), set()),
        ((10, 0, 0), {"image_urls"}),
        ((1, 4, 0), {"video_urls"}),
        ((1, 0, 4), {"audio_urls"}),
        ((9, 3, 3), {"references"}),
        ((7, 3, 3), {"references"}),
        ((0, 0, 1), {"audio_urls"}),
        ((0, 1, 1), set()),
        ((1, 0, 1), set()),
    ],
)
def test_reference_counts(counts: tuple[int, int, int], error_fields: set[str]) -> None:
    assert fields(problems_for(R2V, r2v(*counts)), Severity.ERROR) == error_fields


def test_counts_name_how_many_to_remove() -> None:
    problems = problems_for(R2V, r2v(9, 3, 3))
    assert "there are 15. Remove 3" in problems[0].message


@pytest.mark.parametrize(
    ("videos", "error_words"),
    [
        ([video(4)], None),
        ([video(5), video(5), video(5)], None),
        ([video(1.5)], "between 2 and 15"),
        ([video(6), video(6), video(6)], "between 2 and 15"),
        ([video(4, w=640, h=480)], "pixels"),
        ([video(4, w=1920, h=1080)], "pixels"),
        ([video(4, size=30 * MB), video(4, size=20 * MB)], "under 50 MB"),
        ([MediaInfo(MediaKind.VIDEO, "webm", 1000, 832, 832, 4.0)], "use MP4, MOV"),
        ([image()], "must be a video"),
    ],
)
def test_reference_video_rules(videos: list[MediaInfo], error_words: str | None) -> None:
    refs = [f"/v{n}" for n in range(len(videos))]
    payload = {"prompt": "x", "video_urls": refs}
    errors = [p for p in problems_for(R2V, payload, dict(zip(refs, videos))) if p.is_error]
    if error_words is None:
        assert errors == []
    else:
        assert any(error_words in p.message for p in errors), errors


def test_combined_video_duration_waits_for_every_duration() -> None:
    payload = {"prompt": "x", "video_urls": ["/v0", "https://e.com/v.mp4"]}
    problems = problems_for(R2V, payload, {"/v0": video(1.0)})
    assert [(p.field, p.severity) for p in problems] == [("video_urls[0]", Severity.WARNING)]


@pytest.mark.parametrize(
    ("audios", "error_words", "warning_words"),
    [
        ([audio(5), audio(5), audio(5)], None, None),
        ([audio(8), audio(8)], "limit is 15 s", None),
        ([audio(4, size=16 * MB)], "15 MB", None),
        ([audio(4, fmt="ogg")], "use MP3, WAV", None),
        ([audio(1.0)], None, "2 to 15 s"),
    ],
)
def test_reference_audio_rules(audios, error_words, warning_words) -> None:
    refs = [f"/a{n}" for n in range(len(audios))]
    payload = {"prompt": "x", "image_urls": ["https://e.com/i.png"], "audio_urls": refs}
    problems = problems_for(R2V, payload, dict(zip(refs, audios)))
    errors = [p.message for p in problems if p.is_error]
    warnings = [p.message for p in problems if not p.is_error]
    assert (error_words is None) == (not errors), errors
    if error_words:
        assert any(error_words in m for m in errors)
    if warning_words:
        assert any(warning_words in m for m in warnings)


def test_problem_loc_matches_fal() -> None:
    assert Problem("image_urls[2]", Severity.ERROR, "m").loc == ["body", "image_urls", 2]
    assert Problem("prompt", Severity.ERROR, "m").loc == ["body", "prompt"]


@pytest.mark.parametrize(
    ("endpoint", "payload", "words"),
    [
        (R2V, {**r2v(1), "prompt": "[Image1] dances with [Image2]"}, "[Image2] refers to image 2"),
        (R2V, {**r2v(1), "prompt": "[Video1] again"}, "there are none"),
        (R2V, {**r2v(1), "prompt": "see @Audio1"}, "[Audio1]"),
        (R2V, {**r2v(1), "prompt": "[Image?] leftover"}, "was removed"),
        (T2V, {"prompt": "[Image1] dances"}, "takes no references"),
    ],
)
def test_prompt_tokens_without_a_slot_are_flagged(endpoint, payload, words: str) -> None:
    problems = [p for p in problems_for(endpoint, payload) if p.field == "prompt"]
    assert problems and problems[0].severity is Severity.WARNING
    assert words in problems[0].message


def test_filled_tokens_are_fine() -> None:
    payload = {**r2v(2, 1, 1), "prompt": "[Image1] and @Image2 dance like [Video1] to [Audio1]"}
    assert problems_for(R2V, payload) == []


known_refs = st.sampled_from(["/a", "/b", "[Image1]"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30) | known_refs,
    lambda children: st.lists(children, max_size=14) | st.dictionaries(st.text(), children),
    max_leaves=30,
)
field_names = st.sampled_from(
    ["prompt", "resolution", "duration", "aspect_ratio", "generate_audio", "seed", "end_user_id"]
    + ["image_url", "end_image_url", "image_urls", "video_urls", "audio_urls", "x"]
)
media_results = st.one_of(
    st.builds(ProbeFailure, st.text()),
    st.builds(
        MediaInfo,
        st.sampled_from(list(MediaKind)),
        st.text(max_size=5),
        st.integers(min_value=0, max_value=10**10),
        st.none() | st.integers(min_value=0, max_value=10**5),
        st.none() | st.integers(min_value=0, max_value=10**5),
        st.none() | st.floats(allow_nan=True),
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    model_id=st.sampled_from(sorted(ENDPOINTS)),
    payload=st.dictionaries(field_names, json_values, max_size=10),
    media=st.dictionaries(known_refs | st.text(max_size=10), media_results, max_size=4),
)
def test_validation_never_raises(model_id: str, payload: dict, media: dict) -> None:
    for problem in validate_input(ENDPOINTS[model_id], payload, media):
        assert isinstance(problem.message, str) and problem.message
        assert problem.severity in (Severity.ERROR, Severity.WARNING)


@given(payload=json_values)
def test_validation_of_a_non_mapping_body_never_raises(payload: object) -> None:
    problems = validate_input(T2V, payload)  # type: ignore[arg-type]
    assert isinstance(problems, list)
