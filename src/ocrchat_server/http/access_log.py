"""The access log: method, path, status, time and request id, never the query string.

Uvicorn's own access log prints the query string, and ``?api_token=`` is
a way to authenticate, so the server turns it off and logs here instead.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from ocrchat_server.http.request_ids import current_request_id

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("ocrchat_server.access")


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            client = scope.get("client")
            log.info(
                '%s "%s %s" %d %.0fms %s',
                client[0] if client else "-",
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
                current_request_id() or "-",
            )
