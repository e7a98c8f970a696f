"""When to try a call again, how long to wait first, and the one loop that does it.

`RetryPolicy` and the classification functions are pure rules (sleep, randomness and the clock are
injected, so they are testable without waiting); `send_with_retry` applies them to httpx requests.

Two kinds of call:
- IDEMPOTENT (status, result, download, token, upload, cancel): retried on transport errors, 408,
  409, 429 and 5xx. Cancel counts as idempotent: a second cancel of the same request changes
  nothing (it answers "already completed"/"not found" at worst), and a lost cancel is worse.
  Uploads are free and create a new file each time, so they are retried too.
- SUBMIT (costs money): resent only when it provably never reached fal (no connection was made)
  or fal explicitly refused it (429, 502, 503 or 504 without an x-fal-request-id header). Every
  submit answer falls in one of four outcomes (`submit_outcome`): accepted, resend, refused (fal
  said no; the person is told and nothing is resent) or unclear (408, any other 5xx, anything
  carrying a request id that is not a success, 1xx/3xx; and after the request may have been sent,
  a read timeout, a write error or a reset). Unclear is never resent.
Never retried: 401, 403, 422, and a 504 carrying `X-Fal-Request-Timeout-Type: user`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from enum import StrEnum

import httpx

from seedance_desktop.fal.errors import FalError, NetworkDown, SubmissionOutcomeUnknown

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 409, 429})
SUBMIT_REFUSED_STATUSES = frozenset({502, 503, 504})
NEVER_RETRY_STATUSES = frozenset({401, 403, 422})


class CallKind(StrEnum):
    IDEMPOTENT = "idempotent"
    SUBMIT = "submit"


class SubmitOutcome(StrEnum):
    """What a submit answer's status line and headers say about the request (see module doc)."""

    ACCEPTED = "accepted"  # 2xx: fal has it (whether its body can be read is checked after)
    RESEND = "resend"  # fal provably did not take it: sending it again cannot pay twice
    REFUSED = "refused"  # fal said no to this request; resending the same would change nothing
    UNCLEAR = "unclear"  # fal may have taken it: never resent by itself


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait for a Retry-After value (delta-seconds or HTTP date); None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN check
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def user_timeout(headers: Mapping[str, str]) -> bool:
    """A 504 caused by the caller's own X-Fal-Request-Timeout: retrying cannot help."""
    return headers.get("x-fal-request-timeout-type", "").strip().lower() == "user"


def status_is_retryable(status: int, headers: Mapping[str, str]) -> bool:
    """For idempotent calls (headers: a case-insensitive mapping such as httpx.Headers)."""
    if status in NEVER_RETRY_STATUSES:
        return False
    if status == 504 and user_timeout(headers):
        return False
    return status in RETRY_STATUSES or 500 <= status <= 599


def submit_outcome(status: int, headers: Mapping[str, str]) -> SubmitOutcome:
    """The outcome of a submit answer, from its status and headers (a case-insensitive mapping).

    A 504 from the caller's own start deadline (`X-Fal-Request-Timeout-Type: user`) is a refusal:
    fal says the request never started. Any other 4xx is fal saying no to the request itself,
    except 408 (a gateway's timeout, possibly after the body was passed on) and a 429 that names a
    request id (fal gave the request an id, so it may exist).
    """
    if 200 <= status <= 299:
        return SubmitOutcome.ACCEPTED
    has_id = "x-fal-request-id" in headers
    if status == 504 and user_timeout(headers):
        return SubmitOutcome.REFUSED
    if status in SUBMIT_REFUSED_STATUSES or status == 429:
        return SubmitOutcome.UNCLEAR if has_id else SubmitOutcome.RESEND
    if status == 408 or status >= 500 or status < 200 or 300 <= status <= 399:
        return SubmitOutcome.UNCLEAR
    return SubmitOutcome.REFUSED


def submit_status_is_retryable(status: int, headers: Mapping[str, str]) -> bool:
    """A submit answer that proves fal did not take the request."""
    return submit_outcome(status, headers) is SubmitOutcome.RESEND


def never_sent(exc: BaseException) -> bool:
    """True when the request provably never left this machine (no connection was established).

    httpx raises ConnectError for refused connections, DNS failures and TLS handshake failures;
    ConnectTimeout and PoolTimeout also happen before any byte of the request is written.
    """
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def exception_is_retryable(exc: BaseException) -> bool:
    """For idempotent calls: transport trouble that may go away by itself."""
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError | httpx.ProxyError):
        return False
    return isinstance(exc, httpx.TransportError)


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter, capped, honouring Retry-After."""

    max_attempts: int = 6
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    # Retry-After is honoured up to this; a longer wait is better handled by the caller's schedule.
    max_retry_after_s: float = 120.0
    sleep: Callable[[float], Awaitable[object]] = field(default=asyncio.sleep, repr=False)
    random: Callable[[], float] = field(default=random.random, repr=False)
    clock: Callable[[], float] = field(default=time.time, repr=False)

    def backoff_s(self, retry: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**(retry-1))] for retry n (1-based)."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0 ** max(0, retry - 1))
        return ceiling * self.random()

    def delay_s(self, retry: int, retry_after: str | None = None) -> float:
        honoured = parse_retry_after(retry_after, self.clock())
        if honoured is not None:
            return min(honoured, self.max_retry_after_s)
        return self.backoff_s(retry)

    def may_retry(self, attempt: int) -> bool:
        """Whether another attempt is allowed after `attempt` attempts (1-based) have failed."""
        return attempt < self.max_attempts

    def should_retry_status(self, kind: CallKind, status: int, headers: Mapping[str, str]) -> bool:
        if kind is CallKind.SUBMIT:
            return submit_status_is_retryable(status, headers)
        return status_is_retryable(status, headers)

    def should_retry_exception(self, kind: CallKind, exc: BaseException) -> bool:
        if kind is CallKind.SUBMIT:
            return never_sent(exc)
        return exception_is_retryable(exc)


def _is_dns_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return True
        current = current.__cause__ or current.__context__
    return False


def network_error(exc: BaseException) -> NetworkDown:
    """Our own error for an httpx transport failure. Built from fixed words only: httpx's message
    and request object are dropped, so nothing of the request (headers, key) can leak."""
    if isinstance(exc, httpx.ConnectError) and _is_dns_failure(exc):
        return NetworkDown(
            "Cannot find fal's server (the name lookup failed). Check the network connection.",
            reason="dns",
        )
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return NetworkDown("Cannot connect to fal. Check the network connection.", reason="connect")
    if isinstance(exc, httpx.TimeoutException):
        return NetworkDown("fal did not answer in time.", reason="timeout")
    if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError):
        return NetworkDown("The connection to fal was interrupted.", reason="reset")
    return NetworkDown(f"The connection to fal failed ({type(exc).__name__}).", reason="network")


def outcome_unknown(exc: BaseException) -> SubmissionOutcomeUnknown:
    if isinstance(exc, httpx.TimeoutException):
        why = "fal did not answer in time after the request was sent"
    else:
        why = "the connection broke after the request was sent"
    return SubmissionOutcomeUnknown(
        f"It is unknown whether fal accepted the request: {why}. "
        "Check your fal dashboard before submitting again."
    )


async def send_once(
    http: httpx.AsyncClient, request: httpx.Request, stream: bool, follow_redirects: bool
) -> httpx.Response | httpx.TransportError:
    """One send. A transport failure is returned, not raised, so that the error raised later is
    not chained to httpx's exception (which holds the request and its headers)."""
    try:
        return await http.send(request, stream=stream, follow_redirects=follow_redirects)
    except httpx.TransportError as exc:
        return exc


async def send_with_retry(
    http: httpx.AsyncClient,
    policy: RetryPolicy,
    kind: CallKind,
    build: Callable[[], httpx.Request],
    *,
    what: str,
    stream: bool = False,
    follow_redirects: bool = False,
    final: Callable[[httpx.Response], bool] | None = None,
) -> httpx.Response:
    """Send the request built by `build()` (called again for each attempt) under `policy`.

    Returns the last response, whatever its status: a success, one not to retry, or the last one
    when attempts ran out; the caller turns it into a result or a typed error. Transport failures
    raise NetworkDown, or SubmissionOutcomeUnknown for a submit that may have reached fal.
    `final(response)` marks answers that are the outcome itself and must not be retried (such as
    a model's recorded 503 on a result).
    """
    attempt = 0
    while True:
        attempt += 1
        outcome = await send_once(http, build(), stream, follow_redirects)
        if isinstance(outcome, httpx.Response):
            response = outcome
            if (
                response.is_success
                or (final is not None and final(response))
                or not policy.should_retry_status(kind, response.status_code, response.headers)
            ):
                return response
            if not policy.may_retry(attempt):
                return response
            retry_after = response.headers.get("retry-after")
            await response.aclose()
            delay = policy.delay_s(attempt, retry_after)
            log.info(
                "fal %s: HTTP %d, retry %d/%d in %.1f s",
                what,
                response.status_code,
                attempt,
                policy.max_attempts - 1,
                delay,
            )
            await policy.sleep(delay)
            continue
        failure = outcome
        if kind is CallKind.SUBMIT and not never_sent(failure):
            error: FalError = outcome_unknown(failure)
        elif policy.should_retry_exception(kind, failure) and policy.may_retry(attempt):
            delay = policy.delay_s(attempt)
            log.info(
                "fal %s: %s, retry %d/%d in %.1f s",
                what,
                type(failure).__name__,
                attempt,
                policy.max_attempts - 1,
                delay,
            )
            await policy.sleep(delay)
            continue
        else:
            error = network_error(failure)
        del failure, outcome
        raise error
