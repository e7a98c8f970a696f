"""Typed errors a UI can act on, each with a short message for a person.

Messages are built here from fixed words plus what fal says for the person (`msg`, `detail`); they
never include request headers, so they never include the key. `retryable` answers "could the same
call succeed later without anyone changing anything?".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from seedance_desktop.domain.text import printable

_MAX_TEXT = 300


def _short(text: str, limit: int = _MAX_TEXT) -> str:
    """One printable line: messages often carry fal's own words (see domain.text.printable)."""
    text = " ".join(printable(text, keep_newlines=False).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class FalError(Exception):
    """Base of every error the fal layer raises."""

    default_message: ClassVar[str] = "Something went wrong while talking to fal."
    retryable: bool = False

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        self.message = _short(message) if message else self.default_message
        self.status = status
        self.request_id = request_id
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class InvalidKey(FalError):
    default_message = "fal did not accept the API key. Check the key in Settings."


class BalanceExhausted(FalError):
    default_message = (
        "Your fal account is locked, usually because the balance is used up. "
        "Top it up on fal.ai, then try again."
    )


class AccessDenied(FalError):
    default_message = "fal refused access to this model for this key."


@dataclass(frozen=True)
class ErrorDetail:
    """One item of a 422 `detail` list, as fal/pydantic write it. Show `msg`; never parse it."""

    loc: tuple[str | int, ...]
    msg: str
    type: str
    url: str | None = None
    ctx: Mapping[str, object] | None = None
    input: object = None

    @property
    def field(self) -> str | None:
        """The payload field the problem belongs to (`loc` without the leading "body")."""
        parts = [p for p in self.loc if p != "body"]
        return str(parts[0]) if parts else None

    @classmethod
    def from_json(cls, item: object) -> ErrorDetail:
        if not isinstance(item, Mapping):
            return cls(loc=(), msg=_short(str(item)), type="")
        raw_loc = item.get("loc")
        loc_items = raw_loc if isinstance(raw_loc, list | tuple) else ()
        loc = tuple(p if isinstance(p, int) else str(p) for p in loc_items)
        ctx = item.get("ctx")
        url = item.get("url")
        return cls(
            loc=loc,
            msg=_short(str(item.get("msg") or "")),
            type=_short(str(item.get("type") or ""), 80),
            url=url if isinstance(url, str) else None,
            ctx=ctx if isinstance(ctx, Mapping) else None,
            input=item.get("input"),
        )


class ValidationFailed(FalError):
    """A 422: the model refused the input. `details` says which field and why."""

    default_message = "The model refused the input."

    def __init__(
        self,
        details: tuple[ErrorDetail, ...] = (),
        *,
        message: str | None = None,
        status: int | None = 422,
        request_id: str | None = None,
    ) -> None:
        self.details = tuple(details)
        if message is None:
            msgs = [d.msg for d in self.details if d.msg]
            message = "; ".join(msgs) if msgs else None
        super().__init__(message, status=status, request_id=request_id)


class ContentPolicy(ValidationFailed):
    """A 422 whose type is content_policy_violation. Catch it before ValidationFailed."""

    default_message = "The request was refused by the content policy."


class RateLimited(FalError):
    default_message = "fal is limiting how fast requests can be sent. Trying again shortly."
    retryable = True

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: float | None = None,
        request_id: str | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, status=429, request_id=request_id)


class ServiceError(FalError):
    """fal or the model's machine failed. `error_type` is fal's key (runner_disconnected, …)."""

    default_message = "fal had a problem on its side."

    def __init__(
        self,
        message: str | None = None,
        *,
        retryable: bool = True,
        error_type: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        self.retryable = retryable
        self.error_type = error_type
        super().__init__(message, status=status, request_id=request_id)


class NetworkDown(FalError):
    """A transport failure: no connection, DNS failure, reset, timeout. `reason` says which."""

    default_message = "Cannot reach fal. Check the network connection."
    retryable = True

    def __init__(
        self, message: str | None = None, *, reason: str = "network", request_id: str | None = None
    ) -> None:
        self.reason = reason
        super().__init__(message, request_id=request_id)


Offline = NetworkDown


class ResultExpired(FalError):
    default_message = "The result is no longer available on fal (it expired or was removed)."


class RequestCancelled(FalError):
    default_message = "The request was cancelled."


class SubmissionOutcomeUnknown(FalError):
    """The submit may or may not have reached fal. Never resend it automatically."""

    default_message = (
        "The connection failed after the request was sent, so it is unknown whether fal accepted "
        "it. Check your fal dashboard before submitting again."
    )


class RequestRefused(FalError):
    """fal answered a submit with a refusal of the request itself (400, 404, 409, …): it was not
    queued, and sending the same request again would be refused the same way."""

    default_message = "fal refused the request."


class UnsafeUrl(FalError):
    """A URL from a response points at an origin the key must not go to (or is not http(s))."""

    default_message = "fal answered with a link to an unexpected address; it was not followed."

    def __init__(
        self, message: str | None = None, *, host: str | None = None, request_id: str | None = None
    ) -> None:
        self.host = host
        super().__init__(message, request_id=request_id)


class UnexpectedResponse(FalError):
    default_message = "fal gave an answer this app does not understand."


class UnreadableAnswer(UnexpectedResponse):
    """A status or result answer that cannot be read (not JSON, or not the expected shape). The
    next answer may well be fine: the client asks again a few times before raising this."""

    default_message = "fal's answer could not be read."


class DownloadFailed(FalError):
    """The downloaded file is not what was announced (size), too large, or could not be fetched."""

    default_message = "The video could not be downloaded completely."
    retryable = True


class LocalFileError(FalError):
    default_message = "A local file could not be read or written."


class DiskFull(LocalFileError):
    default_message = "The disk is full. Free some space, then download again."


def _detail_text(body: object) -> str | None:
    if isinstance(body, Mapping):
        detail = body.get("detail")
        if isinstance(detail, str):
            return detail
    return None


def submit_refusal(
    status: int, headers: Mapping[str, str], body: object, *, request_id: str | None = None
) -> FalError:
    """The typed error for a submit fal refused outright (see retry.submit_outcome)."""
    if status in (401, 403, 422):
        return error_for_response(status, headers, body, request_id=request_id)
    detail = _detail_text(body)
    if status == 504:  # the caller's own start deadline passed before the request could start
        return ServiceError(
            "fal could not start the request before its start deadline; it did not run."
            + (f" {detail}" if detail else ""),
            retryable=False,
            error_type=_error_type(headers, body),
            status=status,
            request_id=request_id,
        )
    what = "this model" if status == 404 else "the request"
    return RequestRefused(
        f"fal refused {what} (HTTP {status})." + (f" {detail}" if detail else ""),
        status=status,
        request_id=request_id,
    )


def _error_type(headers: Mapping[str, str], body: object) -> str | None:
    value = headers.get("x-fal-error-type")
    if value:
        return _short(value, 80)
    if isinstance(body, Mapping) and isinstance(body.get("error_type"), str):
        return _short(str(body["error_type"]), 80)
    return None


# Infrastructure error types after which a new submit of the same input could well succeed.
_RETRYABLE_TYPES = frozenset(
    {
        "runner_scheduling_failure",
        "runner_connection_timeout",
        "runner_disconnected",
        "runner_server_error",
        "startup_timeout",
        "internal_error",
    }
)


def parse_body(content: bytes) -> object:
    """The JSON body, or None when it is not JSON."""
    try:
        return json.loads(content) if content else None
    except ValueError:
        return None


def error_for_response(
    status: int,
    headers: Mapping[str, str],
    body: object,
    *,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> FalError:
    """The typed error for an unsuccessful answer (headers: a case-insensitive mapping)."""
    detail = _detail_text(body)
    if status == 401:
        return InvalidKey(status=401, request_id=request_id)
    if status == 403:
        if detail and detail.startswith("User is locked"):
            return BalanceExhausted(status=403, request_id=request_id)
        return AccessDenied(status=403, request_id=request_id)
    if status == 422:
        return _unprocessable(body, detail, request_id)
    if status == 429:
        return RateLimited(retry_after=retry_after, request_id=request_id)
    if status in (404, 410):
        return ResultExpired(status=status, request_id=request_id)
    if status == 499:
        return RequestCancelled(status=499, request_id=request_id)
    if status >= 500 or status == 408:
        error_type = _error_type(headers, body)
        retryable = _retryable(status, headers, error_type)
        message = f"fal had a problem on its side ({error_type or status})."
        if detail:
            message = f"{message} {detail}"
        return ServiceError(
            message,
            retryable=retryable,
            error_type=error_type,
            status=status,
            request_id=request_id,
        )
    return UnexpectedResponse(
        f"fal answered with HTTP {status}." + (f" {detail}" if detail else ""),
        status=status,
        request_id=request_id,
    )


def _retryable(status: int, headers: Mapping[str, str], error_type: str | None) -> bool:
    explicit = headers.get("x-fal-retryable")
    if explicit is not None:
        return explicit.strip().lower() == "true"
    if headers.get("x-fal-request-timeout-type", "").lower() == "user":
        return False
    if error_type is not None:
        return error_type in _RETRYABLE_TYPES or error_type == "request_timeout"
    return True


def _unprocessable(body: object, detail: str | None, request_id: str | None) -> ValidationFailed:
    raw = body.get("detail") if isinstance(body, Mapping) else None
    items = raw if isinstance(raw, list) else []
    details = tuple(ErrorDetail.from_json(item) for item in items)
    if detail is not None:
        details = (ErrorDetail(loc=(), msg=_short(detail), type=""),)
    policy = any(d.type == "content_policy_violation" for d in details)
    cls = ContentPolicy if policy else ValidationFailed
    return cls(details, request_id=request_id)
