"""The compose model (Qt-free): references and token renumbering, problems, the estimate × N,
loads with their undo, and drafts on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seedance_desktop.compose.drafts import (
    LIMIT_S,
    QUIET_S,
    Draft,
    DraftKeeper,
    DraftStore,
    save_delay,
    write_atomically,
)
from seedance_desktop.compose.model import Aspect, Change, ComposeModel, blank_shot
from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.domain.media_info import MediaInfo, MediaKind, ProbeFailure
from seedance_desktop.domain.shot import Shot

IMAGE = MediaInfo(MediaKind.IMAGE, "png", 50_000, width=1280, height=720)


def reference_model(prompt: str, images: int = 3) -> tuple[ComposeModel, list[Change]]:
    model = ComposeModel(Mode.REFERENCE_TO_VIDEO)
    changes: list[Change] = []
    model.changed.connect(changes.append)
    model.add_references("image_urls", [f"/pics/{n}.png" for n in range(1, images + 1)])
    model.set_prompt(prompt)
    return model, changes


# --- references and tokens -----------------------------------------------------------------------


def test_moving_a_reference_renumbers_the_prompt_tokens() -> None:
    model, changes = reference_model("[Image1] meets [Image3] under @Image2")
    model.move_reference("image_urls", 0, 2)
    assert model.references("image_urls") == ("/pics/2.png", "/pics/3.png", "/pics/1.png")
    assert model.prompt == "[Image3] meets [Image2] under [Image1]"
    assert {Aspect.REFERENCES, Aspect.PROMPT} <= changes[-1].aspects


def test_removing_a_reference_orphans_its_tokens_and_moves_the_rest_up() -> None:
    model, _ = reference_model("[Image1] meets [Image3] under [Image2]")
    model.remove_reference("image_urls", 1)
    assert model.references("image_urls") == ("/pics/1.png", "/pics/3.png")
    assert model.prompt == "[Image1] meets [Image2] under [Image?]"
    assert any("[Image?]" in p.message for p in model.problems)


def test_inserting_before_others_moves_their_tokens_along() -> None:
    model, _ = reference_model("[Image1] then [Image2]", images=2)
    left = model.add_references("image_urls", ["/pics/new.png"], at=0)
    assert left == []
    assert model.references("image_urls")[0] == "/pics/new.png"
    assert model.prompt == "[Image2] then [Image3]"


def test_only_what_fits_is_taken() -> None:
    model = ComposeModel(Mode.IMAGE_TO_VIDEO)
    left = model.add_references("image_url", ["/a.png", "/b.png"])
    assert model.references("image_url") == ("/a.png",) and left == ["/b.png"]
    assert model.shot.start_image == "/a.png"


def test_discarding_a_file_of_the_wrong_kind() -> None:
    model, _ = reference_model("[Image2]", images=2)
    model.discard_reference("/pics/1.png")
    assert model.references("image_urls") == ("/pics/2.png",)
    assert model.prompt == "[Image1]"


def test_nothing_changes_nothing_is_reported() -> None:
    model, changes = reference_model("same")
    before = len(changes)
    model.set_prompt("same")
    model.set_parameters(resolution="720p")
    model.move_reference("image_urls", 0, 0)
    assert len(changes) == before


def test_unknown_parameters_are_refused() -> None:
    with pytest.raises(TypeError, match="colour"):
        ComposeModel(Mode.TEXT_TO_VIDEO).set_parameters(colour="red")


# --- problems, readiness and the estimate --------------------------------------------------------


def test_problems_follow_the_probe_results_handed_in() -> None:
    model = ComposeModel(Mode.IMAGE_TO_VIDEO)
    model.set_prompt("slow push in")
    assert any("Start frame is required" in p.message for p in model.problems)
    model.add_references("image_url", ["/gone/start.png"])
    assert model.awaiting_probe() == ["/gone/start.png"]
    assert not model.ready  # not checked yet
    model.set_media("/gone/start.png", ProbeFailure("start.png was not found."))
    assert [p.message for p in model.problems if p.is_error] == [
        "Start frame: start.png was not found."
    ]
    assert not model.ready
    model.set_media("/gone/start.png", IMAGE)
    assert model.ready and model.awaiting_probe() == []


def test_links_are_not_waited_for() -> None:
    model = ComposeModel(Mode.IMAGE_TO_VIDEO)
    model.set_prompt("a link")
    model.add_references("image_url", ["https://example.com/a.png"])
    assert model.awaiting_probe() == [] and model.ready


def test_the_estimate_counts_variations() -> None:
    model = ComposeModel(Mode.TEXT_TO_VIDEO)
    model.set_parameters(resolution="720p", duration="10", aspect_ratio="16:9")
    one = model.estimate
    assert str(one).startswith("$3.02")
    model.set_variations(3)
    assert model.total_estimate.min_usd == pytest.approx(3 * one.min_usd)
    assert model.total_estimate.max_usd == pytest.approx(3 * one.max_usd)
    model.set_variations(99)
    assert model.variations == 8


# --- loading a result, and undoing it ------------------------------------------------------------


def test_a_load_keeps_the_replaced_work_for_undo() -> None:
    model = ComposeModel(Mode.TEXT_TO_VIDEO)
    changes: list[Change] = []
    model.changed.connect(changes.append)
    model.set_prompt("my unsaved idea")
    model.load(Shot(Mode.TEXT_TO_VIDEO, prompt="a past result", seed=7))
    assert model.prompt == "a past result" and model.can_undo_load
    assert Aspect.LOADED in changes[-1]
    assert model.undo_load()
    assert model.prompt == "my unsaved idea" and model.shot.seed is None
    assert not model.can_undo_load and not model.undo_load()


def test_loading_into_a_blank_tab_keeps_no_history() -> None:
    model = ComposeModel(Mode.TEXT_TO_VIDEO)
    model.load(Shot(Mode.TEXT_TO_VIDEO, prompt="a past result"))
    assert not model.can_undo_load


def test_a_shot_of_another_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="Text to video tab"):
        ComposeModel(Mode.TEXT_TO_VIDEO).load(Shot(Mode.IMAGE_TO_VIDEO))


# --- drafts --------------------------------------------------------------------------------------


def test_drafts_round_trip_with_their_history(tmp_path: Path) -> None:
    store = DraftStore(tmp_path / "drafts")
    draft = Draft(
        Shot(Mode.REFERENCE_TO_VIDEO, prompt="[Image1]", images=("/a.png",)),
        variations=3,
        history=(Shot(Mode.REFERENCE_TO_VIDEO, prompt="older"),),
    )
    store.save(Mode.REFERENCE_TO_VIDEO, draft)
    assert store.load(Mode.REFERENCE_TO_VIDEO) == draft
    assert store.load(Mode.TEXT_TO_VIDEO) is None
    assert [p.name for p in (tmp_path / "drafts").iterdir()] == ["reference-to-video.json"]


def test_a_damaged_draft_is_set_aside_not_lost(tmp_path: Path) -> None:
    store = DraftStore(tmp_path)
    store.path(Mode.TEXT_TO_VIDEO).write_text("{not json")
    assert store.load(Mode.TEXT_TO_VIDEO) is None
    assert (tmp_path / "text-to-video.damaged").read_text() == "{not json"


def test_an_atomic_write_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "d" / "x.json"
    write_atomically(target, "one")
    write_atomically(target, "two")
    assert target.read_text() == "two" and [p.name for p in target.parent.iterdir()] == ["x.json"]


def test_saves_come_soon_after_the_last_edit_and_never_later_than_the_limit() -> None:
    assert save_delay(now=10.0, first_unsaved=10.0, last_change=10.0) == pytest.approx(QUIET_S)
    # steady typing: each keystroke re-arms, but the first unsaved edit bounds the wait
    assert save_delay(now=10.9, first_unsaved=10.0, last_change=10.9) == pytest.approx(0.1)
    assert save_delay(now=11.5, first_unsaved=10.0, last_change=11.5) == 0.0
    assert LIMIT_S <= 1.0


def test_the_keeper_saves_edits_and_restores_them(tmp_path: Path) -> None:
    store = DraftStore(tmp_path)
    models = {mode: ComposeModel(mode) for mode in Mode}
    delays: list[float] = []
    keeper = DraftKeeper(store, models, delays.append, clock=lambda: 5.0)
    models[Mode.TEXT_TO_VIDEO].set_prompt("A fox in snow")
    models[Mode.TEXT_TO_VIDEO].set_media("/x.png", IMAGE)  # probe results are not edits
    assert delays == [pytest.approx(QUIET_S)] and keeper.unsaved == {Mode.TEXT_TO_VIDEO}
    keeper.flush()
    keeper.remember_current(Mode.TEXT_TO_VIDEO)
    assert keeper.unsaved == frozenset()
    saved = json.loads(store.path(Mode.TEXT_TO_VIDEO).read_text())
    assert saved["shot"]["prompt"] == "A fox in snow"

    fresh = {mode: ComposeModel(mode) for mode in Mode}
    again = DraftKeeper(store, fresh, delays.append)
    assert again.restore() is Mode.TEXT_TO_VIDEO
    assert fresh[Mode.TEXT_TO_VIDEO].prompt == "A fox in snow"
    assert fresh[Mode.IMAGE_TO_VIDEO].shot == blank_shot(Mode.IMAGE_TO_VIDEO)
    assert again.unsaved == frozenset()  # restoring is not an edit


def test_a_failed_save_is_reported_and_retried(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    models = {Mode.TEXT_TO_VIDEO: ComposeModel(Mode.TEXT_TO_VIDEO)}
    keeper = DraftKeeper(DraftStore(blocker / "drafts"), models, lambda _s: None)
    messages: list[str] = []
    keeper.failed.connect(messages.append)
    models[Mode.TEXT_TO_VIDEO].set_prompt("kept in memory")
    keeper.flush()
    assert messages and messages[0].startswith("The draft could not be saved")
    assert keeper.unsaved == {Mode.TEXT_TO_VIDEO}
