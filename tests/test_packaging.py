"""Desktop integration files, the version, and installing the package from a wheel and an sdist."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import sysconfig
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

import seedance_desktop

ROOT = Path(__file__).resolve().parent.parent
APP_ID = "io.github.seedance_desktop.SeedanceDesktop"
DESKTOP = ROOT / "resources" / f"{APP_ID}.desktop"
METAINFO = ROOT / "resources" / f"{APP_ID}.metainfo.xml"


def test_the_desktop_file_launches_the_command_with_its_icon() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read(DESKTOP, encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Exec"] == "seedance-desktop" and entry["Type"] == "Application"
    assert entry["Icon"] == "seedance-desktop"
    assert "Video" in entry["Categories"].split(";")


def test_the_metainfo_names_the_desktop_file_and_binary() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP.name
    assert root.find("provides/binary").text == "seedance-desktop"
    assert root.find("releases/release").get("version") == seedance_desktop.__version__
    shots = [i.text for i in root.iter("image")]
    assert all((ROOT / "docs" / "screenshots" / Path(s).name).exists() for s in shots)


@pytest.mark.parametrize("size", [16, 24, 32, 48, 64, 128, 256, 512])
def test_icons_in_every_size(size: int) -> None:
    path = (
        ROOT
        / "resources"
        / "icons"
        / "hicolor"
        / f"{size}x{size}"
        / "apps"
        / "seedance-desktop.png"
    )
    with Image.open(path) as icon:
        assert icon.size == (size, size) and icon.mode == "RGBA"


@pytest.mark.parametrize(
    ("tool", "target"),
    [("desktop-file-validate", DESKTOP), ("appstreamcli", METAINFO)],
)
def test_standard_validators_accept_the_files(tool: str, target: Path) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (scripts/bootstrap.sh installs it)")
    command = [tool, str(target)]
    if tool == "appstreamcli":
        command = [tool, "validate", "--no-net", str(target)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_version_is_single_sourced() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "seedance_desktop", "--version"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.stdout.strip() == f"seedance-desktop {seedance_desktop.__version__}"


@pytest.mark.slow
def test_wheel_and_sdist_install_the_command(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    for artifact in (wheel, sdist):
        venv = tmp_path / f"venv-{artifact.suffix}"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        # The dependencies come from this environment (no download); the package itself only
        # from the artifact, never from the source tree.
        purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
        site = subprocess.run(
            [str(venv / "bin" / "python"), "-c", purelib],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        Path(site, "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--no-deps", "-q",
             str(artifact)],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        result = subprocess.run(
            [str(venv / "bin" / "seedance-desktop"), "--version"],
            capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env,
        )  # fmt: skip
        assert result.stdout.strip() == f"seedance-desktop {seedance_desktop.__version__}", (
            result.stderr
        )
        located = subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import seedance_desktop, sys; "
             "print(seedance_desktop.__file__)"],
            capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env,
        ).stdout  # fmt: skip
        assert str(venv) in located, "the installed copy, not the source tree"
        icon = Path(located.strip()).parent / "resources" / "icon.svg"
        assert icon.exists(), "package data ships in the wheel"
