"""Unit tests of the fal layer's pure parts: retry rules, Retry-After, SSE parsing, origins, file
names, key redaction, error mapping, handles and statuses. The retry loop runs over httpx's
MockTransport (httpx's own test transport; nothing of ours is replaced)."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from seedance_desktop.fal import (
    AccessDenied,
    BalanceExhausted,
    CallKind,
    ContentPolicy,
    FalConfig,
    FalKey,
    Handle,
    InvalidKey,
    NetworkDown,
    RateLimited,
    RequestCancelled,
    ResultExpired,
    RetryPolicy,
    ServiceError,
    State,
    Status,
    SubmissionOutcomeUnknown,
    UnexpectedResponse,
    ValidationFailed,
    app_id,
    origin_of,
    parse_retry_after,
    safe_file_name,
)
from seedance_desktop.fal.client import LogLine, _LogBook
from seedance_desktop.fal.errors import error_for_response
from seedance_desktop.fal.retry import (
    network_error,
    never_sent,
    send_with_retry,
    status_is_retryable,
    submit_status_is_retryable,
)
from seedance_desktop.fal.sse import SSEParser

SECRET = "unit-key-id:unit-very-secret-value"


def recording_policy(**kw: object) -> tuple[RetryPolicy, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return RetryPolicy(sleep=sleep, random=lambda: 1.0, **kw), slept  # type: ignore[arg-type]


# --- backoff and Retry-After -----------------------------------------------------------------


def test_backoff_is_exponential_capped_and_fully_jittered() -> None:
    top = RetryPolicy(base_delay_s=0.5, max_delay_s=30.0, random=lambda: 1.0)
    assert [top.backoff_s(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    bottom = RetryPolicy(random=lambda: 0.0)
    assert bottom.backoff_s(5) == 0.0
    middle = RetryPolicy(base_delay_s=1.0, random=lambda: 0.25)
    assert middle.backoff_s(3) == pytest.approx(1.0)


def test_retry_after_seconds_and_http_date() -> None:
    now = 1_700_000_000.0
    date = format_datetime(datetime.fromtimestamp(now + 7, UTC), usegmt=True)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 2.5 ") == 2.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after(date, now=now) == pytest.approx(7.0)
    past = format_datetime(datetime.fromtimestamp(now - 60, UTC), usegmt=True)
    assert parse_retry_after(past, now=now) == 0.0
    for junk in (None, "", "soon", "nan"):
        assert parse_retry_after(junk) is None


def test_delay_honours_retry_after_within_a_bound() -> None:
    policy = RetryPolicy(random=lambda: 1.0, max_retry_after_s=60.0, clock=lambda: 1000.0)
    assert policy.delay_s(1, "4") == 4.0
    assert policy.delay_s(1, "0") == 0.0
    assert policy.delay_s(1, "3600") == 60.0
    assert policy.delay_s(3, "garbage") == policy.backoff_s(3)
    assert policy.delay_s(2) == 1.0


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_idempotent_calls_retry_transient_statuses(status: int) -> None:
    assert status_is_retryable(status, httpx.Headers())


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422, 499])
def test_idempotent_calls_never_retry_permanent_statuses(status: int) -> None:
    assert not status_is_retryable(status, httpx.Headers())


def test_user_request_timeout_is_not_retried() -> None:
    headers = httpx.Headers({"X-Fal-Request-Timeout-Type": "user"})
    assert not status_is_retryable(504, headers)
    assert not submit_status_is_retryable(504, headers)


def test_submit_is_resent_only_when_fal_provably_refused_it() -> None:
    bare = httpx.Headers()
    with_id = httpx.Headers({"x-fal-request-id": "abc"})
    for status in (429, 502, 503, 504):
        assert submit_status_is_retryable(status, bare)
        assert not submit_status_is_retryable(status, with_id)
    for status in (500, 400, 401, 403, 408, 409, 422):
        assert not submit_status_is_retryable(status, bare)


def test_only_unsent_requests_count_as_never_sent() -> None:
    request = httpx.Request("POST", "https://queue.fal.run/x/y")
    assert never_sent(httpx.ConnectError("refused", request=request))
    assert never_sent(httpx.ConnectTimeout("slow", request=request))
    assert never_sent(httpx.PoolTimeout("busy", request=request))
    for exc in (httpx.ReadTimeout, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
        assert not never_sent(exc("x", request=request))
    policy = RetryPolicy()
    assert policy.should_retry_exception(CallKind.IDEMPOTENT, httpx.ReadError("x"))
    assert not policy.should_retry_exception(CallKind.SUBMIT, httpx.ReadError("x"))
    assert not policy.should_retry_exception(CallKind.IDEMPOTENT, httpx.UnsupportedProtocol("x"))


# --- the retry loop over httpx's MockTransport -----------------------------------------------


def scripted(
    answers: list[Callable[[httpx.Request], httpx.Response]],
) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers[min(len(seen), len(answers)) - 1](request)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler)), seen


def reply(status: int, headers: dict[str, str] | None = None) -> Callable[..., httpx.Response]:
    return lambda request: httpx.Response(status, headers=headers, json={"ok": status})


def fail(exc_type: type[httpx.TransportError]) -> Callable[..., httpx.Response]:
    def raise_(request: httpx.Request) -> httpx.Response:
        raise exc_type(f"boom {request.headers.get('authorization')}", request=request)

    return raise_


def build_for(http: httpx.AsyncClient, method: str = "GET") -> Callable[[], httpx.Request]:
    return lambda: http.build_request(
        method, "https://queue.fal.run/a/b", headers={"Authorization": f"Key {SECRET}"}
    )


async def test_retry_loop_retries_then_succeeds_with_backoff() -> None:
    http, seen = scripted([reply(503), reply(429, {"Retry-After": "2"}), reply(200)])
    policy, slept = recording_policy()
    response = await send_with_retry(http, policy, CallKind.IDEMPOTENT, build_for(http), what="t")
    assert response.status_code == 200
    assert len(seen) == 3
    assert slept == [0.5, 2.0]


async def test_retry_loop_gives_up_after_max_attempts() -> None:
    http, seen = scripted([reply(502)])
    policy, slept = recording_policy(max_attempts=4)
    response = await send_with_retry(http, policy, CallKind.IDEMPOTENT, build_for(http), what="t")
    assert response.status_code == 502
    assert len(seen) == 4 and len(slept) == 3


@pytest.mark.parametrize("status", [401, 403, 422])
async def test_retry_loop_never_retries_auth_or_validation(status: int) -> None:
    http, seen = scripted([reply(status)])
    policy, slept = recording_policy()
    for kind in CallKind:
        response = await send_with_retry(http, policy, kind, build_for(http), what="t")
        assert response.status_code == status
    assert len(seen) == 2 and slept == []


async def test_retry_loop_final_predicate_stops_retries() -> None:
    http, seen = scripted([reply(503, {"X-Fal-Error-Type": "runner_disconnected"})])
    policy, _ = recording_policy()
    response = await send_with_retry(
        http,
        policy,
        CallKind.IDEMPOTENT,
        build_for(http),
        what="t",
        final=lambda r: "x-fal-error-type" in r.headers,
    )
    assert response.status_code == 503 and len(seen) == 1


async def test_submit_connect_errors_are_resent() -> None:
    http, seen = scripted([fail(httpx.ConnectError), fail(httpx.ConnectError), reply(200)])
    policy, _ = recording_policy()
    response = await send_with_retry(
        http, policy, CallKind.SUBMIT, build_for(http, "POST"), what="submit"
    )
    assert response.status_code == 200 and len(seen) == 3


@pytest.mark.parametrize(
    "exc_type", [httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError]
)
async def test_submit_after_sending_is_unknown_and_never_resent(
    exc_type: type[httpx.TransportError],
) -> None:
    http, seen = scripted([fail(exc_type), reply(200)])
    policy, slept = recording_policy()
    with pytest.raises(SubmissionOutcomeUnknown) as info:
        await send_with_retry(http, policy, CallKind.SUBMIT, build_for(http, "POST"), what="s")
    assert len(seen) == 1 and slept == []
    assert SECRET not in str(info.value) and "boom" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None


async def test_transport_errors_become_network_down_without_the_key() -> None:
    http, seen = scripted([fail(httpx.ReadError)])
    policy, _ = recording_policy(max_attempts=3)
    with pytest.raises(NetworkDown) as info:
        await send_with_retry(http, policy, CallKind.IDEMPOTENT, build_for(http), what="status")
    assert len(seen) == 3
    error = info.value
    assert error.retryable and error.reason == "reset"
    assert SECRET not in str(error) and SECRET not in repr(error)
    assert error.__cause__ is None and error.__context__ is None


def test_network_error_reasons() -> None:
    import socket

    request = httpx.Request("GET", "https://queue.fal.run/")
    try:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as inner:
            raise httpx.ConnectError("dns", request=request) from inner
    except httpx.ConnectError as exc:
        assert network_error(exc).reason == "dns"
    assert network_error(httpx.ConnectError("x")).reason == "connect"
    assert network_error(httpx.ReadTimeout("x")).reason == "timeout"
    assert network_error(httpx.RemoteProtocolError("x")).reason == "reset"


# --- SSE -------------------------------------------------------------------------------------


def feed_all(lines: list[str]) -> list[str]:
    parser = SSEParser()
    return [data for line in lines if (data := parser.feed(line)) is not None]


def test_sse_events_comments_and_multiline_data() -> None:
    lines = [
        "\ufeff: keep-alive",
        'data: {"status": "IN_QUEUE"}',
        "",
        ": ping",
        "",
        "data:first",
        "data: second",
        "",
        "event: custom",
        "id: 7",
        "retry: 1500",
        "data: x",
        "",
    ]
    events = feed_all(lines)
    assert events == ['{"status": "IN_QUEUE"}', "first\nsecond", "x"]


def test_sse_other_fields_are_ignored_and_flush_delivers_the_last_event() -> None:
    parser = SSEParser()
    for line in ("event: update", "id: 9", "retry: 12", "retry: nope", "data: a"):
        assert parser.feed(line) is None
    assert parser.feed("") == "a"
    assert parser.feed("") is None  # a blank line with nothing assembled is no event
    parser.feed("data: unterminated")
    assert parser.flush() == "unterminated"
    assert parser.flush() is None


async def test_sse_over_an_httpx_stream_with_crlf() -> None:
    body = b': hi\r\ndata: {"a": 1}\r\n\r\ndata: {"a": 2}\n\ndata: {"a": 3}'
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, content=body))
    )
    parser = SSEParser()
    async with http.stream("GET", "https://x.test/stream") as response:
        datas = [data async for line in response.aiter_lines() if (data := parser.feed(line))]
    datas += [last] if (last := parser.flush()) else []
    assert datas == ['{"a": 1}', '{"a": 2}', '{"a": 3}']


# --- origins and key hygiene -----------------------------------------------------------------


def test_origin_of_fills_default_ports_and_rejects_tricks() -> None:
    assert origin_of("https://Queue.Fal.Run/x") == ("https", "queue.fal.run", 443)
    assert origin_of("http://127.0.0.1:8123/a") == ("http", "127.0.0.1", 8123)
    assert origin_of("https://queue.fal.run:443") == origin_of("https://queue.fal.run")
    for bad in ("ftp://queue.fal.run/", "https://user@queue.fal.run/", "/relative", "file:///x"):
        with pytest.raises(ValueError):
            origin_of(bad)


def test_key_goes_only_to_configured_queue_and_rest_origins() -> None:
    config = FalConfig(key=FalKey(SECRET))
    assert config.key_allowed("https://queue.fal.run/bytedance/seedance-2.0/requests/1/status")
    assert config.key_allowed("https://rest.fal.ai/storage/auth/token")
    for url in (
        "https://v3.fal.media/files/x.mp4",  # the CDN
        "http://queue.fal.run/x",  # scheme
        "https://queue.fal.run:8443/x",  # port
        "https://queue.fal.run.evil.example/x",  # suffix
        "https://evil.example/queue.fal.run",  # path
        "https://queue.fal.run@evil.example/x",  # user info
        "https://evil.example/?https://queue.fal.run",
        "not a url",
    ):
        assert not config.key_allowed(url), url


def test_key_is_redacted_everywhere(caplog: pytest.LogCaptureFixture) -> None:
    key = FalKey(SECRET)
    config = FalConfig(key=key)
    texts = [repr(key), str(key), f"{key}", f"{key!r}", repr(config), str(config), format(key, "")]
    assert all(SECRET not in text for text in texts)
    assert key.reveal() == SECRET and key.authorization == f"Key {SECRET}"
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("config %s key %r", config, key)
    assert SECRET not in caplog.text
    with pytest.raises(TypeError):
        pickle.dumps(key)
    assert key == FalKey(SECRET) and key != FalKey("other:key")
    for bad in ("", "   ", "a\r\nX-Evil: 1", "key with space"):
        with pytest.raises(ValueError):
            FalKey(bad)


def test_config_from_env_and_caller_key() -> None:
    env = {
        "FAL_KEY": "env-id:env-secret",
        "SEEDANCE_FAL_QUEUE_URL": "http://127.0.0.1:9/",
        "SEEDANCE_FAL_REST_URL": "http://127.0.0.1:9",
    }
    config = FalConfig.from_env(env=env)
    assert config.key == FalKey("env-id:env-secret")
    assert config.queue_url == "http://127.0.0.1:9" and config.cdn_url == "https://v3.fal.media"
    assert FalConfig.from_env("caller:key", env=env).key == FalKey("caller:key")
    assert FalConfig.from_env(env={}).key is None
    assert FalConfig.from_env(env={}).queue_url == "https://queue.fal.run"
    assert config.poll_interval_s >= 1.0, "polling is a few seconds apart, not 0.1 s"
    with pytest.raises(ValueError):
        FalConfig(queue_url="ftp://x")


# --- file names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("video.mp4", "video.mp4"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Windows\\System32\\evil.mp4", "evil.mp4"),
        ("/abs/path/clip.mov", "clip.mov"),
        ("..", "fallback.mp4"),
        (".", "fallback.mp4"),
        ("", "fallback.mp4"),
        (None, "fallback.mp4"),
        (".hidden.mp4", "hidden.mp4"),
        ("a\x00b\nc.mp4", "a_b_c.mp4"),
        ('what?<>:"|*.mp4', "what_______.mp4"),
        ("CON.mp4", "_CON.mp4"),
        ("lpt1", "_lpt1"),
        ("trailing. . ", "trailing"),
        ("ｆｕｌｌ.mp4", "ｆｕｌｌ.mp4"),
        ("///", "fallback.mp4"),
    ],
)
def test_safe_file_name(name: str | None, expected: str) -> None:
    assert safe_file_name(name, "fallback.mp4") == expected


def test_safe_file_name_limits_length_and_keeps_extension() -> None:
    name = safe_file_name("é" * 400 + ".mp4", "f.mp4")
    assert name.endswith(".mp4") and len(name.encode()) <= 200


# --- error mapping ---------------------------------------------------------------------------


def make_error(status: int, body: object = None, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return error_for_response(status, httpx.Headers(headers or {}), body, request_id="r1")


def test_error_mapping() -> None:
    assert isinstance(
        make_error(401, {"detail": "No user found for Key ID and Secret"}), InvalidKey
    )
    assert isinstance(
        make_error(403, {"detail": "User is locked. Reason: balance"}), BalanceExhausted
    )
    assert isinstance(make_error(403, {"detail": "Forbidden"}), AccessDenied)
    assert isinstance(make_error(404), ResultExpired)
    assert isinstance(make_error(410), ResultExpired)
    assert isinstance(make_error(499), RequestCancelled)
    assert isinstance(make_error(400, {"detail": "bad"}), UnexpectedResponse)
    limited = error_for_response(429, httpx.Headers(), None, retry_after=3.0)
    assert isinstance(limited, RateLimited) and limited.retry_after == 3.0 and limited.retryable


def test_validation_details_and_content_policy() -> None:
    body = {
        "detail": [
            {"loc": ["body", "duration"], "msg": "Input should be '4', '5'", "type": "enum"},
            {"loc": ["body", "image_urls", 2], "msg": "Too big", "type": "file_too_large"},
        ]
    }
    error = make_error(422, body)
    assert type(error) is ValidationFailed and not error.retryable
    assert [d.loc for d in error.details] == [("body", "duration"), ("body", "image_urls", 2)]
    assert error.details[0].field == "duration"
    assert "Input should be" in error.message and error.request_id == "r1"
    policy = make_error(
        422,
        {"detail": [{"loc": ["body", "prompt"], "msg": "No.", "type": "content_policy_violation"}]},
    )
    assert isinstance(policy, ContentPolicy) and isinstance(policy, ValidationFailed)
    plain = make_error(422, {"detail": "Something was wrong"})
    assert isinstance(plain, ValidationFailed) and plain.message == "Something was wrong"


def test_service_errors_carry_type_and_retryability() -> None:
    error = make_error(
        503, {"detail": "Runner went away", "error_type": "runner_disconnected"},
        {"X-Fal-Error-Type": "runner_disconnected"},
    )  # fmt: skip
    assert isinstance(error, ServiceError)
    assert error.error_type == "runner_disconnected" and error.retryable and error.status == 503
    explicit = make_error(503, None, {"X-Fal-Error-Type": "x", "X-Fal-Retryable": "false"})
    assert isinstance(explicit, ServiceError) and not explicit.retryable
    user = make_error(504, None, {"X-Fal-Request-Timeout-Type": "user"})
    assert isinstance(user, ServiceError) and not user.retryable
    assert make_error(500).retryable


# --- handles, statuses, logs -----------------------------------------------------------------


def test_handle_rebuild_uses_owner_and_app_only() -> None:
    handle = Handle.rebuild(
        "https://queue.fal.run/", "bytedance/seedance-2.0/fast/text-to-video", "abc-1"
    )
    base = "https://queue.fal.run/bytedance/seedance-2.0/requests/abc-1"
    assert handle.status_url == f"{base}/status"
    assert handle.response_url == base and handle.cancel_url == f"{base}/cancel"
    assert Handle.from_json(handle.to_json()) == handle
    partial = {"model_id": handle.model_id, "request_id": "abc-1"}
    assert Handle.from_json(partial, "https://queue.fal.run") == handle
    assert app_id("bytedance/seedance-2.0/text-to-video") == "bytedance/seedance-2.0"
    for bad_model in ("nope", "a/../b", "a//b"):
        with pytest.raises(ValueError):
            app_id(bad_model)
    with pytest.raises(ValueError):
        Handle.rebuild("https://queue.fal.run", "a/b", "../../x")


def test_status_parsing() -> None:
    queued = Status.from_json({"status": "IN_QUEUE", "queue_position": 3, "logs": None})
    assert queued.state is State.IN_QUEUE and queued.queue_position == 3 and queued.logs == ()
    done = Status.from_json(
        {
            "status": "COMPLETED",
            "logs": [{"message": "hi", "level": "INFO", "source": "user", "timestamp": "t"}],
            "metrics": {"inference_time": 1.5},
            "error": "Runner disconnected",
            "error_type": "runner_disconnected",
        }
    )
    assert done.completed and done.failed and done.metrics == {"inference_time": 1.5}
    assert done.logs == (LogLine("hi", "INFO", "user", "t"),)
    new = Status.from_json({"status": "SOMETHING_NEW"})
    assert new.state is State.IN_PROGRESS and new.reported == "SOMETHING_NEW"
    assert done.reported is None and queued.reported is None
    with pytest.raises(UnexpectedResponse):
        Status.from_json({"nope": 1})


def test_server_text_in_a_status_is_made_printable() -> None:
    status = Status.from_json(
        {
            "status": "\x1b[31mHALTED\x1b[0m\x07",
            "logs": [
                {"message": "\x1b[1mbold\x1b[0m\nnext", "level": "IN\x00FO", "source": "u\x9b"}
            ],
            "error": "bad\x1b]0;title\x07 thing",
            "error_type": "runner\x07_disconnected\n",
        }
    )
    assert status.reported == "HALTED"
    assert status.logs == (LogLine("bold\nnext", "INFO", "u", None),)
    assert status.error == "bad thing" and status.error_type == "runner_disconnected"


def test_server_text_in_error_answers_is_made_printable() -> None:
    error = error_for_response(
        503, httpx.Headers({"X-Fal-Error-Type": "\x1b[2Jwiped"}), {"detail": "down\x1b[31m now"}
    )
    assert isinstance(error, ServiceError)
    assert error.error_type == "wiped" and error.message.endswith("down now")
    invalid = error_for_response(
        422, httpx.Headers(), {"detail": [{"loc": ["body", "prompt"], "msg": "\x9b2Jtoo long"}]}
    )
    assert isinstance(invalid, ValidationFailed) and invalid.details[0].msg == "too long"


def test_log_book_handles_cumulative_and_partial_lists() -> None:
    a, b, c = (LogLine(m, timestamp=m) for m in "abc")
    book = _LogBook()
    assert book.merge((a,)) == (a,)
    assert book.merge((a, b)) == (b,)  # cumulative (polling)
    assert book.merge((a, b)) == ()
    assert book.merge((c,)) == (c,)  # partial (a stream sending only new lines)
    assert book.merge((a, b, c)) == ()  # a replay after a reconnect
    assert book.lines == [a, b, c]
