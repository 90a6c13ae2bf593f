"""The one error type every layer raises for the user to see.

The HTTP layer turns it into ``{"error": ..., "code": ...}`` with its status;
the message is one short sentence that never holds a path, a token or a traceback.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.retry_after: int | None = None
        """Seconds for a ``Retry-After`` header, when waiting is worth it."""


def bad_request(code: str, message: str, **details: Any) -> ApiError:
    return ApiError(400, code, message, **details)


def not_found() -> ApiError:
    # The same answer for "no such job" and "not yours", so ids cannot be probed.
    return ApiError(404, "not_found", "No job with that id exists for this account.")
