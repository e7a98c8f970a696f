"""Where fal lives, which key to use, and the origin rules that keep the key at home.

The key is wrapped in `FalKey`, whose repr/str never show it. The Key header may only go to the
configured queue and REST origins (scheme + host + port); `FalConfig.key_allowed()` is the one place
that decides that.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import NoReturn

import httpx

DEFAULT_QUEUE_URL = "https://queue.fal.run"
DEFAULT_REST_URL = "https://rest.fal.ai"
DEFAULT_CDN_URL = "https://v3.fal.media"

ENV_KEY = "FAL_KEY"
ENV_QUEUE_URL = "SEEDANCE_FAL_QUEUE_URL"
ENV_REST_URL = "SEEDANCE_FAL_REST_URL"
ENV_CDN_URL = "SEEDANCE_FAL_CDN_URL"

REDACTED = "<fal key redacted>"
_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


class FalKey:
    """A fal API key (`key_id:key_secret`) that never shows in repr, str, f-strings or pickles."""

    __slots__ = ("_secret",)

    def __init__(self, secret: str) -> None:
        secret = secret.strip()
        if not secret:
            raise ValueError("The fal key is empty.")
        # A key goes into a header: refuse anything that could split or corrupt one.
        if any(not (0x21 <= ord(ch) <= 0x7E) for ch in secret):
            raise ValueError("The fal key contains characters a key cannot have.")
        self._secret = secret

    def reveal(self) -> str:
        """The raw key. Only the HTTP layer should call this."""
        return self._secret

    @property
    def authorization(self) -> str:
        """The value of the `Authorization` header for queue and REST calls."""
        return f"Key {self._secret}"

    def __repr__(self) -> str:
        return f"FalKey({REDACTED!r})"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FalKey):
            return NotImplemented
        return hmac.compare_digest(self._secret.encode(), other._secret.encode())

    __hash__ = None  # type: ignore[assignment]  # unhashable on purpose: typeshed wants a method

    def __reduce__(self) -> NoReturn:
        raise TypeError("A FalKey cannot be pickled.")


def origin_of(url: str | httpx.URL) -> Origin:
    """(scheme, host, port) of an absolute http(s) URL, with default ports filled in.

    Raises ValueError for anything else, including URLs with user info (`https://a@b/`), which
    could make a URL look like one host while pointing at another.
    """
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError("not a valid URL") from exc
    scheme = parsed.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError("only http and https URLs are allowed")
    if not parsed.host:
        raise ValueError("the URL has no host")
    if parsed.userinfo:
        raise ValueError("URLs with user info are not allowed")
    port = parsed.port if parsed.port is not None else _DEFAULT_PORTS[scheme]
    return scheme, parsed.host.lower().rstrip("."), port


def same_origin(a: str | httpx.URL, b: str | httpx.URL) -> bool:
    try:
        return origin_of(a) == origin_of(b)
    except ValueError:
        return False


def _key_from(value: str | FalKey | None) -> FalKey | None:
    if value is None or isinstance(value, FalKey):
        return value
    return FalKey(value) if value.strip() else None


@dataclass(frozen=True)
class FalConfig:
    """Everything the fal client needs to know. Build it with `from_env()` in the app."""

    key: FalKey | None = None
    queue_url: str = DEFAULT_QUEUE_URL
    rest_url: str = DEFAULT_REST_URL
    cdn_url: str = DEFAULT_CDN_URL
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0
    write_timeout_s: float = 120.0
    pool_timeout_s: float = 30.0
    # fal sends an SSE keep-alive comment at least every 15 s; three missed ones mean a dead stream.
    stream_read_timeout_s: float = 45.0
    max_connections: int = 16
    max_keepalive_connections: int = 8
    # Below common server idle timeouts (uvicorn: 5 s), so a submit rarely meets a connection the
    # server is closing at that moment (which would make its outcome unknown).
    keepalive_expiry_s: float = 4.0
    max_download_bytes: int = 2 * 1024**3
    poll_interval_s: float = 2.0
    poll_max_interval_s: float = 10.0
    use_stream: bool = True
    # A status or result answer that cannot be read is asked for again this many times in all,
    # poll_interval_s apart and doubling up to poll_max_interval_s, before it counts as an error.
    unreadable_attempts: int = 5
    trust_env: bool = True  # honour HTTPS_PROXY / SSL_CERT_FILE from the environment

    def __post_init__(self) -> None:
        for name in ("queue_url", "rest_url", "cdn_url"):
            value = getattr(self, name).rstrip("/")
            try:
                origin_of(value)
            except ValueError as exc:
                raise ValueError(f"{name} is not usable: {exc}") from None
            object.__setattr__(self, name, value)

    @classmethod
    def from_env(
        cls,
        key: str | FalKey | None = None,
        env: Mapping[str, str] | None = None,
        **overrides: object,
    ) -> FalConfig:
        """Key from the caller (the stored setting) or else FAL_KEY; bases from SEEDANCE_FAL_*."""
        env = os.environ if env is None else env
        chosen = _key_from(key) or _key_from(env.get(ENV_KEY))
        values: dict[str, object] = {
            "key": chosen,
            "queue_url": env.get(ENV_QUEUE_URL) or DEFAULT_QUEUE_URL,
            "rest_url": env.get(ENV_REST_URL) or DEFAULT_REST_URL,
            "cdn_url": env.get(ENV_CDN_URL) or DEFAULT_CDN_URL,
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]  # keyword overrides of known fields

    def with_key(self, key: str | FalKey | None) -> FalConfig:
        return replace(self, key=_key_from(key))

    @property
    def key_origins(self) -> frozenset[Origin]:
        return frozenset({origin_of(self.queue_url), origin_of(self.rest_url)})

    def key_allowed(self, url: str | httpx.URL) -> bool:
        """True only when `url` is on the configured queue or REST origin."""
        try:
            return origin_of(url) in self.key_origins
        except ValueError:
            return False

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_timeout_s,
            read=self.read_timeout_s,
            write=self.write_timeout_s,
            pool=self.pool_timeout_s,
        )

    def limits(self) -> httpx.Limits:
        return httpx.Limits(
            max_connections=self.max_connections,
            max_keepalive_connections=self.max_keepalive_connections,
            keepalive_expiry=self.keepalive_expiry_s,
        )
