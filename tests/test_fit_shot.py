"""A fitted reference travels with the shot: the job keeps its source, range and transform,
"Reuse settings" brings them back, and the export sidecar says what was sent."""

from __future__ import annotations

from pathlib import Path

from engine_fixtures import EngineHarness
from media_factory import make_image, make_video

from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.domain.fit import FitRecord, FitSettings, TimeRange
from seedance_desktop.domain.shot import Shot, replace_references, shot_from_json, shot_to_json
from seedance_desktop.engine.library import sidecar
from seedance_desktop.engine.states import JobState
from seedance_desktop.media.fit import fit_file

FINAL = {JobState.DONE, JobState.FAILED, JobState.CANCELLED, JobState.UNKNOWN_SUBMISSION}


def test_a_fit_replaces_the_reference_and_is_recorded() -> None:
    shot = Shot(Mode.REFERENCE_TO_VIDEO, prompt="[Video1]", videos=("/a/phone.mov", "/a/b.mp4"))
    record = FitRecord("/a/phone.mov", "/d/phone-fit-1.mp4", FitSettings(TimeRange(3, 9)), "x")
    fitted = shot.with_fit(record, replacing="/a/phone.mov")
    assert fitted.videos == ("/d/phone-fit-1.mp4", "/a/b.mp4")
    assert fitted.fit_of("/d/phone-fit-1.mp4") == record
    again = FitRecord("/a/phone.mov", "/d/phone-fit-2.mp4", FitSettings(TimeRange(0, 5)), "y")
    refitted = fitted.with_fit(again, replacing="/d/phone-fit-1.mp4")
    assert refitted.fits == (again,)
    assert shot_from_json(shot_to_json(refitted)) == refitted
    stored = replace_references(refitted, {"/d/phone-fit-2.mp4": "/store/abc.mp4"})
    assert stored.fits[0].fitted == "/store/abc.mp4" and stored.fits[0].source == "/a/phone.mov"


async def test_reuse_settings_and_the_sidecar_carry_the_fit(
    harness: EngineHarness, simulator, tmp_path: Path
) -> None:
    clip = make_video(tmp_path / "phone.mp4", 1920, 1080, seconds=12, fps=8)
    settings = FitSettings(TimeRange(3.0, 9.0))
    fitted = fit_file(clip, harness.paths.fitted, settings)
    image = str(make_image(tmp_path / "face.png"))
    shot = Shot(
        Mode.REFERENCE_TO_VIDEO,
        prompt="[Image1] moves like [Video1]",
        resolution="480p",
        duration="4",
        images=(image,),
        videos=(str(clip),),
    ).with_fit(fitted.record(settings), replacing=str(clip))
    (job,) = await harness.engine.enqueue(shot)
    assert await harness.wait_for(job.id, FINAL) is JobState.DONE
    library = harness.engine.library
    reused = library.reuse(job.id)
    (record,) = reused.fits
    assert record.source == str(clip)
    assert record.settings.time_range == TimeRange(3.0, 9.0)
    assert reused.videos == (record.fitted,) and Path(record.fitted).exists()
    side = sidecar(library.get(job.id), library.references(job.id))
    assert side["fitted"] == [record.to_json()]
    assert "1920×1080, 12.0 s" in record.summary and "→ 1280×720, 3–9 s" in record.summary
