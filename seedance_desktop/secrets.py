"""The fal key: from FAL_KEY, or the system keychain through keyring, or nowhere.

keyring raises NoKeyringError on every call where no secret service runs; that is reported as a
plain status, never a crash. The plain-text `keyrings.alt` backends are refused: a key is kept in a
real keychain or only for this session.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass

log = logging.getLogger(__name__)

SERVICE = "seedance-desktop"
ACCOUNT = "fal-api-key"
ENV_KEY = "FAL_KEY"


@dataclass(frozen=True)
class KeyLookup:
    key: str | None
    source: str  # "environment", "keychain", "session", "none"
    keychain_message: str | None = None  # why the keychain could not be used, if it could not


_session_key: str | None = None


def _backend_problem() -> str | None:
    try:
        import keyring
        from keyring.backends import fail
    except Exception as exc:  # pragma: no cover - keyring is a dependency
        return f"keyring is not available ({type(exc).__name__})"
    backend = keyring.get_keyring()
    name = type(backend).__module__
    if isinstance(backend, fail.Keyring):
        return "No system keychain was found on this computer."
    if name.startswith("keyrings.alt"):
        return "Only a plain-text keychain is available, which Seedance Desktop does not use."
    return None


def load_key() -> KeyLookup:
    env = os.environ.get(ENV_KEY, "").strip()
    if env:
        return KeyLookup(env, "environment")
    if _session_key:
        return KeyLookup(_session_key, "session")
    problem = _backend_problem()
    if problem:
        return KeyLookup(None, "none", problem)
    import keyring
    from keyring.errors import KeyringError

    try:
        stored = keyring.get_password(SERVICE, ACCOUNT)
    except KeyringError as exc:
        return KeyLookup(
            None, "none", f"The system keychain could not be read ({type(exc).__name__})."
        )
    return KeyLookup(stored, "keychain") if stored else KeyLookup(None, "none")


def store_key(key: str, *, session_only: bool = False) -> KeyLookup:
    """Keep the key in the keychain, or for this session only when asked or when there is none."""
    global _session_key
    key = key.strip()
    if session_only:
        _session_key = key
        return KeyLookup(key, "session")
    problem = _backend_problem()
    if problem:
        return KeyLookup(None, "none", problem)
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(SERVICE, ACCOUNT, key)
    except KeyringError as exc:
        return KeyLookup(
            None, "none", f"The system keychain refused the key ({type(exc).__name__})."
        )
    return KeyLookup(key, "keychain")


def forget_key() -> None:
    global _session_key
    _session_key = None
    if _backend_problem():
        return
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    with contextlib.suppress(PasswordDeleteError, KeyringError):
        keyring.delete_password(SERVICE, ACCOUNT)


def masked(key: str | None) -> str:
    """What the UI shows of a key: never the secret half."""
    if not key:
        return "no key"
    key_id = key.split(":", 1)[0]
    return f"{key_id[:4]}…{key_id[-2:]}" if len(key_id) > 8 else "••••"
