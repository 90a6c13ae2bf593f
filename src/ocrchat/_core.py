"""Everything the clients do that is not I/O, written once.

Each endpoint is a :class:`Call`: its request and how to read the answer. Each
operation is a *flow*: a generator that yields effects (:class:`Send` a
request, :class:`Sleep`, ask the time with :class:`Now`) and gets their
results sent back; :func:`result` and :func:`raw_result` are the flows of one
call, the typed result or the :class:`~ocrchat.APIResponse`. The sync and async
clients only carry the effects out, so request building, response parsing,
retries, polling and the SDK's log lines exist here alone, and tests can drive a
flow with no network and no clock.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import logging
import os
import random
import urllib.parse
import uuid as uuid_module
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, Generic, TypeVar

import attrs
import cattrs
import httpx

from ocrchat._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    ConfigurationError,
    JobFailedError,
    PollTimeoutError,
    error_class_for,
)
from ocrchat._logging import log, log_from_environment, redacted
from ocrchat._response import REQUEST_ID_HEADER, APIResponse
from ocrchat._serde import structure
from ocrchat._version import __version__
from ocrchat.models import (
    Account,
    ApiToken,
    ChatReply,
    DeletedJob,
    DownloadFormat,
    Engines,
    ErrorBody,
    History,
    Job,
    JobList,
    JobStatus,
    JobStatusName,
    NewApiToken,
    RevokedToken,
    Tier,
    TierName,
    TokenList,
    ToolName,
    Tools,
)

T = TypeVar("T")

DEFAULT_BASE_URL = "https://ocr.chat"
FAILED_JOB_CODE = "job_failed"
TOKEN_VARIABLE = "OCRCHAT_API_TOKEN"  # noqa: S105 (a variable name)
BASE_URL_VARIABLE = "OCRCHAT_BASE_URL"
DEFAULT_TIMEOUT = httpx.Timeout(120.0, connect=10.0)
"""Per request. A submit of 5 pages or fewer answers only once they are read."""
DEFAULT_MAX_RETRIES = 3
DEFAULT_MAX_RETRY_SECONDS = 60.0
DEFAULT_POLL_INTERVAL = 2.0
DEFAULT_POLL_TIMEOUT = 1800.0
WORDS_DETAIL = "words"
"""``GET /api/v1/ocr/<uuid>/?detail=words``: the job with its blocks' words."""
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_BACKOFF_BASE = 0.5
_BACKOFF_CAP = 8.0
_RETRY_AFTER_CAP = 60.0

TimeoutInput = float | httpx.Timeout | None


class _NotGiven:
    """The default of a parameter the caller did not pass (``None`` may mean something)."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Any = _NotGiven()


# --- effects ----------------------------------------------------------------


@attrs.frozen
class Send:
    """Send the request; the driver sends back the ``httpx.Response`` with its body read,
    or throws the ``httpx.TransportError`` it got.

    With ``into``, a successful answer's body is streamed into that file instead of
    memory: written to a temporary file beside it and renamed once whole, so that a
    failure (then retried, or raised) never leaves a partial file behind."""

    request: httpx.Request
    into: Path | None = None


@attrs.frozen
class Sleep:
    seconds: float


@attrs.frozen
class Now:
    """The driver sends back a monotonic time in seconds."""


Effect = Send | Sleep | Now
Flow = Generator[Effect, Any, T]


# --- configuration ------------------------------------------------------------


@attrs.frozen
class Config:
    base_url: httpx.URL
    api_token: str
    timeout: httpx.Timeout
    max_retries: int
    max_retry_seconds: float


def make_config(
    api_token: str | None,
    base_url: str | None,
    timeout: TimeoutInput | _NotGiven,
    max_retries: int,
    max_retry_seconds: float,
) -> Config:
    token = api_token or os.environ.get(TOKEN_VARIABLE)
    if not token:
        raise ConfigurationError(
            f"No API token: pass api_token=... or set the {TOKEN_VARIABLE} environment variable."
        )
    url = httpx.URL(base_url or os.environ.get(BASE_URL_VARIABLE) or DEFAULT_BASE_URL)
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(f"The base URL must be http(s)://host[:port][/path], not {url}.")
    # a trailing slash, so joining "api/v1/..." keeps a path prefix such as /ocr/
    url = url.copy_with(path=url.path if url.path.endswith("/") else url.path + "/")
    return Config(
        base_url=url,
        api_token=token,
        timeout=_timeout(timeout, DEFAULT_TIMEOUT),
        max_retries=max_retries,
        max_retry_seconds=max_retry_seconds,
    )


def _timeout(value: TimeoutInput | _NotGiven, default: httpx.Timeout) -> httpx.Timeout:
    if isinstance(value, _NotGiven):
        return default
    if isinstance(value, httpx.Timeout):
        return value
    return httpx.Timeout(value)


class ClientBase:
    """What the sync and async clients share: their configuration. No I/O."""

    def __init__(
        self,
        api_token: str | None,
        base_url: str | None,
        timeout: TimeoutInput | _NotGiven,
        max_retries: int,
        max_retry_seconds: float,
    ) -> None:
        self._config = make_config(api_token, base_url, timeout, max_retries, max_retry_seconds)
        log_from_environment()

    @property
    def base_url(self) -> str:
        """The API's root URL as the client calls it, with a trailing slash
        (``https://ocr.chat/`` by default)."""
        return str(self._config.base_url)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"  # never the token


# --- requests -----------------------------------------------------------------


def build_request(
    config: Config,
    method: str,
    path: str,
    *,
    timeout: TimeoutInput | _NotGiven = NOT_GIVEN,
    params: dict[str, str] | None = None,
    json: Any = None,
    data: dict[str, str] | None = None,
    files: dict[str, tuple[str, bytes]] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Request:
    request = httpx.Request(
        method,
        config.base_url.join(path.lstrip("/")),
        params=params,
        json=json,
        data=data,
        files=files,
        headers={
            "Authorization": f"Bearer {config.api_token}",
            "Accept": "application/json",
            "User-Agent": f"ocrchat-python/{__version__}",
            **(headers or {}),
        },
        extensions={"timeout": _timeout(timeout, config.timeout).as_dict()},
    )
    request.read()  # the body is bytes from here on, so a retry sends it again unchanged
    return request


def job_id(job: Job | str) -> str:
    """The job's id as one path segment: escaped whole, so that an id such as
    ``../account`` names no other endpoint (the server answers 404 for it)."""
    raw = job.uuid if isinstance(job, Job) else str(job)
    return urllib.parse.quote(raw, safe="")


# --- responses ----------------------------------------------------------------


def error_body(response: httpx.Response) -> ErrorBody:
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and "error" in data:
        return structure(data, ErrorBody)
    text = response.text.strip()[:200] or response.reason_phrase
    return ErrorBody(error=text, code=f"http_{response.status_code}")


def raise_for_status(response: httpx.Response) -> None:
    if response.is_success:
        return
    body = error_body(response)
    error = error_class_for(response.status_code, body.code)(body, response=response)
    if body.code == FAILED_JOB_CODE:
        # a download or chat of a failed job: the job's own failure, as poll() raises it
        details = body.details
        failed = Job(
            uuid=str(details.get("uuid", "")),
            status=JobStatus.FAILED,
            error=str(details.get("job_error") or body.error),
        )
        raise JobFailedError(failed) from error
    raise error


def parse(response: httpx.Response, cls: type[T]) -> T:
    """The successful response's body as ``cls``; :class:`APIResponseValidationError` when it
    is not JSON or not that shape (a proxy's page, another server)."""
    raise_for_status(response)
    try:
        data = response.json()
    except ValueError as exc:
        raise APIResponseValidationError(
            f"{response.request.method} {response.request.url} answered {response.status_code}"
            " with a body that is not JSON",
            response=response,
        ) from exc
    try:
        return structure(data, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        raise APIResponseValidationError(
            f"{response.request.method} {response.request.url} answered {response.status_code}"
            f" with a body that is not a {cls.__name__}",
            response=response,
        ) from exc


def retry_after(response: httpx.Response | None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date), if any."""
    value = response.headers.get("retry-after") if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def content(response: httpx.Response) -> bytes:
    raise_for_status(response)
    return response.content


def saved(response: httpx.Response, path: Path) -> Path:
    """Where :class:`Send` ``into`` streamed the successful response's body."""
    raise_for_status(response)
    return path


def worth_retrying(response: httpx.Response) -> bool:
    """408, 429 and 5xx; a 503 only when the server says when to come back: one without
    ``Retry-After`` is permanent (``tier_unavailable`` on a server with no vlm tier), and
    retrying it only delayed the error."""
    if response.status_code not in RETRY_STATUSES:
        return False
    if response.status_code == httpx.codes.SERVICE_UNAVAILABLE:
        return retry_after(response) is not None
    return True


def backoff(attempt: int, response: httpx.Response | None) -> float:
    """Seconds before retry number ``attempt + 1``: the server's word, else 0.5 * 2**n, jittered."""
    asked = retry_after(response)
    if asked is not None and asked <= _RETRY_AFTER_CAP:
        return asked
    delay: float = min(_BACKOFF_BASE * 2.0**attempt, _BACKOFF_CAP)
    return delay * (1 - 0.25 * random.random())  # noqa: S311 (jitter, not security)


# --- flows --------------------------------------------------------------------


def send(
    config: Config, request: httpx.Request, *, into: Path | None = None
) -> Flow[httpx.Response]:
    """Send with retries on connection errors, timeouts, 408, 429 and 5xx.

    Capped at ``max_retries`` retries and ``max_retry_seconds`` in all. The
    last response is returned even when it is an error; the caller raises.
    ``into``: as :class:`Send` has it. Each try and each retry is logged.
    """
    started: float = yield Now()
    attempt = 0
    while True:
        response: httpx.Response | None = None
        failure: APIConnectionError | None = None
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s, headers %s", request.method, request.url, redacted(request.headers))
        sent: float = yield Now()
        try:
            response = yield Send(request, into=into)
        except httpx.TimeoutException as exc:
            failure = APITimeoutError(f"{request.method} {request.url} timed out", request=request)
            failure.__cause__ = exc
        except httpx.TransportError as exc:
            failure = APIConnectionError(
                f"could not reach {request.url.host}: {exc}", request=request
            )
            failure.__cause__ = exc
        now: float = yield Now()
        _log_answer(request, response, failure, now - sent)
        if response is not None and not worth_retrying(response):
            return response
        delay = backoff(attempt, response)
        if attempt >= config.max_retries or now - started + delay > config.max_retry_seconds:
            if failure is not None:
                raise failure
            assert response is not None
            return response
        attempt += 1
        log.info(
            "retrying %s %s in %.2f s (retry %d of at most %d): %s",
            request.method,
            request.url,
            delay,
            attempt,
            config.max_retries,
            _why(response, failure),
        )
        yield Sleep(delay)


def _log_answer(
    request: httpx.Request,
    response: httpx.Response | None,
    failure: APIConnectionError | None,
    seconds: float,
) -> None:
    if response is not None:
        log.info(
            "%s %s: %d %s in %.0f ms, request id %s",
            request.method,
            request.url,
            response.status_code,
            response.reason_phrase,
            seconds * 1000,
            response.headers.get(REQUEST_ID_HEADER, "-"),
        )
    else:
        log.info("%s %s: %s after %.0f ms", request.method, request.url, failure, seconds * 1000)


def _why(response: httpx.Response | None, failure: APIConnectionError | None) -> str:
    if response is None:
        cause = failure.__cause__ if failure is not None else None
        return f"{type(cause).__name__}: {cause}" if cause else str(failure)
    reason = f"{response.status_code} {response.reason_phrase}"
    if retry_after(response) is not None:
        reason += f", Retry-After {response.headers['retry-after']}"
    return reason


# --- calls: one request each, the clients' methods ----------------------------


@attrs.frozen
class Call(Generic[T]):
    """One endpoint's request and how to read its successful answer (raising for an error
    status), with ``into`` when the answer's body goes to a file."""

    request: httpx.Request
    read: Callable[[httpx.Response], T]
    into: Path | None = None


def result(config: Config, call: Call[T]) -> Flow[T]:
    """The call's typed result (what the clients' methods return)."""
    response = yield from send(config, call.request, into=call.into)
    return call.read(response)


def raw_result(config: Config, call: Call[T]) -> Flow[APIResponse[T]]:
    """The call's answer as it came (``with_raw_response``); an error status still raises."""
    response = yield from send(config, call.request, into=call.into)
    raise_for_status(response)
    return APIResponse(response, call.read)


def _reading(cls: type[T]) -> Callable[[httpx.Response], T]:
    return functools.partial(parse, cls=cls)


def submit(
    config: Config,
    upload: tuple[str, bytes],
    *,
    tier: Tier | TierName | None,
    language: str | None,
    tool: ToolName | None,
    translate_to: str | None,
    idempotency_key: str | None,
    timeout: TimeoutInput | _NotGiven,
    engine: str | None = None,
    ocr: str | None = None,
    pages: str | None = None,
    webhook_url: str | None = None,
) -> Call[Job]:
    name, data = upload
    fields = {
        "tier": tier.value if isinstance(tier, Tier) else tier,
        "language": language,
        "tool": tool,
        "translate_to": translate_to,
        "engine": engine,
        "ocr": ocr,
        "pages": pages,
        "webhook_url": webhook_url,
    }
    request = build_request(
        config,
        "POST",
        "api/v1/ocr/",
        timeout=timeout,
        data={key: value for key, value in fields.items() if value is not None},
        files={"file": (name, data)},
        # the same key on every retry: the server runs and charges the job once
        headers={"Idempotency-Key": idempotency_key or str(uuid_module.uuid4())},
    )
    return Call(request, _reading(Job))


def finished(
    config: Config,
    submitted: Job,
    *,
    interval: float,
    timeout: float | None,
    on_progress: Callable[[Job], None] | None,
    words: bool = False,
) -> Flow[Job]:
    """A just-submitted job once it is done: returned as it is when the server read it in
    the request (looked at once more for its words with ``words``), raised when it failed
    there (it came back quietly with no pages), polled otherwise."""
    if submitted.status is JobStatus.DONE or submitted.status is JobStatus.FAILED:
        if on_progress is not None:
            on_progress(submitted)
        if submitted.status is JobStatus.FAILED:
            raise JobFailedError(submitted)
        if words:
            return (
                yield from result(config, get(config, submitted, timeout=NOT_GIVEN, words=True))
            )
        return submitted
    return (
        yield from poll(
            config,
            submitted,
            interval=interval,
            timeout=timeout,
            on_progress=on_progress,
            words=words,
        )
    )


def get(
    config: Config, job: Job | str, *, timeout: TimeoutInput | _NotGiven, words: bool = False
) -> Call[Job]:
    params = {"detail": WORDS_DETAIL} if words else None
    request = build_request(
        config, "GET", f"api/v1/ocr/{job_id(job)}/", params=params, timeout=timeout
    )
    return Call(request, _reading(Job))


def poll(
    config: Config,
    job: Job | str,
    *,
    interval: float,
    timeout: float | None,
    on_progress: Callable[[Job], None] | None,
    words: bool = False,
) -> Flow[Job]:
    """Get the job until it is done (returned) or failed (raised), waiting between tries.

    Waits ``interval`` seconds, or longer when the server's ``Retry-After``
    asks; never past ``timeout`` (None: no limit). With ``words``, the done job is
    fetched once more with its words (the looks before go without: they are for
    its status).
    """
    started: float = yield Now()
    look = get(config, job, timeout=NOT_GIVEN)
    while True:
        response = yield from send(config, look.request)
        current = look.read(response)
        if on_progress is not None:
            on_progress(current)
        if current.status is JobStatus.DONE:
            if words:
                return (
                    yield from result(config, get(config, current, timeout=NOT_GIVEN, words=True))
                )
            return current
        if current.status is JobStatus.FAILED:
            raise JobFailedError(current)
        wait = max(interval, retry_after(response) or 0.0)
        if timeout is not None:
            remaining = timeout - ((yield Now()) - started)
            if remaining <= 0:
                raise PollTimeoutError(current, timeout)
            wait = min(wait, remaining)
        log.debug("job %s is %s; next look in %.1f s", current.uuid, current.status.value, wait)
        yield Sleep(wait)


def _download_request(
    config: Config, job: Job | str, fmt: DownloadFormat, timeout: TimeoutInput | _NotGiven
) -> httpx.Request:
    return build_request(
        config,
        "GET",
        f"api/v1/ocr/{job_id(job)}/download/",
        params={"format": fmt},
        timeout=timeout,
    )


def download(
    config: Config, job: Job | str, fmt: DownloadFormat, *, timeout: TimeoutInput | _NotGiven
) -> Call[bytes]:
    return Call(_download_request(config, job, fmt, timeout), content)


def download_to(
    config: Config,
    job: Job | str,
    fmt: DownloadFormat,
    path: Path,
    *,
    timeout: TimeoutInput | _NotGiven,
) -> Call[Path]:
    """The download streamed into ``path`` (never whole in memory); reads as the path."""
    request = _download_request(config, job, fmt, timeout)
    return Call(request, functools.partial(saved, path=path), into=path)


def chat(
    config: Config,
    job: Job | str,
    message: str,
    *,
    conversation: str | None,
    timeout: TimeoutInput | _NotGiven,
) -> Call[ChatReply]:
    body: dict[str, str] = {"message": message}
    if conversation is not None:
        body["conversation"] = conversation
    request = build_request(
        config, "POST", f"api/v1/chat/{job_id(job)}/", json=body, timeout=timeout
    )
    return Call(request, _reading(ChatReply))


def history(config: Config, job: Job | str, *, timeout: TimeoutInput | _NotGiven) -> Call[History]:
    request = build_request(config, "GET", f"api/v1/chat/{job_id(job)}/history/", timeout=timeout)
    return Call(request, _reading(History))


def list_jobs(
    config: Config,
    *,
    status: JobStatus | JobStatusName | None,
    limit: int | None,
    cursor: str | None,
    timeout: TimeoutInput | _NotGiven,
) -> Call[JobList]:
    query = {
        "status": status.value if isinstance(status, JobStatus) else status,
        "limit": str(limit) if limit is not None else None,
        "cursor": cursor,
    }
    params = {key: value for key, value in query.items() if value is not None}
    request = build_request(config, "GET", "api/v1/ocr/", params=params, timeout=timeout)
    return Call(request, _reading(JobList))


def update_account(
    config: Config,
    *,
    webhook_url: str | _NotGiven | None,
    rotate_webhook_secret: bool,
    timeout: TimeoutInput | _NotGiven,
) -> Call[Account]:
    body: dict[str, Any] = {}
    if not isinstance(webhook_url, _NotGiven):
        body["webhook_url"] = webhook_url
    if rotate_webhook_secret:
        body["rotate_webhook_secret"] = True
    if not body:
        raise ValueError("update_account() needs webhook_url= or rotate_webhook_secret=True")
    request = build_request(config, "PATCH", "api/v1/account/", json=body, timeout=timeout)
    return Call(request, _reading(Account))


def account(config: Config, *, timeout: TimeoutInput | _NotGiven) -> Call[Account]:
    request = build_request(config, "GET", "api/v1/account/", timeout=timeout)
    return Call(request, _reading(Account))


def _token_list(response: httpx.Response) -> list[ApiToken]:
    return parse(response, TokenList).tokens


def tokens(config: Config, *, timeout: TimeoutInput | _NotGiven) -> Call[list[ApiToken]]:
    request = build_request(config, "GET", "api/v1/account/tokens/", timeout=timeout)
    return Call(request, _token_list)


def create_token(config: Config, *, timeout: TimeoutInput | _NotGiven) -> Call[NewApiToken]:
    request = build_request(config, "POST", "api/v1/account/tokens/", timeout=timeout)
    return Call(request, _reading(NewApiToken))


def _revoked(response: httpx.Response) -> None:
    parse(response, RevokedToken)


def revoke_token(config: Config, key_id: str, *, timeout: TimeoutInput | _NotGiven) -> Call[None]:
    # escaped whole, as a job's id is: a key id names no other endpoint
    path = f"api/v1/account/tokens/{urllib.parse.quote(key_id, safe='')}/"
    request = build_request(config, "DELETE", path, timeout=timeout)
    return Call(request, _revoked)


def tools(config: Config, *, timeout: TimeoutInput | _NotGiven) -> Call[Tools]:
    request = build_request(config, "GET", "api/v1/tools/", timeout=timeout)
    return Call(request, _reading(Tools))


def engines(config: Config, *, timeout: TimeoutInput | _NotGiven) -> Call[Engines]:
    request = build_request(config, "GET", "api/v1/engines/", timeout=timeout)
    return Call(request, _reading(Engines))


def delete(
    config: Config, job: Job | str, *, timeout: TimeoutInput | _NotGiven
) -> Call[DeletedJob]:
    request = build_request(config, "DELETE", f"api/v1/ocr/{job_id(job)}/", timeout=timeout)
    return Call(request, _reading(DeletedJob))
