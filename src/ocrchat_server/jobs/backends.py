"""Which backend a server runs on, chosen by its settings alone: the embedded one
(SQLite, the data dir, a process pool) unless a database URL is given."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocrchat_server.jobs import embedded
from ocrchat_server.jobs.records import Clock, utc_now

if TYPE_CHECKING:
    from ocrchat_server.jobs.interfaces import Backend
    from ocrchat_server.settings import Settings


def open_backend(settings: Settings, *, clock: Clock = utc_now) -> Backend:
    """The records and storage the settings name (for the admin commands and tests)."""
    if settings.scale_out:
        from ocrchat_server.jobs import scaleout

        backend, _ = scaleout.open_backend(settings, clock=clock)
        return backend
    return embedded.open_backend(settings, clock=clock)
