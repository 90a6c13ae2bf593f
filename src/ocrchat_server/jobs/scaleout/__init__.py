"""The scale-out mode: several API servers and workers on any number of hosts.

Records in PostgreSQL (:mod:`.postgres_store`, schema by :mod:`.migrate`),
files in a directory every host mounts (the same
:class:`~ocrchat_server.jobs.embedded.local_storage.LocalStorage`, on shared
storage), pages read by Celery workers over Redis (:mod:`.celery_queue`).
Chosen by configuration alone: ``--database-url``, ``--broker-url`` and
``--storage``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocrchat_server.jobs.embedded.local_storage import LocalStorage
from ocrchat_server.jobs.interfaces import Backend
from ocrchat_server.jobs.records import Clock, utc_now

if TYPE_CHECKING:
    from ocrchat_server.jobs.scaleout.postgres_store import PostgresStore
    from ocrchat_server.settings import Settings


def shared_storage(settings: Settings) -> LocalStorage:
    storage = LocalStorage(settings.storage or settings.data_dir)
    storage.create_dirs()
    return storage


def open_backend(settings: Settings, *, clock: Clock = utc_now) -> tuple[Backend, PostgresStore]:
    """The PostgreSQL records (also returned as themselves, for the queue) and the shared
    storage. Raises ``SchemaBehindError`` when the database needs ``db upgrade``."""
    from ocrchat_server.jobs.scaleout.postgres_store import PostgresStore

    assert settings.database_url is not None
    store = PostgresStore(settings.database_url, clock=clock)
    return Backend(records=store, storage=shared_storage(settings)), store
