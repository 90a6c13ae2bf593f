"""The root of the errors the layers under HTTP raise for the user to see.

Each layer has its own (``jobs.errors``, ``chat.errors``, ``llm``); none knows
HTTP. ``http.errors`` holds the one table that turns them into statuses, and
the body ``{"error": ..., "code": ...}``. A message is one short sentence that
never holds a path, a token or a traceback.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    """A refusal or failure worded for the user, with a stable snake_case code."""

    code: ClassVar[str] = "error"
    """The default code of the class; an instance may carry a more precise one."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        retry_after: int | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]  # an instance's own, over the class's
        self.details = details
        self.retry_after = retry_after
        """Seconds after which trying again is worth it, when it is."""
