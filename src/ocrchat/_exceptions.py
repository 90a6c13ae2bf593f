"""Everything the SDK raises, under one base class:

    OcrchatError
    ├── ConfigurationError          no API token, bad base URL
    ├── APIConnectionError          the server could not be reached
    │   └── APITimeoutError         ... or did not answer in time
    ├── APIStatusError              the server answered with an error status
    │   ├── BadRequestError         400
    │   ├── AuthenticationError     401
    │   ├── QuotaExceededError      402  (.used, .cap, .limit)
    │   ├── NotFoundError           404
    │   ├── ConflictError           409  last_token, too_many_tokens
    │   │   └── JobNotReadyError    409  a job not done yet
    │   ├── RateLimitError          429
    │   └── ServerError             5xx
    ├── APIResponseValidationError  a success whose body is not what the API sends
    ├── JobFailedError              the job ended ``failed`` (.job)
    └── PollTimeoutError            poll(), ocr(): still running after the timeout (.job)

Each ``APIStatusError`` keeps the status, the server's message and
``code``, the parsed error body, the ``httpx.Response`` and the server's
``request_id`` (its ``X-Request-ID``: quote it when reporting a problem).
Connection errors, timeouts, 408, 429 and 5xx are retried before they are raised
(``max_retries`` and ``max_retry_seconds`` of the client).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from ocrchat.models import ErrorBody, Job

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "JobFailedError",
    "JobNotReadyError",
    "NotFoundError",
    "OcrchatError",
    "PollTimeoutError",
    "QuotaExceededError",
    "RateLimitError",
    "ServerError",
]


class OcrchatError(Exception):
    """The base of every error this SDK raises: catch it to catch them all."""


class ConfigurationError(OcrchatError):
    """The client cannot be made as asked: no API token (pass ``api_token=`` or set
    ``OCRCHAT_API_TOKEN``), or a base URL that is not ``http(s)://host[:port][/path]``.
    The constructor raises it, before any request."""


class APIConnectionError(OcrchatError):
    """The server could not be reached (a name that does not resolve, a refused or
    dropped connection), on the last of the retries. No answer came."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.request = request
        """The ``httpx.Request`` that could not be sent; None when not known."""


class APITimeoutError(APIConnectionError):
    """The server did not answer within the ``timeout`` (the client's, or the call's),
    on the last of the retries."""


class APIResponseValidationError(OcrchatError):
    """A successful answer whose body is not what the API sends: not JSON, or not the
    expected shape (a proxy's login page, or not an ocrchat server at that URL)."""

    def __init__(self, message: str, *, response: httpx.Response) -> None:
        self.request_id = _request_id(response)
        """The server's ``X-Request-ID`` for the request; None when it sent none."""
        super().__init__(_with_request_id(message, self.request_id))
        self.response = response
        """The ``httpx.Response`` whose body was not what the API sends."""
        self.status_code = response.status_code
        """Its HTTP status (a success: 2xx)."""


class APIStatusError(OcrchatError):
    """The server answered with an error status. The common ones have a subclass each;
    any other (405, 408, ...) raises this class itself."""

    status_code: int
    """The HTTP status, e.g. 404."""
    request_id: str | None
    """The server's ``X-Request-ID`` for the request (else the body's ``request_id``):
    the server's log lines for it carry the same id."""

    def __init__(self, body: ErrorBody, *, response: httpx.Response) -> None:
        self.request_id = _request_id(response) or body.request_id
        super().__init__(
            _with_request_id(f"{response.status_code} {body.code}: {body.error}", self.request_id)
        )
        self.status_code = response.status_code
        self.message = body.error
        """The server's sentence saying what went wrong (``ErrorBody.error``)."""
        self.code = body.code
        """The server's stable snake_case code (``ErrorBody.code``), e.g. ``job_not_done``."""
        self.body = body
        """The whole error body, as an ``ErrorBody``: its ``details`` hold any other fields."""
        self.response = response
        """The ``httpx.Response``, with its headers (``Retry-After``, ...)."""


class BadRequestError(APIStatusError):
    """400: the request was refused as it is (no file, an unreadable one, a bad parameter);
    ``code`` says what, e.g. ``invalid_pages`` or ``unsupported_language``."""


class AuthenticationError(APIStatusError):
    """401: the API token is missing or unknown."""


class QuotaExceededError(APIStatusError):
    """402: out of pages. ``used`` and ``cap`` say where the account stands; ``limit`` which
    one. Nothing was charged."""

    @property
    def used(self) -> int | None:
        """Pages already used under the limit (the body's ``used``); None when not given."""
        return _int_or_none(self.body.details.get("used"))

    @property
    def cap(self) -> int | None:
        """The limit, in pages (the body's ``cap``); None when not given."""
        return _int_or_none(self.body.details.get("cap"))

    @property
    def limit(self) -> str | None:
        """Which limit was reached: ``daily``, ``monthly`` or ``pages_per_file``; None when
        not given."""
        value = self.body.details.get("limit")
        return str(value) if value is not None else None


class NotFoundError(APIStatusError):
    """404: no such job (a job of another account answers the same), conversation or
    endpoint."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the state of what it names: revoking the account's
    only API token (``last_token``), a new token for an account that holds the most it may
    (``too_many_tokens``), or a job that is not done (``JobNotReadyError``)."""


class JobNotReadyError(ConflictError):
    """409: a download or chat of a job that is not done yet (``job_not_done``): ``poll``
    it first. A job that failed raises ``JobFailedError`` instead."""


class RateLimitError(APIStatusError):
    """429: too many requests in a minute (``rate_limited``), or too many pages queued for
    the account (``too_many_queued_pages``). Retried, after the server's ``Retry-After``,
    before it is raised."""


class ServerError(APIStatusError):
    """5xx: the server failed (500), its language model did (502, 504), the tier cannot
    read now (503 ``tier_unavailable``) or its disk is full (507). 500, 502, 504 and a 503
    with ``Retry-After`` are retried before it is raised."""


class JobFailedError(OcrchatError):
    """The job ended ``failed``: ``poll`` and ``ocr`` raise it, and ``download`` and
    ``chat`` of a failed job. ``job.error`` says why."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"job {job.uuid} failed: {job.error or 'no reason given'}")
        self.job = job
        """The failed job. From a download or chat, a job with only its ``uuid``, ``status``
        and ``error``."""


class PollTimeoutError(OcrchatError):
    """The job was still running when the wait ran out (``poll``'s ``timeout``, ``ocr``'s
    ``wait_timeout``). The job goes on: ``poll`` it again to wait longer."""

    def __init__(self, job: Job, timeout: float) -> None:
        super().__init__(f"job {job.uuid} still {job.status.value} after {timeout:g} s")
        self.job = job
        """The job as last seen, with its ``progress``."""
        self.timeout = timeout
        """The wait that ran out, in seconds."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: QuotaExceededError,
    404: NotFoundError,
    # the public service's 409s are about jobs not done, whatever their code says
    409: JobNotReadyError,
    429: RateLimitError,
}
_BY_CODE: dict[tuple[int, str], type[APIStatusError]] = {
    (409, "last_token"): ConflictError,
    (409, "too_many_tokens"): ConflictError,
}


def error_class_for(status: int, code: str | None = None) -> type[APIStatusError]:
    """The exception class an error status (and the body's ``code``) raises."""
    if status >= 500:
        return ServerError
    if code is not None and (status, code) in _BY_CODE:
        return _BY_CODE[status, code]
    return _BY_STATUS.get(status, APIStatusError)


def _request_id(response: httpx.Response) -> str | None:
    found: str | None = response.headers.get("X-Request-ID")
    return found


def _with_request_id(message: str, request_id: str | None) -> str:
    return f"{message} (request id {request_id})" if request_id else message


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
