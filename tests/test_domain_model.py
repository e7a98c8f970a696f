"""The endpoint table, the request builder, prompt tokens and cost estimates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seedance_desktop.domain.endpoints import (
    ENDPOINTS,
    OUTPUT_SIZES,
    Mode,
    closest_aspect_ratio,
    endpoint_for,
)
from seedance_desktop.domain.media_info import MediaInfo, MediaKind
from seedance_desktop.domain.plan import plan_shot
from seedance_desktop.domain.pricing import estimate
from seedance_desktop.domain.shot import Shot, build_input, shot_from_input
from seedance_desktop.domain.tokens import find_tokens, moves_for_order, renumber, unmatched_tokens

# --- the endpoint table --------------------------------------------------------------------------


def test_six_endpoints_with_fal_ids() -> None:
    assert sorted(ENDPOINTS) == sorted(
        [
            "bytedance/seedance-2.0/text-to-video",
            "bytedance/seedance-2.0/fast/text-to-video",
            "bytedance/seedance-2.0/image-to-video",
            "bytedance/seedance-2.0/fast/image-to-video",
            "bytedance/seedance-2.0/reference-to-video",
            "bytedance/seedance-2.0/fast/reference-to-video",
        ]
    )
    assert endpoint_for("image-to-video", fast=True).model_id.endswith("fast/image-to-video")


def test_every_output_size_is_even_and_close_to_its_ratio() -> None:
    for resolution, sizes in OUTPUT_SIZES.items():
        for ratio, (w, h) in sizes.items():
            assert w % 2 == 0 and h % 2 == 0, (resolution, ratio)
            assert closest_aspect_ratio(w, h) == ratio


# --- the request builder -------------------------------------------------------------------------


def test_builder_leaves_unset_fields_out_and_writes_duration_as_text() -> None:
    shot = Shot(Mode.TEXT_TO_VIDEO, prompt="A fox", duration=5, seed=0)
    assert build_input(shot) == {"prompt": "A fox", "duration": "5", "seed": 0}


def test_builder_keeps_slot_order_and_uses_uploaded_urls() -> None:
    shot = Shot(
        Mode.REFERENCE_TO_VIDEO,
        prompt="p",
        images=("/b.png", "/a.png"),
        audios=("/s.wav",),
        generate_audio=False,
        end_user_id="",
    )
    payload = build_input(shot, {"/a.png": "https://cdn/a"})
    assert payload == {
        "prompt": "p",
        "generate_audio": False,
        "image_urls": ["/b.png", "https://cdn/a"],
        "audio_urls": ["/s.wav"],
    }
    assert shot_from_input(shot.endpoint.model_id, build_input(shot)) == Shot(
        Mode.REFERENCE_TO_VIDEO,
        prompt="p",
        images=("/b.png", "/a.png"),
        audios=("/s.wav",),
        generate_audio=False,
    )


def test_builder_sends_only_what_the_mode_takes() -> None:
    shot = Shot(Mode.TEXT_TO_VIDEO, prompt="p", start_image="/a.png", images=("/b.png",))
    assert build_input(shot) == {"prompt": "p"}
    plan = plan_shot(shot)
    assert {p.field for p in plan.problems} == {"image_url", "image_urls"}
    assert plan.ok  # left out, with a warning; nothing blocks


def test_image_to_video_builder() -> None:
    shot = Shot(Mode.IMAGE_TO_VIDEO, fast=True, prompt="p", start_image="/s", end_image="/e")
    assert build_input(shot) == {"prompt": "p", "image_url": "/s", "end_image_url": "/e"}
    assert shot.endpoint.model_id == "bytedance/seedance-2.0/fast/image-to-video"


# --- prompt tokens -------------------------------------------------------------------------------


def test_find_tokens_in_both_spellings() -> None:
    tokens = find_tokens("[Image1] meets @video2 and [AUDIO3]; email@Image4x is not one")
    assert [(t.kind, t.number) for t in tokens] == [
        (MediaKind.IMAGE, 1),
        (MediaKind.VIDEO, 2),
        (MediaKind.AUDIO, 3),
    ]


def test_unmatched_tokens() -> None:
    prompt = "[Image1] [Image3] [Video1] [Image?]"
    found = unmatched_tokens(prompt, {MediaKind.IMAGE: 2})
    assert [t.text for t in found] == ["[Image3]", "[Video1]", "[Image?]"]


@pytest.mark.parametrize(
    ("prompt", "order", "count", "expected"),
    [
        ("[Image1] then [Image2]", [2, 1], 2, "[Image2] then [Image1]"),
        ("[Image1], [Image2], [Image3]", [1, 3], 3, "[Image1], [Image?], [Image2]"),
        ("@Image2 with [Video1]", [2], 2, "[Image1] with [Video1]"),
        ("no tokens", [1], 1, "no tokens"),
    ],
)
def test_renumber_after_reorder_or_removal(
    prompt: str, order: list[int], count: int, expected: str
) -> None:
    assert renumber(prompt, MediaKind.IMAGE, moves_for_order(order, count)) == expected


@given(
    prompt=st.text(alphabet=st.sampled_from(list("[]@?Imagevidoau0123456789 x"))),
    order=st.permutations(list(range(1, 6))),
    keep=st.integers(min_value=0, max_value=5),
    kind=st.sampled_from(list(MediaKind)),
)
def test_renumber_never_raises_and_only_touches_tokens(
    prompt: str, order: list[int], keep: int, kind: MediaKind
) -> None:
    result = renumber(prompt, kind, moves_for_order(order[:keep], 5))
    assert isinstance(result, str)
    other_kinds = [t.text for t in find_tokens(prompt) if t.kind is not kind]
    assert [t.text for t in find_tokens(result) if t.kind is not kind] == other_kinds


@given(st.text())
def test_find_tokens_never_raises(prompt: str) -> None:
    for token in find_tokens(prompt):
        assert prompt[token.start : token.end] == token.text


# --- estimates -----------------------------------------------------------------------------------


def test_published_720p_prices_per_second() -> None:
    std = estimate(endpoint_for(Mode.TEXT_TO_VIDEO), {"duration": "10", "aspect_ratio": "16:9"})
    fast = estimate(
        endpoint_for(Mode.TEXT_TO_VIDEO, fast=True), {"duration": "10", "aspect_ratio": "16:9"}
    )
    # fal publishes $0.3034/s (standard) and $0.2419/s (fast) for 720p with audio.
    assert std.max_usd / 10 == pytest.approx(0.3034, rel=0.01)
    assert fast.max_usd / 10 == pytest.approx(0.2419, rel=0.01)
    assert not std.is_range


def test_480p_uses_its_own_size() -> None:
    cost = estimate(
        endpoint_for(Mode.TEXT_TO_VIDEO),
        {"resolution": "480p", "duration": "5", "aspect_ratio": "1:1"},
    )
    assert cost.max_usd == pytest.approx(640 * 640 * 5 * 24 / 1024 / 1000 * 0.014)


def test_auto_duration_gives_a_range() -> None:
    cost = estimate(endpoint_for(Mode.TEXT_TO_VIDEO), {"aspect_ratio": "16:9"})
    assert cost.is_range
    assert cost.max_usd == pytest.approx(cost.min_usd * 15 / 4)
    assert str(cost).count("$") == 2


def test_reference_videos_add_their_seconds_and_the_discount() -> None:
    endpoint = endpoint_for(Mode.REFERENCE_TO_VIDEO)
    info = MediaInfo(MediaKind.VIDEO, "mp4", 1000, 832, 832, duration_s=3.0)
    payload = {"duration": "5", "aspect_ratio": "16:9", "video_urls": ["/v"]}
    with_video = estimate(endpoint, payload, {"/v": info})
    plain = estimate(endpoint, {"duration": "5", "aspect_ratio": "16:9"})
    assert with_video.max_usd == pytest.approx(plain.max_usd * 8 / 5 * 0.6)


@given(
    payload=st.dictionaries(st.sampled_from(["resolution", "duration", "aspect_ratio"]), st.text())
)
def test_estimate_never_raises(payload: dict) -> None:
    cost = estimate(endpoint_for(Mode.TEXT_TO_VIDEO), payload)
    assert 0 < cost.min_usd <= cost.max_usd
