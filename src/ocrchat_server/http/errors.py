"""Every error leaves the server as ``{"error": ..., "code": ...}``.

Never an HTML page, never a traceback.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ocrchat._serde import unstructure
from ocrchat.models import ErrorBody
from ocrchat_server.errors import ApiError

log = logging.getLogger(__name__)

_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **details: object
) -> JSONResponse:
    body = ErrorBody(error=message, code=code, details=dict(details))
    return JSONResponse(unstructure(body), status_code=status, headers=headers)


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
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
