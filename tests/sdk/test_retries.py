"""Retry, backoff and error paths of the SDK, on httpx's MockTransport (which counts calls)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

import ocrchat
from ocrchat import _core

JOB_ID = "9f2c1b7e-0000-4000-8000-000000000001"
JOB: dict[str, object] = {
    "uuid": JOB_ID,
    "status": "done",
    "page_count": 1,
    "text": "INVOICE",
    "markdown": "# INVOICE",
    "pages": [],
}


class Recorder:
    """A MockTransport handler that answers from a script and keeps every request."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def client_for(
    handler: Callable[[httpx.Request], httpx.Response], **options: object
) -> ocrchat.Client:
    return ocrchat.Client(
        "ocr_test_token",
        base_url="http://ocr.test",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        **options,  # type: ignore[arg-type]
    )


def error(status: int, code: str, **extra: object) -> httpx.Response:
    return httpx.Response(
        status,
        json={"error": f"{code} happened", "code": code, **extra},
        headers={"Retry-After": "0"},
    )


def test_a_retried_submit_sends_one_idempotency_key() -> None:
    recorder = Recorder(
        error(503, "busy"), httpx.ConnectError("refused"), httpx.Response(200, json=JOB)
    )
    with client_for(recorder, max_retries=3) as client:
        job = client.submit(b"%PDF-1.4", tier="cpu")
    assert job.uuid == JOB_ID
    assert len(recorder.requests) == 3
    keys = {request.headers["Idempotency-Key"] for request in recorder.requests}
    assert len(keys) == 1
    assert all(request.content == recorder.requests[0].content for request in recorder.requests)
    assert b'name="tier"' in recorder.requests[0].content


def test_every_submit_gets_its_own_key() -> None:
    recorder = Recorder(httpx.Response(200, json=JOB))
    with client_for(recorder) as client:
        client.submit(b"a")
        client.submit(b"b")
    assert (
        recorder.requests[0].headers["Idempotency-Key"]
        != recorder.requests[1].headers["Idempotency-Key"]
    )


def test_retries_stop_at_the_cap_and_raise_the_last_error() -> None:
    recorder = Recorder(error(502, "bad_gateway"))
    with (
        client_for(recorder, max_retries=2) as client,
        pytest.raises(ocrchat.ServerError) as caught,
    ):
        client.get(JOB_ID)
    assert len(recorder.requests) == 3  # the first try and two retries
    assert caught.value.status_code == 502
    assert caught.value.code == "bad_gateway"


def test_a_503_is_retried_only_when_the_server_says_when() -> None:
    permanent = httpx.Response(
        503, json={"error": "The vlm tier is not configured.", "code": "tier_unavailable"}
    )
    recorder = Recorder(permanent)
    with pytest.raises(ocrchat.ServerError, match="tier_unavailable"):
        client_for(recorder).submit(b"%PDF-1.7", tier="vlm")
    assert len(recorder.requests) == 1  # at once, not after three tries

    loading = error(503, "tier_unavailable")  # with Retry-After: the model is loading
    recorder = Recorder(loading, httpx.Response(200, json=JOB))
    assert client_for(recorder).submit(b"%PDF-1.7", tier="vlm").uuid == JOB_ID
    assert len(recorder.requests) == 2


def test_connection_errors_are_retried_then_raised_apart() -> None:
    recorder = Recorder(httpx.ConnectError("refused"))
    with (
        client_for(recorder, max_retries=1) as client,
        pytest.raises(ocrchat.APIConnectionError) as caught,
    ):
        client.get(JOB_ID)
    assert not isinstance(caught.value, ocrchat.APIStatusError)
    assert len(recorder.requests) == 2
    timeouts = Recorder(httpx.ReadTimeout("slow"))
    with client_for(timeouts, max_retries=0) as client, pytest.raises(ocrchat.APITimeoutError):
        client.get(JOB_ID)


@pytest.mark.parametrize(
    ("status", "exception"),
    [
        (400, ocrchat.BadRequestError),
        (401, ocrchat.AuthenticationError),
        (402, ocrchat.QuotaExceededError),
        (404, ocrchat.NotFoundError),
        (409, ocrchat.JobNotReadyError),
        (501, ocrchat.ServerError),
    ],
)
def test_each_status_has_its_exception(status: int, exception: type[Exception]) -> None:
    recorder = Recorder(error(status, "some_code", used=50, cap=50))
    with client_for(recorder) as client, pytest.raises(exception) as caught:
        client.get(JOB_ID)
    assert len(recorder.requests) == 1  # not retried
    assert isinstance(caught.value, ocrchat.APIStatusError)
    assert caught.value.status_code == status
    assert caught.value.message == "some_code happened"
    assert caught.value.response.status_code == status
    if isinstance(caught.value, ocrchat.QuotaExceededError):
        assert (caught.value.used, caught.value.cap) == (50, 50)


def test_a_non_json_error_still_raises_cleanly() -> None:
    recorder = Recorder(httpx.Response(404, text="<html>nope</html>"))
    with client_for(recorder) as client, pytest.raises(ocrchat.NotFoundError) as caught:
        client.get("x")
    assert caught.value.code == "http_404"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>Sign in to the proxy</html>"),
        httpx.Response(200, json={"hello": "world"}),
        httpx.Response(200, json=["not", "a", "job"]),
    ],
    ids=["html", "another-shape", "a-list"],
)
def test_a_200_that_is_not_the_api_raises_a_validation_error(answer: httpx.Response) -> None:
    with pytest.raises(ocrchat.APIResponseValidationError) as caught:
        client_for(Recorder(answer)).get(JOB_ID)
    assert isinstance(caught.value, ocrchat.OcrchatError)
    assert caught.value.status_code == 200


def test_requests_carry_the_token_and_the_base_path() -> None:
    recorder = Recorder(httpx.Response(200, json=JOB))
    client = ocrchat.Client(
        "ocr_t",
        base_url="https://example.org/ocr",
        http_client=httpx.Client(transport=httpx.MockTransport(recorder)),
    )
    client.get("abc")
    request = recorder.requests[0]
    assert str(request.url) == "https://example.org/ocr/api/v1/ocr/abc/"
    assert request.headers["Authorization"] == "Bearer ocr_t"
    assert request.headers["User-Agent"].startswith("ocrchat-python/")
    assert "ocr_t" not in repr(client)


def test_a_missing_token_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OCRCHAT_API_TOKEN", raising=False)
    with pytest.raises(ocrchat.ConfigurationError, match="OCRCHAT_API_TOKEN"):
        ocrchat.Client()
    monkeypatch.setenv("OCRCHAT_API_TOKEN", "ocr_env")
    monkeypatch.setenv("OCRCHAT_BASE_URL", "http://self.hosted:8000")
    with ocrchat.Client() as client:
        assert client.base_url == "http://self.hosted:8000/"
    monkeypatch.delenv("OCRCHAT_BASE_URL")
    with ocrchat.Client() as client:
        assert client.base_url == "https://ocr.chat/"


# --- the flows themselves, driven by hand: no network, no clock ------------------


def drive(flow: _core.Flow[object], answers: list[httpx.Response]) -> tuple[object, list[float]]:
    """Run a flow, answering each Send from ``answers``; returns its result and the sleeps."""
    now = 0.0
    sleeps: list[float] = []
    reply: object = None
    while True:
        try:
            effect = flow.send(reply)
        except StopIteration as stop:
            return stop.value, sleeps
        if isinstance(effect, _core.Send):
            reply = answers.pop(0)
        elif isinstance(effect, _core.Sleep):
            sleeps.append(effect.seconds)
            now += effect.seconds
            reply = None
        else:
            reply = now


CONFIG = _core.make_config("t", "http://ocr.test", _core.NOT_GIVEN, 4, 60.0)


def test_backoff_doubles_with_jitter_and_honours_retry_after() -> None:
    request = _core.build_request(CONFIG, "GET", "api/v1/account/")
    # 502: a gateway's hiccup, retried (a 503 is retried only with Retry-After)
    busy = httpx.Response(502, json={"error": "busy", "code": "busy"})
    slow_down = httpx.Response(
        429, json={"error": "slow", "code": "slow"}, headers={"Retry-After": "7"}
    )
    ok = httpx.Response(200, json={"name": "alice"})
    response, sleeps = drive(_core.send(CONFIG, request), [busy, busy, slow_down, busy, ok])
    assert isinstance(response, httpx.Response)
    assert response.status_code == 200
    assert sleeps[2] == 7  # the server's word
    for attempt, expected in ((0, 0.5), (1, 1.0), (3, 4.0)):
        assert 0.75 * expected <= sleeps[attempt] <= expected


def test_retries_stop_within_the_total_time() -> None:
    config = _core.make_config("t", "http://ocr.test", _core.NOT_GIVEN, 10, 5.0)
    request = _core.build_request(config, "GET", "api/v1/account/")
    busy = httpx.Response(502, json={"error": "busy", "code": "busy"})
    response, sleeps = drive(_core.send(config, request), [busy] * 11)
    assert isinstance(response, httpx.Response)
    assert response.status_code == 502
    assert sum(sleeps) <= 5.0
    assert len(sleeps) < 10


def _job(status: str, done: int, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {**JOB, "status": status, "progress": {"pages_done": done, "pages_total": 7}}
    return httpx.Response(200, content=json.dumps(body), headers=headers or {})


def test_poll_waits_the_interval_or_what_the_server_asks() -> None:
    seen: list[int] = []
    flow = _core.poll(
        CONFIG,
        "u",
        interval=1.0,
        timeout=None,
        on_progress=lambda job: seen.append(job.progress.pages_done if job.progress else -1),
    )
    answers = [_job("pending", 0), _job("processing", 3, {"Retry-After": "5"}), _job("done", 7)]
    job, sleeps = drive(flow, answers)
    assert isinstance(job, ocrchat.Job)
    assert job.status is ocrchat.JobStatus.DONE
    assert sleeps == [1.0, 5.0]
    assert seen == [0, 3, 7]


def test_poll_raises_on_failure_and_after_its_timeout() -> None:
    failed = httpx.Response(200, json={**JOB, "status": "failed", "error": "Page 1 broke."})
    with pytest.raises(ocrchat.JobFailedError, match="Page 1 broke"):
        drive(_core.poll(CONFIG, "u", interval=1, timeout=None, on_progress=None), [failed])
    with pytest.raises(ocrchat.PollTimeoutError) as caught:
        drive(
            _core.poll(CONFIG, "u", interval=2, timeout=5, on_progress=None),
            [_job("processing", 1)] * 10,
        )
    assert caught.value.job.status is ocrchat.JobStatus.PROCESSING
    # an unknown status from a newer server is waited on, not a crash
    job, _ = drive(
        _core.poll(CONFIG, "u", interval=1, timeout=None, on_progress=None),
        [_job("paused", 1), _job("done", 7)],
    )
    assert isinstance(job, ocrchat.Job)


def test_chat_sends_the_question_and_parses_citations() -> None:
    reply = {
        "conversation": "a1b2",
        "message": {
            "role": "assistant",
            "content": "The total is 215 USD (p. 1).",
            "citations": [{"page": 1, "snippet": "Total: 215.00 USD", "bbox": [10, 20, 300, 48]}],
        },
    }
    recorder = Recorder(httpx.Response(200, json=reply))
    with client_for(recorder) as client:
        answer = client.chat(JOB_ID, "And the total?", conversation="a1b2")
    request = recorder.requests[0]
    assert request.method == "POST"
    assert request.url.path == f"/api/v1/chat/{JOB_ID}/"
    assert json.loads(request.content) == {"message": "And the total?", "conversation": "a1b2"}
    assert answer.conversation == "a1b2"
    assert answer.message.role is ocrchat.Role.ASSISTANT
    assert answer.message.citations[0] == ocrchat.Citation(
        page=1, snippet="Total: 215.00 USD", bbox=(10, 20, 300, 48)
    )


def test_history_lists_conversations_in_order() -> None:
    body = {
        "conversations": [
            {
                "conversation": "a1b2",
                "messages": [
                    {
                        "role": "user",
                        "content": "Total?",
                        "created_at": "2026-01-01T10:00:00+00:00",
                    },
                    {
                        "role": "assistant",
                        "content": "215 USD.",
                        "citations": [],
                        "created_at": "2026-01-01T10:00:01+00:00",
                    },
                ],
            }
        ]
    }
    recorder = Recorder(httpx.Response(200, json=body))
    with client_for(recorder) as client:
        found = client.history(JOB_ID)
    assert recorder.requests[0].url.path == f"/api/v1/chat/{JOB_ID}/history/"
    messages = found.conversations[0].messages
    assert [m.content for m in messages] == ["Total?", "215 USD."]
    assert messages[0].created_at is not None
    assert messages[0].created_at.isoformat() == "2026-01-01T10:00:00+00:00"
