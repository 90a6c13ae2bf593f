"""The SDK's log: the ``ocrchat`` logger, and ``OCRCHAT_LOG`` (as openai's ``OPENAI_LOG``).

At ``INFO`` the SDK logs each request (method, URL, status, time, request id) and each
retry (why, and how long it waits); at ``DEBUG`` also the headers it sends (never the
``Authorization`` header: the token is never logged) and the waits between looks at a
job. Like any library it only logs: configure the ``ocrchat`` logger as you like, or set
``OCRCHAT_LOG=debug`` (or ``info``) and the first client made sends it to stderr.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import httpx

LOG_VARIABLE = "OCRCHAT_LOG"

log = logging.getLogger("ocrchat")

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
_FORMAT = "[%(asctime)s %(name)s %(levelname)s] %(message)s"
_SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


class _EnvironmentHandler(logging.StreamHandler[TextIO]):
    """The stderr handler ``OCRCHAT_LOG`` asked for (told apart from the user's own)."""


def log_from_environment() -> None:
    """With ``OCRCHAT_LOG=debug`` or ``info``: the ``ocrchat`` logger at that level, with
    one stderr handler (added once, however many clients are made). Else nothing."""
    level = _LEVELS.get(os.environ.get(LOG_VARIABLE, "").strip().lower())
    if level is None:
        return
    if not any(isinstance(handler, _EnvironmentHandler) for handler in log.handlers):
        handler = _EnvironmentHandler()  # stderr
        handler.setFormatter(logging.Formatter(_FORMAT))
        log.addHandler(handler)
    log.setLevel(level)


def redacted(headers: httpx.Headers) -> dict[str, str]:
    """Headers fit for a log: the ``Authorization`` header's value is never shown."""
    return {
        name: "<redacted>" if name.lower() in _SECRET_HEADERS else value
        for name, value in headers.items()
    }
