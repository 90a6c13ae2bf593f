"""Every error leaves the server as ``{"error": ..., "code": ...}``.

Never an HTML page, never a traceback; with the request's ``request_id`` (its
``X-Request-ID``), which its log lines carry too. The layers below raise their own
errors (:class:`~ocrchat_server.errors.ServiceError` and its kinds);
:data:`STATUS_OF` is the one place that gives each its HTTP status. What only
HTTP can get wrong (a token, a form, a query parameter) is an :class:`HttpError`.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ocrchat._serde import unstructure
from ocrchat.models import ErrorBody
from ocrchat_server.chat.errors import ConversationNotFoundError, NothingToChatAboutError
from ocrchat_server.errors import ServiceError
from ocrchat_server.http.request_ids import current_request_id
from ocrchat_server.jobs.errors import (
    InsufficientStorageError,
    InvalidRequestError,
    JobNotDoneError,
    JobNotFoundError,
    LastTokenError,
    PlanNotConfiguredError,
    QuotaExceededError,
    TierUnavailableError,
    TokenNotFoundError,
    TooManyQueuedPagesError,
    TooManyTokensError,
)
from ocrchat_server.llm import LanguageModelTimeoutError, LanguageModelUnavailableError

log = logging.getLogger(__name__)

STATUS_OF: dict[type[ServiceError], HTTPStatus] = {
    InvalidRequestError: HTTPStatus.BAD_REQUEST,
    QuotaExceededError: HTTPStatus.PAYMENT_REQUIRED,
    JobNotFoundError: HTTPStatus.NOT_FOUND,
    ConversationNotFoundError: HTTPStatus.NOT_FOUND,
    TokenNotFoundError: HTTPStatus.NOT_FOUND,
    JobNotDoneError: HTTPStatus.CONFLICT,
    NothingToChatAboutError: HTTPStatus.CONFLICT,
    LastTokenError: HTTPStatus.CONFLICT,
    TooManyTokensError: HTTPStatus.CONFLICT,
    PlanNotConfiguredError: HTTPStatus.INTERNAL_SERVER_ERROR,
    LanguageModelUnavailableError: HTTPStatus.BAD_GATEWAY,
    LanguageModelTimeoutError: HTTPStatus.GATEWAY_TIMEOUT,
    TierUnavailableError: HTTPStatus.SERVICE_UNAVAILABLE,
    InsufficientStorageError: HTTPStatus.INSUFFICIENT_STORAGE,
    TooManyQueuedPagesError: HTTPStatus.TOO_MANY_REQUESTS,
}
"""The status of each kind of error the layers raise; a subclass not listed gets its
nearest listed base's."""


class HttpError(Exception):
    """What only the HTTP layer can find wrong: credentials, the form, a query parameter."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        retry_after: int | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.details = details


def bad_request(code: str, message: str, **details: Any) -> HttpError:
    return HttpError(400, code, message, **details)


def status_of(error: ServiceError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS_OF:
            return STATUS_OF[kind]
    return HTTPStatus.INTERNAL_SERVER_ERROR


_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **details: object
) -> JSONResponse:
    body = ErrorBody(
        error=message, code=code, details=dict(details), request_id=current_request_id()
    )
    return JSONResponse(unstructure(body), status_code=status, headers=headers)


async def service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
    return error_response(status_of(exc), exc.code, exc.message, headers, **exc.details)


async def http_layer_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HttpError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return error_response(exc.status, exc.code, exc.message, headers or None, **exc.details)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = "No such endpoint. The API lives under /api/v1/ and every path ends with /."
    else:
        message = f"{HTTPStatus(exc.status_code).phrase}."
    code = _CODES.get(exc.status_code, HTTPStatus(exc.status_code).name.lower())
    return error_response(exc.status_code, code, message, dict(exc.headers or {}))


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "The server failed to handle this request.")
