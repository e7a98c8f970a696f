"""Export names valid on every common file system, and library searches that never crash and
treat text without a word the same way every time."""

from __future__ import annotations

import json
import time
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from library_rows import library_row

from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.engine.database import Database
from seedance_desktop.engine.library import (
    ExportItem,
    Library,
    LibraryEntry,
    LibraryFilter,
    TemplateError,
    export_files,
    export_name,
)

WINDOWS_REFUSED = set('<>:"/\\|?*')
WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL"} | {
    f"{d}{n}" for d in ("COM", "LPT") for n in "123456789"
}


def entry(prompt: str, *, job_id: int = 1, seed: int | None = 7, path: Path | None = None):
    return LibraryEntry(
        job_id=job_id,
        uid=f"{job_id:032x}",
        path=path or Path(f"/nowhere/{job_id}.mp4"),
        thumbnail=None,
        created_at=time.mktime((2026, 12, 2, 10, 0, 0, 0, 0, -1)),
        mode=Mode.TEXT_TO_VIDEO,
        endpoint="bytedance/seedance-2.0/fast/text-to-video",
        prompt=prompt,
        input_json=json.dumps({"prompt": prompt, "resolution": "480p"}),
        shot_json="{}",
        seed=seed,
        cost_usd=None,
        request_id=None,
        timings_json="{}",
        width=None,
        height=None,
        duration_s=None,
        size_bytes=None,
        starred=False,
    )


def problems_on_some_system(file_name: str) -> list[str]:
    """Why a whole file name (extension included) would fail on Linux, Windows or macOS."""
    problems = []
    if len(file_name.encode("utf-8")) > 255:
        problems.append("longer than 255 bytes")
    if any(ch in WINDOWS_REFUSED for ch in file_name):
        problems.append("a character Windows refuses")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in file_name):
        problems.append("a control character")
    if file_name != file_name.rstrip(" ."):
        problems.append("a trailing dot or space")
    if file_name.split(".", 1)[0].rstrip(" ").upper() in WINDOWS_DEVICES:
        problems.append("a Windows device name")
    if file_name.startswith("."):
        problems.append("hidden on macOS and Linux")
    return problems


def all_written_names(stem: str) -> list[str]:
    """Every name the export may write for this stem: the video and the sidecar, with the
    longest counter it may add."""
    return [f"{s}{ext}" for s in (stem, f"{stem} (9999)") for ext in (".mp4", ".json")]


def test_a_long_japanese_prompt_exports(tmp_path: Path) -> None:
    prompt = "夕焼けの海辺を白い犬がゆっくり走り、波が足元で砕ける。" * 20
    source = tmp_path / "video.mp4"
    source.write_bytes(b"not really a video")
    item = entry(prompt, path=source)
    name = export_name(item)
    assert name.startswith("2026-12-02_text-to-video_7_夕焼けの海辺を白い犬が")
    for whole in all_written_names(name):
        assert problems_on_some_system(whole) == []
    written = export_files([ExportItem(source, name, {"prompt": prompt})] * 2, tmp_path / "out")
    assert [p.read_bytes() for p in written] == [b"not really a video"] * 2
    assert written[1].name == f"{name} (2).mp4"
    assert written[0].with_suffix(".json").exists()


@pytest.mark.parametrize(
    "template",
    ["con", "CON", "nul", "Nul.tar", "AUX ", "prn..", "com1", "LPT9", "lpt1.{seed}", "con:{seed}"],
)
def test_windows_device_names_are_never_written(template: str) -> None:
    name = export_name(entry("A fox"), template)
    for whole in all_written_names(name):
        assert problems_on_some_system(whole) == [], whole


@pytest.mark.parametrize(
    ("template", "prompt"),
    [
        ("{prompt}...", "A fox"),
        ("{prompt} . . ", "A fox"),
        ('a:b|c<d>e?f*g"h\\i/j_{seed}', "A fox"),
        ("bell\x07del\x7fnext\x85{seed}", "A fox"),
        ("invoice\u202ekcod.exe_{seed}", "A fox"),
        ("...{prompt}", "A fox"),
        ("{prompt}", "。。。"),
    ],
)
def test_refused_characters_and_trailing_dots_are_cleaned(template: str, prompt: str) -> None:
    name = export_name(entry(prompt), template)
    assert name
    for whole in all_written_names(name):
        assert problems_on_some_system(whole) == [], whole


def test_the_byte_cap_never_cuts_a_character() -> None:
    # 4-byte characters: a cap at a byte count that is not a multiple of 4 must drop the whole
    # last character, never leave part of it.
    name = export_name(entry("𝒜" * 300), "{prompt}")
    assert set(name) == {"𝒜"}
    assert len(name.encode("utf-8")) <= 255 - len(" (9999).json")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    template=st.lists(
        st.one_of(
            st.text(max_size=40),
            st.sampled_from(["{date}", "{time}", "{mode}", "{tier}", "{seed}", "{prompt}"]),
            st.sampled_from(["{id}", "{resolution}", "CON", "nul.", ":", " ", ".", "{", "}"]),
        ),
        max_size=8,
    ).map("".join),
    prompt=st.text(max_size=400),
    seed=st.one_of(st.none(), st.integers(min_value=0, max_value=2**32)),
)
def test_any_template_makes_a_valid_name(template: str, prompt: str, seed: int | None) -> None:
    try:
        name = export_name(entry(prompt, seed=seed), template)
    except TemplateError:
        return
    assert name
    for whole in all_written_names(name):
        assert problems_on_some_system(whole) == [], (whole, template, prompt)


# --- search -------------------------------------------------------------------------------------

PROMPTS = {
    1: "A red fox runs through fresh snow",
    2: "An owl at dusk, don't blink",
    3: "Tokyo at night: neon (rain) and fox-masks",
}


@pytest.fixture
def library(tmp_path: Path):
    db = Database.open(tmp_path / "library.sqlite3")
    library = Library(db)
    with db.transaction() as tx:
        for job_id, prompt in PROMPTS.items():
            library.add(tx, library_row(job_id, prompt))
    yield library
    db.close()


def found(library: Library, text: str) -> list[int]:
    return sorted(e.job_id for e in library.list(LibraryFilter(search=text)))


PUNCTUATION_ONLY = [
    '"',
    "*",
    "(",
    ")",
    "-",
    "^",
    ":",
    "+",
    "_",
    '""',
    '"*(-',
    "—",
    "…",
    "'",
    "、。",
]


@pytest.mark.parametrize("text", PUNCTUATION_ONLY)
def test_a_search_of_only_punctuation_finds_nothing(library: Library, text: str) -> None:
    assert found(library, text) == []


@pytest.mark.parametrize("text", ["", "   "])
def test_a_blank_search_is_no_filter(library: Library, text: str) -> None:
    assert found(library, text) == [1, 2, 3]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fox", [1, 3]),
        ("fox-masks", [3]),
        ("fox_masks", [3]),
        ("(rain)", [3]),
        ('"neon', [3]),
        ("ne*on", []),
        ("don't", [2]),
        ("night:", [3]),
        ("NEAR(fox", []),
        ("fox AND snow", []),
        ("red OR owl", []),
        ("NOT owl", []),
        ("^owl", [2]),
        ("owl-", [2]),
        ("-owl", [2]),
    ],
)
def test_punctuation_inside_words_never_breaks_the_query(
    library: Library, text: str, expected: list[int]
) -> None:
    assert found(library, text) == expected


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=30))
def test_any_search_text_runs(library: Library, text: str) -> None:
    result = found(library, text)
    if not text.strip():
        assert result == [1, 2, 3]
    assert set(result) <= {1, 2, 3}
