"""Every way a submit can end, as one table: resent by itself (fal provably never had it), refused
(fal said no: which typed error), or unclear (fal may have it: SubmissionOutcomeUnknown, never
resent, with the request id when fal named one). Runs FalClient.submit over httpx's MockTransport
(httpx's own test transport), so each status line and transport failure is exact."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from seedance_desktop.fal import (
    AccessDenied,
    BalanceExhausted,
    FalClient,
    FalConfig,
    FalError,
    InvalidKey,
    RateLimited,
    RequestRefused,
    RetryPolicy,
    ServiceError,
    SubmissionOutcomeUnknown,
    ValidationFailed,
)

SECRET = "table-key-id:table-very-secret-value"
QUEUE = "https://queue.example.test"
MODEL = "bytedance/seedance-2.0/text-to-video"
ACCEPTED_ID = "req-accepted"
RID = "req-from-header"

Answer = Callable[[httpx.Request], httpx.Response]


def answer(
    status: int, body: object = None, *, request_id: str | None = None, **headers: str
) -> Answer:
    sent = {k.replace("_", "-"): v for k, v in headers.items()}
    if request_id is not None:
        sent["x-fal-request-id"] = request_id

    def respond(request: httpx.Request) -> httpx.Response:
        if isinstance(body, bytes):
            return httpx.Response(status, headers=sent, content=body)
        return httpx.Response(status, headers=sent, json=body or {"detail": f"HTTP {status}"})

    return respond


def transport_error(exc_type: type[httpx.TransportError]) -> Answer:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exc_type(f"boom {request.headers.get('authorization')}", request=request)

    return fail


ACCEPT = answer(
    200,
    {
        "request_id": ACCEPTED_ID,
        "status_url": f"{QUEUE}/bytedance/seedance-2.0/requests/{ACCEPTED_ID}/status",
        "response_url": f"{QUEUE}/bytedance/seedance-2.0/requests/{ACCEPTED_ID}",
        "cancel_url": f"{QUEUE}/bytedance/seedance-2.0/requests/{ACCEPTED_ID}/cancel",
        "status": "IN_QUEUE",
    },
)


@dataclass(frozen=True)
class Row:
    first: Answer
    outcome: str  # "resent" | "refused" | "unclear" | "accepted"
    error: type[FalError] | None = None
    request_id: str | None = None


ROWS: dict[str, Row] = {
    "202 readable": Row(answer(202, json.loads(ACCEPT(httpx.Request("GET", QUEUE)).content)),
                        "accepted"),
    "200 not json, with id": Row(answer(200, b"<html>ok</html>", request_id=RID), "unclear",
                                 SubmissionOutcomeUnknown, RID),
    "201 json without request_id": Row(answer(201, {"status": "IN_QUEUE"}), "unclear",
                                       SubmissionOutcomeUnknown),
    "200 with only a request_id": Row(answer(200, {"request_id": "req-body", "status_url": 7}),
                                   "accepted"),
    "302 redirect": Row(answer(302, b"", location="https://elsewhere.test/"), "unclear",
                        SubmissionOutcomeUnknown),
    "400": Row(answer(400), "refused", RequestRefused),
    "401": Row(answer(401, {"detail": "No user found for Key ID and Secret"}), "refused",
               InvalidKey),
    "403": Row(answer(403, {"detail": "Forbidden"}), "refused", AccessDenied),
    "403 locked": Row(answer(403, {"detail": "User is locked. Exhausted balance."}), "refused",
                      BalanceExhausted),
    "404": Row(answer(404, request_id=RID), "refused", RequestRefused, RID),
    "408 with id": Row(answer(408, request_id=RID), "unclear", SubmissionOutcomeUnknown, RID),
    "408 without id": Row(answer(408), "unclear", SubmissionOutcomeUnknown),
    "409": Row(answer(409), "refused", RequestRefused),
    "422": Row(answer(422, {"detail": [{"loc": ["body", "prompt"], "msg": "too long",
                                        "type": "value_error"}]}), "refused", ValidationFailed),
    "429 without id": Row(answer(429, retry_after="0"), "resent"),
    "429 with id": Row(answer(429, request_id=RID), "unclear", SubmissionOutcomeUnknown, RID),
    "500 without id": Row(answer(500), "unclear", SubmissionOutcomeUnknown),
    "500 with id": Row(answer(500, request_id=RID), "unclear", SubmissionOutcomeUnknown, RID),
    "502 without id": Row(answer(502), "resent"),
    "503 without id": Row(answer(503), "resent"),
    "504 without id": Row(answer(504), "resent"),
    "502 with id": Row(answer(502, request_id=RID), "unclear", SubmissionOutcomeUnknown, RID),
    "503 with id": Row(answer(503, request_id=RID), "unclear", SubmissionOutcomeUnknown, RID),
    "504 with id": Row(answer(504, request_id=RID), "unclear", SubmissionOutcomeUnknown, RID),
    "504 user timeout": Row(answer(504, request_id=RID, x_fal_request_timeout_type="user"),
                            "refused", ServiceError, RID),
    "connect error": Row(transport_error(httpx.ConnectError), "resent"),
    "connect timeout": Row(transport_error(httpx.ConnectTimeout), "resent"),
    "pool timeout": Row(transport_error(httpx.PoolTimeout), "resent"),
    "read timeout": Row(transport_error(httpx.ReadTimeout), "unclear", SubmissionOutcomeUnknown),
    "write error": Row(transport_error(httpx.WriteError), "unclear", SubmissionOutcomeUnknown),
    "write timeout": Row(transport_error(httpx.WriteTimeout), "unclear", SubmissionOutcomeUnknown),
    "remote protocol error": Row(transport_error(httpx.RemoteProtocolError), "unclear",
                                 SubmissionOutcomeUnknown),
    "reset": Row(transport_error(httpx.ReadError), "unclear", SubmissionOutcomeUnknown),
}  # fmt: skip


def client_answering(answers: list[Answer], max_attempts: int = 4) -> tuple[FalClient, list[int]]:
    sent: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(1)
        return answers[min(len(sent), len(answers)) - 1](request)

    async def no_sleep(seconds: float) -> None:
        pass

    config = FalConfig(queue_url=QUEUE, rest_url=QUEUE, cdn_url=QUEUE).with_key(SECRET)
    policy = RetryPolicy(sleep=no_sleep, max_attempts=max_attempts)
    return FalClient(config, retry=policy, transport=httpx.MockTransport(handler)), sent


@pytest.mark.parametrize("name", list(ROWS))
async def test_every_submit_answer_is_resent_refused_or_unclear(name: str) -> None:
    row = ROWS[name]
    client, sent = client_answering([row.first, ACCEPT])
    async with client:
        if row.error is None:
            handle = await client.submit(MODEL, {"prompt": "a fox"})
            assert handle.request_id in (ACCEPTED_ID, "req-body")
            assert len(sent) == (2 if row.outcome == "resent" else 1)
            return
        with pytest.raises(FalError) as info:
            await client.submit(MODEL, {"prompt": "a fox"})
    error = info.value
    assert type(error) is row.error, f"{name}: {type(error).__name__}: {error}"
    assert len(sent) == 1, f"{name} was sent {len(sent)} times"
    assert error.request_id == row.request_id
    assert not error.retryable or row.outcome == "refused"
    assert SECRET not in str(error) and "boom" not in str(error)
    assert "\n" not in str(error)


def test_the_table_covers_every_outcome() -> None:
    assert {row.outcome for row in ROWS.values()} == {"accepted", "resent", "refused", "unclear"}


@pytest.mark.parametrize(
    ("first", "error"),
    [(answer(503), ServiceError), (answer(429, retry_after="0"), RateLimited)],
)
async def test_refusals_that_never_stop_end_as_a_retryable_error_not_unclear(
    first: Answer, error: type[FalError]
) -> None:
    """fal provably never took it: the engine may queue it again later (nothing can be paid)."""
    client, sent = client_answering([first], max_attempts=3)
    async with client:
        with pytest.raises(error) as info:
            await client.submit(MODEL, {"prompt": "a fox"})
    assert len(sent) == 3 and info.value.retryable


async def test_a_user_start_deadline_is_not_retryable() -> None:
    client, _ = client_answering(
        [answer(504, request_id=RID, x_fal_request_timeout_type="user"), ACCEPT]
    )
    async with client:
        with pytest.raises(ServiceError) as info:
            await client.submit(MODEL, {"prompt": "a fox"})
    assert not info.value.retryable and "start deadline" in info.value.message
