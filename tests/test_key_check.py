"""The "Test key" check asks fal: a real local HTTP server stands in for fal (through the
SEEDANCE_FAL_* bases), never the simulator the app may be running on, and an unreachable fal
is said plainly."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from fal_stand_in import BASES, GOOD_KEY, StandInFal

from seedance_desktop.backend import check_key, key_check_config
from seedance_desktop.fal.config import DEFAULT_QUEUE_URL, DEFAULT_REST_URL


@pytest.fixture
def stand_in_fal(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandInFal]:
    fal = StandInFal()
    for name in BASES:
        monkeypatch.setenv(name, fal.url)
    yield fal
    fal.close()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there any more


def test_the_key_is_checked_against_fal_s_own_bases_by_default() -> None:
    config = key_check_config(GOOD_KEY, env={})
    assert (config.queue_url, config.rest_url) == (DEFAULT_QUEUE_URL, DEFAULT_REST_URL)


async def test_a_key_fal_accepts_works_and_one_it_refuses_does_not(stand_in_fal) -> None:
    assert await check_key(key_check_config(GOOD_KEY)) == (True, "The key works.")
    ok, message = await check_key(key_check_config("bad-id:bad-secret"))
    assert not ok and "did not accept" in message and "bad-secret" not in message
    assert [path for path, _ in stand_in_fal.requests] == [
        "/storage/auth/token?storage_type=fal-cdn-v3"
    ] * 2


async def test_an_unreachable_fal_is_said_and_never_works(monkeypatch) -> None:
    url = closed_port_url()
    for name in BASES:
        monkeypatch.setenv(name, url)
    ok, message = await check_key(key_check_config(GOOD_KEY))
    assert not ok
    assert message.startswith("Can't check the key: offline")


async def test_an_answer_that_is_not_fal_s_never_says_works(monkeypatch) -> None:
    """A server that answers 404 (not fal's storage) is a problem to report, not a working
    key."""
    fal = StandInFal()
    try:
        for name in BASES:
            monkeypatch.setenv(name, fal.url + "/elsewhere")
        ok, message = await check_key(key_check_config(GOOD_KEY))
    finally:
        fal.close()
    assert not ok and message.startswith("Can't check the key")
