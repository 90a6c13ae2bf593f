"""The embedded backend's own records: what the SQLite file holds."""

from __future__ import annotations

from pathlib import Path

from ocrchat_server.jobs.embedded.sqlite_store import SqliteStore
from ocrchat_server.settings import Settings


def test_tokens_are_stored_hashed(tmp_path: Path) -> None:
    database = Settings(data_dir=tmp_path).database
    store = SqliteStore(database)
    try:
        account, first = store.create_account("carol")
        second = store.create_token("carol")
        assert store.authenticate(first) == store.authenticate(second) == account
    finally:
        store.close()
    stored = b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))
    assert first.encode() not in stored
    assert second.encode() not in stored
