"""Requests per account: a moving window kept by the ``limits`` library.

The embedded server keeps the windows in its memory. In the scale-out mode they
are kept in the broker's Redis, so that every API server counts the same
requests (``limits`` runs its own Lua scripts there). While that Redis refuses
them (unreachable, out of memory), requests are let through uncounted: a limit
that cannot be counted must not take the whole API down with it.
"""

from __future__ import annotations

import logging
import math
import time
from http import HTTPStatus

import limits
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from ocrchat_server.http.errors import HttpError

log = logging.getLogger(__name__)

_WARN_EVERY = 60.0
"""Seconds between two warnings that the limit is not counted (one per request would
flood the log while Redis is down)."""


class AccountRateLimit:
    """At most ``per_minute`` requests by one account in any sixty seconds."""

    def __init__(self, per_minute: int, *, redis_url: str | None = None) -> None:
        self.per_minute = per_minute
        self.item = limits.RateLimitItemPerMinute(per_minute)
        storage = (
            storage_from_string(f"async+{redis_url}", implementation="redispy")
            if redis_url
            else MemoryStorage()
        )
        assert isinstance(storage, Storage)  # an async+ URL gives an asyncio storage
        self.storage_errors = storage.base_exceptions
        self.limiter = MovingWindowRateLimiter(storage)
        self._warned_at = -math.inf

    async def check(self, account_id: int) -> None:
        """Count a request by the account; :class:`HttpError` 429 when it is one too many."""
        key = str(account_id)
        try:
            if await self.limiter.hit(self.item, "account", key):
                return
        except self.storage_errors as exc:
            if time.monotonic() - self._warned_at > _WARN_EVERY:
                self._warned_at = time.monotonic()
                log.warning("requests are not counted against the rate limit: %s", exc)
            return
        stats = await self.limiter.get_window_stats(self.item, "account", key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise HttpError(
            HTTPStatus.TOO_MANY_REQUESTS,
            "rate_limited",
            f"This account sent more than {self.per_minute} requests in a minute; "
            f"try again in {retry_after} s.",
            retry_after=retry_after,
        )
