"""The embedded mode: zero configuration, one machine.

Records in one SQLite file (:mod:`.sqlite_store`), files under the data
directory (:mod:`.local_storage`), pages read by a pool of this server's own
worker processes (:mod:`.process_pool`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocrchat_server.jobs.embedded.local_storage import LocalStorage
from ocrchat_server.jobs.embedded.sqlite_store import SqliteStore
from ocrchat_server.jobs.interfaces import Backend
from ocrchat_server.jobs.records import Clock, utc_now

if TYPE_CHECKING:
    from ocrchat_server.settings import Settings


def open_backend(settings: Settings, *, clock: Clock = utc_now) -> Backend:
    """The records and storage under ``settings.data_dir`` (made when missing)."""
    storage = LocalStorage(settings.data_dir)
    storage.create_dirs()
    return Backend(records=SqliteStore(settings.database, clock=clock), storage=storage)
