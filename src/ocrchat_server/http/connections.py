"""What a connection may cost the server: slow clients, too many of them, and their logs.

uvicorn times out idle keep-alive connections, but nothing bounds a client that
sends its request head a byte at a time: 1,100 such connections once took every
file descriptor, and ``/healthz`` with them. Here:

- :class:`HeadTimeoutH11Protocol`: a connection must send a whole request head
  within ``head_timeout`` seconds of opening (or of its last response), or it is
  closed. The body's own pace is bounded where it is read (``http.uploads``).
- :func:`raise_file_limit`: the soft file-descriptor limit raised to the hard one,
  so that the connection cap (uvicorn's ``limit_concurrency``, answered with 503)
  is reached well before the descriptors run out.
- :class:`RepeatedLogFilter`: the same message logged over and over (an accept
  loop out of descriptors logs a traceback per try) is let through a few times a
  minute, then counted.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)


class HeadTimeoutH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection that is slow to send a request head.

    Made for a server by :func:`head_timeout_protocol`, which sets ``head_timeout``."""

    head_timeout: float = 10.0
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def handle_events(self) -> None:
        super().handle_events()
        if self._request_in_progress():
            self._disarm_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_timer()  # the next request on the connection gets its own

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def _request_in_progress(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_too_slow)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if not self._request_in_progress() and not self.transport.is_closing():
            self.transport.close()


def head_timeout_protocol(seconds: float) -> type[HeadTimeoutH11Protocol]:
    """The protocol class to give ``uvicorn.run(http=...)``, with its head timeout."""
    return type("HeadTimeoutH11Protocol", (HeadTimeoutH11Protocol,), {"head_timeout": seconds})


def raise_file_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit; the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            return soft
        return hard
    return soft


class RepeatedLogFilter(logging.Filter):
    """Let each distinct warning or error (logger, level, format string) through ``burst``
    times a ``window``; the rest are counted and reported once the window is over. Records
    below WARNING (the access log: one format string for every request) all pass."""

    def __init__(self, burst: int = 5, window: float = 60.0) -> None:
        super().__init__()
        self.burst = burst
        self.window = window
        self._seen: dict[tuple[str, int, Any], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, record.msg)
        now = time.monotonic()
        started, count = self._seen.get(key, (now, 0))
        if now - started > self.window:
            if count > self.burst:
                record.msg = f"{record.msg} (and {count - self.burst} more like it, not logged)"
            started, count = now, 0
        self._seen[key] = (started, count + 1)
        if len(self._seen) > 10_000:  # one-off messages must not pile up
            self._seen.clear()
        return count < self.burst
