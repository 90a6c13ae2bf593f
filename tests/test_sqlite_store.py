"""The embedded backend's own records: what the SQLite file holds."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from ocrchat_server.jobs.embedded.sqlite_store import SqliteStore
from ocrchat_server.jobs.errors import LastTokenError
from ocrchat_server.jobs.tokens import hash_token
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


# The tables as a server before page selection and webhooks (schema version 2) made them.
_VERSION_2 = """
CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL, plan TEXT NOT NULL,
    credits INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0));
CREATE TABLE jobs (uuid TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    status TEXT NOT NULL, tier TEXT NOT NULL, language TEXT NOT NULL, tool TEXT,
    translate_to TEXT, engine TEXT NOT NULL DEFAULT 'auto', ocr TEXT NOT NULL DEFAULT 'auto',
    filename TEXT, format TEXT NOT NULL, page_count INTEGER NOT NULL,
    pages_done INTEGER NOT NULL DEFAULT 0, error TEXT, interruptions INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT, expires_at TEXT,
    idempotency_key TEXT, priority INTEGER NOT NULL DEFAULT 0);
INSERT INTO accounts VALUES (1, 'dana', '2026-03-01T09:00:00+00:00', 'free', 0);
INSERT INTO jobs (uuid, account_id, status, tier, language, format, page_count, created_at)
    VALUES ('0b7d3c4e-0000-4000-8000-000000000001', 1, 'pending', 'cpu', 'eng', 'pdf', 9,
            '2026-03-01T09:00:00+00:00');
PRAGMA user_version = 2;
"""


def test_a_store_made_by_an_older_server_is_upgraded(tmp_path: Path) -> None:
    database = Settings(data_dir=tmp_path).database
    database.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(database) as old:
        old.executescript(_VERSION_2)
    store = SqliteStore(database)
    try:
        account = store.account_by_name("dana")
        (job,) = store.list_jobs(account.id, limit=10)
        # the job reads every page, as it did, and still counts as 9 queued pages
        assert job.selected_pages is None
        assert job.pages_to_read == 9
        assert store.pages_queued(account.id) == 9
        assert account.webhook_url is None
        assert store.webhook_secret(account.id).startswith("whsec_")
        assert store.get_webhook(job.uuid) is None
    finally:
        store.close()


# The tables a server of schema version 3 made (before web sessions), with an account and
# its token: `ocr_0123456789ab_version-3-secret`.
_VERSION_3 = """
CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL, plan TEXT NOT NULL,
    credits INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0), webhook_url TEXT,
    webhook_secret TEXT);
CREATE TABLE tokens (id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key_id TEXT NOT NULL UNIQUE, token_sha256 BLOB NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE jobs (uuid TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    status TEXT NOT NULL, tier TEXT NOT NULL, language TEXT NOT NULL, tool TEXT,
    translate_to TEXT, engine TEXT NOT NULL DEFAULT 'auto', ocr TEXT NOT NULL DEFAULT 'auto',
    filename TEXT, format TEXT NOT NULL, page_count INTEGER NOT NULL,
    pages_done INTEGER NOT NULL DEFAULT 0, error TEXT, interruptions INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT, expires_at TEXT,
    idempotency_key TEXT, priority INTEGER NOT NULL DEFAULT 0, selected_pages TEXT,
    pages_to_read INTEGER NOT NULL DEFAULT 0, webhook_url TEXT);
INSERT INTO accounts (id, name, created_at, plan) VALUES
    (1, 'dana', '2026-03-01T09:00:00+00:00', 'free');
INSERT INTO tokens (account_id, key_id, token_sha256, created_at) VALUES
    (1, '0123456789ab', X'{hash}', '2026-03-01T09:00:00+00:00');
PRAGMA user_version = 3;
"""


def test_a_store_of_version_3_gets_web_sessions(tmp_path: Path) -> None:
    token = "ocr_0123456789ab_version-3-secret"
    database = Settings(data_dir=tmp_path).database
    database.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(database) as old:
        old.executescript(_VERSION_3.replace("{hash}", hash_token(token).hex()))
    store = SqliteStore(database)
    try:
        account = store.authenticate(token)
        assert account is not None
        assert account.name == "dana"
        (listed,) = store.tokens(account.id)
        assert listed.key_id == "0123456789ab"
        assert listed.created_at == dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
        now = dt.datetime.now(dt.UTC)
        session_id, session = store.create_web_session(
            account.id, listed.key_id, now + dt.timedelta(hours=1)
        )
        assert store.web_session(session_id, now) == (account, session)
        with pytest.raises(LastTokenError):
            store.revoke_token(account.id, listed.key_id)
    finally:
        store.close()
    with sqlite3.connect(database) as upgraded:
        assert upgraded.execute("PRAGMA user_version").fetchone() == (4,)
