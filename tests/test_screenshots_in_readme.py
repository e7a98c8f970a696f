"""The screenshots are the visual contract: the ones the workspace promises exist, at their sizes,
the main one dark and the light one light, and the README shows each of them."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageStat

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "docs" / "screenshots"
SIZES = {
    "main-window.png": (1920, 1080),
    "laptop-1366x768.png": (1366, 768),
    "light-theme.png": (1920, 1080),
    "reference-to-video.png": None,
    "settings.png": None,
}


def _lightness(name: str) -> float:
    with Image.open(SHOTS / name) as image:
        return float(ImageStat.Stat(image.convert("L")).mean[0]) / 255


def test_the_promised_screenshots_exist_at_their_sizes_and_are_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, size in SIZES.items():
        assert (SHOTS / name).exists(), name
        assert f"(docs/screenshots/{name})" in readme, name
        if size is not None:
            with Image.open(SHOTS / name) as image:
                assert image.size == size, name
    assert _lightness("main-window.png") < 0.35 < 0.65 < _lightness("light-theme.png")
