"""compose.fitting: which references "Fit all" takes, each within what the others left, and the
runner that fits off the loop's thread with progress and cancel (real files, real threads)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from media_factory import make_audio, make_image, make_video

from seedance_desktop.compose.fitting import FitRunner, apply_fitted, can_fit, targets_to_fit
from seedance_desktop.compose.model import ComposeModel
from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.domain.fit import FitSettings
from seedance_desktop.media.fit import FitCancelled
from seedance_desktop.media.probe import probe


def probed(model: ComposeModel) -> ComposeModel:
    for ref in model.awaiting_probe():
        model.set_media(ref, probe(ref))
    return model


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("clips")
    return {
        "wide": str(make_video(folder / "wide.mp4", 1920, 1080, seconds=12, fps=4)),
        "small": str(make_video(folder / "small.mp4", 832, 832, seconds=6, fps=4)),
        "face": str(make_image(folder / "face.png")),
        "song": str(make_audio(folder / "song.mp3", seconds=20, fmt="mp3")),
    }


def test_fit_all_takes_what_breaks_a_limit_and_budgets_each_after_the_others(
    clips: dict[str, str],
) -> None:
    model = ComposeModel(Mode.REFERENCE_TO_VIDEO)
    model.add_references("image_urls", [clips["face"]])
    model.add_references("video_urls", [clips["small"], clips["wide"]])
    model.add_references("audio_urls", [clips["song"]])
    probed(model)
    assert not can_fit(model, "image_urls", clips["face"])
    assert not can_fit(model, "video_urls", clips["small"])
    targets = targets_to_fit(model)
    assert [t.reference for t in targets] == [clips["wide"], clips["song"]]
    assert targets[0].budget.video_seconds == pytest.approx(9.0)  # 15 s less the 6 s clip


async def test_the_runner_fits_off_the_loop_and_the_model_takes_the_result(
    clips: dict[str, str], tmp_path: Path
) -> None:
    model = ComposeModel(Mode.REFERENCE_TO_VIDEO)
    model.set_prompt("[Image1] moves like [Video1]")
    model.add_references("image_urls", [clips["face"]])
    model.add_references("video_urls", [clips["wide"]])
    probed(model)
    assert not model.plan.ok
    runner = FitRunner(tmp_path)
    (target,) = targets_to_fit(model)
    seen: list[float] = []
    fitted = await runner.fit(target, FitSettings(), seen.append)
    await asyncio.sleep(0)  # the last progress call is handed to the loop
    assert seen and seen[-1] == 1.0
    apply_fitted(model, target, fitted, FitSettings())
    assert model.references("video_urls") == (str(fitted.path),)
    assert model.shot.fit_of(str(fitted.path)) is not None
    assert model.plan.ok and not model.awaiting_probe()
    runner.shutdown()


async def test_cancel_stops_the_fit_and_leaves_nothing(
    clips: dict[str, str], tmp_path: Path
) -> None:
    model = probed(ComposeModel(Mode.REFERENCE_TO_VIDEO))
    model.add_references("video_urls", [clips["wide"]])
    probed(model)
    runner = FitRunner(tmp_path / "fitted")
    (target,) = targets_to_fit(model)

    def progress(done: float) -> None:
        if done > 0.1:
            runner.cancel()

    with pytest.raises(FitCancelled):
        await runner.fit(target, FitSettings(), progress)
    assert not any((tmp_path / "fitted").glob("*"))
    runner.shutdown()
