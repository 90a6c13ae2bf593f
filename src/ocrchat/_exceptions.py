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
    │   ├── JobNotReadyError        409
    │   ├── RateLimitError          429
    │   └── ServerError             5xx
    ├── JobFailedError              poll(): the job ended ``failed`` (.job)
    └── PollTimeoutError            poll(): still running after the timeout (.job)

Each :class:`APIStatusError` keeps the status, the server's message and
``code``, the parsed error body, the ``httpx.Response`` and the server's
``request_id`` (its ``X-Request-ID``: quote it when reporting a problem).
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
    """The base of every error this SDK raises."""


class ConfigurationError(OcrchatError):
    pass


class APIConnectionError(OcrchatError):
    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.request = request


class APITimeoutError(APIConnectionError):
    pass


class APIResponseValidationError(OcrchatError):
    """A successful answer whose body is not what the API sends: not JSON, or not the
    expected shape (a proxy's login page, or not an ocrchat server at that URL)."""

    def __init__(self, message: str, *, response: httpx.Response) -> None:
        self.request_id = _request_id(response)
        super().__init__(_with_request_id(message, self.request_id))
        self.response = response
        self.status_code = response.status_code


class APIStatusError(OcrchatError):
    status_code: int
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
        self.code = body.code
        self.body = body
        self.response = response


class BadRequestError(APIStatusError):
    pass


class AuthenticationError(APIStatusError):
    pass


class QuotaExceededError(APIStatusError):
    """Out of pages. ``used`` and ``cap`` say where the account stands; ``limit`` which one."""

    @property
    def used(self) -> int | None:
        return _int_or_none(self.body.details.get("used"))

    @property
    def cap(self) -> int | None:
        return _int_or_none(self.body.details.get("cap"))

    @property
    def limit(self) -> str | None:
        value = self.body.details.get("limit")
        return str(value) if value is not None else None


class NotFoundError(APIStatusError):
    pass


class JobNotReadyError(APIStatusError):
    pass


class RateLimitError(APIStatusError):
    pass


class ServerError(APIStatusError):
    pass


class JobFailedError(OcrchatError):
    def __init__(self, job: Job) -> None:
        super().__init__(f"job {job.uuid} failed: {job.error or 'no reason given'}")
        self.job = job


class PollTimeoutError(OcrchatError):
    def __init__(self, job: Job, timeout: float) -> None:
        super().__init__(f"job {job.uuid} still {job.status.value} after {timeout:g} s")
        self.job = job
        self.timeout = timeout


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: QuotaExceededError,
    404: NotFoundError,
    409: JobNotReadyError,
    429: RateLimitError,
}


def error_class_for(status: int) -> type[APIStatusError]:
    if status >= 500:
        return ServerError
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
