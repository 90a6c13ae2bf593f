"""``X-Request-ID``: one id per request, on its response, its error body and its log lines.

A client that sends a sane ``X-Request-ID`` (1 to 128 of ``A-Z a-z 0-9 . _ : -``, as a
proxy or a caller's own tracing sets it) gets it back; any other request gets a new
``req_<32 hex digits>``. While the request is handled the id is in
:data:`REQUEST_ID`, so that :func:`~ocrchat_server.http.errors.error_response` puts it
in every error body and :class:`RequestIdFilter` on a log handler gives every record a
``request_id`` (``-`` outside a request) for its format.

:class:`RequestIdMiddleware` is pure ASGI (Starlette's ``BaseHTTPMiddleware`` would
hold streamed downloads back), and the app puts it outside Starlette's own error
middleware, so that a 500 carries the id too.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from typing import TYPE_CHECKING

from starlette.datastructures import Headers, MutableHeaders

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "ocrchat_request_id", default=None
)
"""The id of the request being handled in this context; None outside one."""

_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def current_request_id() -> str | None:
    return REQUEST_ID.get()


def request_id_for(sent: str | None) -> str:
    """The id the client sent when it is sane (no spaces, quotes or control characters
    that could forge a log line or a header), else a new one."""
    if sent is not None and _SANE.fullmatch(sent):
        return sent
    return f"req_{uuid.uuid4().hex}"


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_for(Headers(scope=scope).get(HEADER))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        token = REQUEST_ID.set(request_id)
        await self.app(scope, receive, send_with_id)
        # Reset only on the way out: after an exception the id stays set (in this
        # request's own task), so that the ASGI server's report of it carries the id too.
        REQUEST_ID.reset(token)


class RequestIdFilter(logging.Filter):
    """Give each record the id of the request it was logged in (``-`` outside one), as
    ``record.request_id`` for a handler's format: ``... [%(request_id)s] %(message)s``.

    Put it on the handlers (``handler.addFilter(RequestIdFilter())``): a logger's own
    filters do not see the records of the loggers below it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get() or "-"
        return True
