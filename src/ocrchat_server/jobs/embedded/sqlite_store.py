"""The embedded mode's records: accounts, API tokens, web sessions, jobs, charges and
conversations in one SQLite file.

:class:`SqliteStore` is the one implementation of the record interfaces in
:mod:`ocrchat_server.jobs.interfaces` that needs no other server. Only the
server process writes jobs; the admin command writes accounts and tokens,
possibly while the server runs, which WAL mode and a busy timeout make safe.
Page results live in the result storage; this file holds what a job *is*,
not what it found.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from ocrchat._serde import structure, unstructure
from ocrchat.models import (
    ApiToken,
    ChatMessage,
    Citation,
    Conversation,
    JobStatus,
    NewApiToken,
    Role,
    Tier,
)
from ocrchat_server.jobs.errors import LastTokenError, TokenNotFoundError
from ocrchat_server.jobs.metering import Charge, Periods, Usage, split_refund
from ocrchat_server.jobs.records import (
    Account,
    AccountExistsError,
    Clock,
    DuplicateIdempotencyKeyError,
    JobPosition,
    JobRecord,
    NoSuchAccountError,
    StorageFullError,
    WebhookRecord,
    WebSession,
    job_columns,
    new_webhook_secret,
    page_selection_of,
    utc_now,
    webhook_message_id,
)
from ocrchat_server.jobs.tokens import (
    hash_token,
    key_id_of,
    matches,
    new_csrf_token,
    new_session_id,
    new_token,
)

if TYPE_CHECKING:
    from pathlib import Path

_SCHEMA_VERSION = 4
# Columns added after version 1, for stores made by an older server. New tables and
# indexes need no entry: _SCHEMA's IF NOT EXISTS makes them in an older store too.
_ADDED_COLUMNS = {
    2: (
        "ALTER TABLE jobs ADD COLUMN engine TEXT NOT NULL DEFAULT 'auto'",
        "ALTER TABLE jobs ADD COLUMN ocr TEXT NOT NULL DEFAULT 'auto'",
    ),
    3: (
        "ALTER TABLE jobs ADD COLUMN selected_pages TEXT",
        "ALTER TABLE jobs ADD COLUMN pages_to_read INTEGER NOT NULL DEFAULT 0",
        "UPDATE jobs SET pages_to_read = page_count",
        "ALTER TABLE jobs ADD COLUMN webhook_url TEXT",
        "ALTER TABLE accounts ADD COLUMN webhook_url TEXT",
        "ALTER TABLE accounts ADD COLUMN webhook_secret TEXT",
    ),
    4: (),  # the web_sessions table and tokens_by_account
}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    plan TEXT NOT NULL,
    credits INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0),
    webhook_url TEXT,
    webhook_secret TEXT
);
CREATE TABLE IF NOT EXISTS tokens (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key_id TEXT NOT NULL UNIQUE,
    token_sha256 BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tokens_by_account ON tokens (account_id, created_at);
-- Browsers signed in to the web app: the hash of each session's id (its cookie), never
-- the id; the token it was signed in with, whose revocation ends it; its CSRF token.
CREATE TABLE IF NOT EXISTS web_sessions (
    id_sha256 BLOB PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key_id TEXT NOT NULL REFERENCES tokens(key_id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS web_sessions_by_key ON web_sessions (key_id);
CREATE INDEX IF NOT EXISTS web_sessions_by_expiry ON web_sessions (expires_at);
CREATE TABLE IF NOT EXISTS jobs (
    uuid TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    tier TEXT NOT NULL,
    language TEXT NOT NULL,
    tool TEXT,
    translate_to TEXT,
    engine TEXT NOT NULL DEFAULT 'auto',
    ocr TEXT NOT NULL DEFAULT 'auto',
    filename TEXT,
    format TEXT NOT NULL,
    page_count INTEGER NOT NULL,
    pages_done INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    interruptions INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    expires_at TEXT,
    idempotency_key TEXT,
    priority INTEGER NOT NULL DEFAULT 0,
    -- the submit's `pages` (normalized, 1-based: "1-3,7"); NULL: every page
    selected_pages TEXT,
    -- the pages the job reads and is charged for: page_count, or those selected
    pages_to_read INTEGER NOT NULL DEFAULT 0,
    webhook_url TEXT
);
-- A finished job's webhook delivery, retried until the receiver takes it or time is up.
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    job_uuid TEXT PRIMARY KEY REFERENCES jobs(uuid) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status_code INTEGER,
    last_error TEXT,
    last_attempt_at TEXT,
    delivered_at TEXT,
    next_attempt_at TEXT,
    message_id TEXT,
    payload TEXT
);
CREATE INDEX IF NOT EXISTS webhooks_due ON webhook_deliveries (next_attempt_at)
    WHERE next_attempt_at IS NOT NULL;
-- What each job costs. Kept when the job is deleted or expires: usage is history.
CREATE TABLE IF NOT EXISTS charges (
    job_uuid TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    from_allowance INTEGER NOT NULL CHECK (from_allowance >= 0),
    from_credits INTEGER NOT NULL CHECK (from_credits >= 0)
);
CREATE INDEX IF NOT EXISTS charges_by_account ON charges (account_id, created_at);
-- Chat about a job; deleting or expiring the job deletes its conversations.
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    job_uuid TEXT NOT NULL REFERENCES jobs(uuid) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_by_job ON conversations (job_uuid, created_at);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    citations TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, created_at);
CREATE INDEX IF NOT EXISTS jobs_by_expiry ON jobs (expires_at);
CREATE INDEX IF NOT EXISTS jobs_by_account ON jobs (account_id, created_at);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_by_idempotency_key
    ON jobs (account_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
"""


@contextmanager
def _sqlite_full_raises_storage_full() -> Iterator[None]:
    """SQLite's "database or disk is full" as the records' :class:`StorageFullError`."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            raise StorageFullError(errno.ENOSPC, "The server's disk is full.") from exc
        raise


def _to_text(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _to_time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value is not None else None


def _utc_text(value: dt.datetime) -> str:
    """A time as text that sorts as the times do, whatever zone it came in: for the columns
    compared in queries."""
    return value.astimezone(dt.UTC).isoformat()


def _job_from_row(row: sqlite3.Row) -> JobRecord:
    created_at = _to_time(row["created_at"])
    assert created_at is not None
    return JobRecord(
        uuid=row["uuid"],
        account_id=row["account_id"],
        status=JobStatus(row["status"]),
        tier=Tier(row["tier"]),
        language=row["language"],
        format=row["format"],
        page_count=row["page_count"],
        created_at=created_at,
        tool=row["tool"],
        translate_to=row["translate_to"],
        engine=row["engine"],
        ocr=row["ocr"],
        filename=row["filename"],
        pages_done=row["pages_done"],
        error=row["error"],
        interruptions=row["interruptions"],
        started_at=_to_time(row["started_at"]),
        finished_at=_to_time(row["finished_at"]),
        expires_at=_to_time(row["expires_at"]),
        idempotency_key=row["idempotency_key"],
        priority=row["priority"],
        selected_pages=page_selection_of(row["selected_pages"], row["page_count"]),
        webhook_url=row["webhook_url"],
    )


def _webhook_from_row(row: sqlite3.Row) -> WebhookRecord:
    return WebhookRecord(
        job_uuid=row["job_uuid"],
        account_id=row["account_id"],
        url=row["url"],
        status=row["status"],
        attempts=row["attempts"],
        last_status_code=row["last_status_code"],
        last_error=row["last_error"],
        last_attempt_at=_to_time(row["last_attempt_at"]),
        delivered_at=_to_time(row["delivered_at"]),
        next_attempt_at=_to_time(row["next_attempt_at"]),
        message_id=row["message_id"],
        payload=row["payload"],
    )


def _message_from_row(row: sqlite3.Row) -> ChatMessage:
    return ChatMessage(
        role=Role(row["role"]),
        content=row["content"],
        citations=structure(json.loads(row["citations"]), list[Citation]),
        created_at=_to_time(row["created_at"]),
    )


class SqliteStore:
    """Accounts, tokens and jobs. Thread-safe; every method is one short transaction."""

    def __init__(self, path: Path, *, clock: Clock = utc_now) -> None:
        self.path = path
        self.clock = clock
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.execute("PRAGMA foreign_keys=ON")
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            fresh = not self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='jobs'"
            ).fetchone()
            # executescript commits on its own; the statements are idempotent
            self._db.executescript(_SCHEMA)
            if not fresh:
                for added in range(max(version, 1) + 1, _SCHEMA_VERSION + 1):
                    for statement in _ADDED_COLUMNS[added]:
                        self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction. A COMMIT that fails (a full disk) is rolled back too: left
        open, it made every later BEGIN fail, and the server wrote nothing until a restart."""
        with self._lock, _sqlite_full_raises_storage_full():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    with suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # --- accounts and tokens ------------------------------------------------

    def create_account(self, name: str, *, plan: str = "free") -> tuple[Account, str]:
        """A new account and its first API token (the only time the token is seen)."""
        now = self.clock()
        try:
            with self._transaction() as db:
                cursor = db.execute(
                    "INSERT INTO accounts (name, created_at, plan) VALUES (?, ?, ?)",
                    (name, now.isoformat(), plan),
                )
                account = Account(
                    id=int(cursor.lastrowid or 0), name=name, created_at=now, plan=plan, credits=0
                )
                token = self._insert_token(db, account.id, now)
        except sqlite3.IntegrityError as exc:
            raise AccountExistsError(name) from exc
        return account, token

    def create_token(self, account_name: str) -> str:
        account = self.account_by_name(account_name)
        with self._transaction() as db:
            return self._insert_token(db, account.id, self.clock())

    def add_token(self, account_id: int) -> NewApiToken:
        now = self.clock()
        with self._transaction() as db:
            token = self._insert_token(db, account_id, now)
        return NewApiToken(token=token, key_id=key_id_of(token), created_at=now)

    def tokens(self, account_id: int) -> list[ApiToken]:
        rows = self._query(
            "SELECT key_id, created_at FROM tokens WHERE account_id = ?"
            " ORDER BY created_at DESC, id DESC",
            (account_id,),
        )
        return [
            ApiToken(key_id=row["key_id"], created_at=dt.datetime.fromisoformat(row["created_at"]))
            for row in rows
        ]

    def revoke_token(self, account_id: int, key_id: str) -> None:
        """Delete the token (its web sessions go with it); never the account's last one."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT COUNT(*) AS tokens, COALESCE(SUM(key_id = ?), 0) AS found"
                " FROM tokens WHERE account_id = ?",
                (key_id, account_id),
            ).fetchone()
            if not row["found"]:
                raise TokenNotFoundError()
            if row["tokens"] == 1:
                raise LastTokenError()
            db.execute(
                "DELETE FROM tokens WHERE account_id = ? AND key_id = ?", (account_id, key_id)
            )

    def _insert_token(self, db: sqlite3.Connection, account_id: int, now: dt.datetime) -> str:
        token, key_id = new_token()
        db.execute(
            "INSERT INTO tokens (account_id, key_id, token_sha256, created_at) VALUES (?, ?, ?, ?)",
            (account_id, key_id, hash_token(token), now.isoformat()),
        )
        return token

    def account_by_name(self, name: str) -> Account:
        rows = self._query("SELECT * FROM accounts WHERE name = ?", (name,))
        if not rows:
            raise NoSuchAccountError(name)
        return self._account(rows[0])

    def set_plan(self, name: str, plan: str) -> Account:
        with self._transaction() as db:
            db.execute("UPDATE accounts SET plan = ? WHERE name = ?", (plan, name))
        return self.account_by_name(name)

    def add_credits(self, name: str, credits: int) -> Account:
        """Add (or, negative, take back) prepaid credits; the balance never goes below 0."""
        account = self.account_by_name(name)
        try:
            with self._transaction() as db:
                db.execute(
                    "UPDATE accounts SET credits = credits + ? WHERE id = ?", (credits, account.id)
                )
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"{name} has only {account.credits} credits") from exc
        return self.account_by_name(name)

    def authenticate(self, token: str) -> Account | None:
        """The token's account, or None. The hash comparison takes constant time."""
        key_id = key_id_of(token)
        rows = self._query(
            "SELECT a.*, t.token_sha256 FROM tokens t JOIN accounts a ON a.id = t.account_id "
            "WHERE t.key_id = ?",
            (key_id,),
        )
        if matches(token, rows[0]["token_sha256"] if rows else None):
            return self._account(rows[0])
        return None

    # --- web sessions ----------------------------------------------------------

    def create_web_session(
        self, account_id: int, key_id: str, expires_at: dt.datetime
    ) -> tuple[str, WebSession]:
        session_id = new_session_id()
        session = WebSession(
            account_id=account_id,
            key_id=key_id,
            csrf_token=new_csrf_token(),
            created_at=self.clock(),
            expires_at=expires_at,
        )
        with self._transaction() as db:
            # only with a token the account has: none inserted otherwise
            inserted = db.execute(
                "INSERT INTO web_sessions"
                " (id_sha256, account_id, key_id, csrf_token, created_at, expires_at)"
                " SELECT ?, account_id, key_id, ?, ?, ? FROM tokens"
                " WHERE account_id = ? AND key_id = ?",
                (
                    hash_token(session_id),
                    session.csrf_token,
                    _utc_text(session.created_at),
                    _utc_text(expires_at),
                    account_id,
                    key_id,
                ),
            )
            if inserted.rowcount != 1:
                raise TokenNotFoundError()
        return session_id, session

    def web_session(self, session_id: str, now: dt.datetime) -> tuple[Account, WebSession] | None:
        """Looked up by the id's hash, so the lookup's time says nothing of a stored id;
        the join drops a session whose token is gone."""
        rows = self._query(
            "SELECT a.*, s.key_id, s.csrf_token, s.created_at AS session_created_at,"
            " s.expires_at AS session_expires_at FROM web_sessions s"
            " JOIN tokens t ON t.key_id = s.key_id AND t.account_id = s.account_id"
            " JOIN accounts a ON a.id = s.account_id"
            " WHERE s.id_sha256 = ? AND s.expires_at > ?",
            (hash_token(session_id), _utc_text(now)),
        )
        if not rows:
            return None
        row = rows[0]
        session = WebSession(
            account_id=row["id"],
            key_id=row["key_id"],
            csrf_token=row["csrf_token"],
            created_at=dt.datetime.fromisoformat(row["session_created_at"]),
            expires_at=dt.datetime.fromisoformat(row["session_expires_at"]),
        )
        return self._account(row), session

    def end_web_session(self, session_id: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM web_sessions WHERE id_sha256 = ?", (hash_token(session_id),))

    def expire_web_sessions(self, now: dt.datetime) -> int:
        with self._transaction() as db:
            deleted = db.execute(
                "DELETE FROM web_sessions WHERE expires_at <= ?", (_utc_text(now),)
            )
        return deleted.rowcount

    @staticmethod
    def _account(row: sqlite3.Row) -> Account:
        created_at = _to_time(row["created_at"])
        assert created_at is not None
        return Account(
            id=row["id"],
            name=row["name"],
            created_at=created_at,
            plan=row["plan"],
            credits=row["credits"],
            webhook_url=row["webhook_url"],
        )

    def set_webhook_url(self, account_id: int, url: str | None) -> None:
        with self._transaction() as db:
            db.execute("UPDATE accounts SET webhook_url = ? WHERE id = ?", (url, account_id))

    def webhook_secret(self, account_id: int) -> str:
        """The key the account's deliveries are signed with, made on first use."""
        with self._transaction() as db:
            db.execute(
                "UPDATE accounts SET webhook_secret = ? WHERE id = ? AND webhook_secret IS NULL",
                (new_webhook_secret(), account_id),
            )
            row = db.execute(
                "SELECT webhook_secret FROM accounts WHERE id = ?", (account_id,)
            ).fetchone()
        return str(row["webhook_secret"])

    def rotate_webhook_secret(self, account_id: int) -> str:
        secret = new_webhook_secret()
        with self._transaction() as db:
            db.execute("UPDATE accounts SET webhook_secret = ? WHERE id = ?", (secret, account_id))
        return secret

    # --- jobs ---------------------------------------------------------------

    def insert_job(
        self, job: JobRecord, *, charge: Callable[[Usage], Charge] | None = None
    ) -> None:
        """Store a new job. With ``charge``, the job is paid for in the same transaction:
        ``charge`` gets the account's usage as it stands and returns what to take (or
        raises to refuse), so concurrent requests cannot spend the same allowance."""
        fields = job_columns(job)
        for name in ("created_at", "started_at", "finished_at", "expires_at"):
            fields[name] = _to_text(fields[name])  # type: ignore[arg-type]
        columns = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        # column names come from JobRecord's fields, never from a request
        sql = f"INSERT INTO jobs ({columns}) VALUES ({marks})"  # noqa: S608
        try:
            with self._transaction() as db:
                db.execute(sql, tuple(fields.values()))
                if job.webhook_url is not None:
                    db.execute(
                        "INSERT INTO webhook_deliveries (job_uuid, account_id, url, status,"
                        " message_id) VALUES (?, ?, ?, 'pending', ?)",
                        (job.uuid, job.account_id, job.webhook_url, webhook_message_id(job.uuid)),
                    )
                if charge is not None:
                    self._charge(db, job, charge)
        except sqlite3.IntegrityError as exc:
            if job.idempotency_key is not None and "idempotency_key" in str(exc):
                raise DuplicateIdempotencyKeyError(job.idempotency_key) from exc
            raise

    def _charge(
        self, db: sqlite3.Connection, job: JobRecord, charge: Callable[[Usage], Charge]
    ) -> None:
        periods = Periods.at(job.created_at)
        usage = self._usage(db, job.account_id, periods)
        taken = charge(usage)
        db.execute(
            "INSERT INTO charges (job_uuid, account_id, created_at, from_allowance, from_credits)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                job.uuid,
                job.account_id,
                job.created_at.isoformat(),
                taken.from_allowance,
                taken.from_credits,
            ),
        )
        db.execute(
            "UPDATE accounts SET credits = credits - ? WHERE id = ?",
            (taken.from_credits, job.account_id),
        )

    @staticmethod
    def _usage(db: sqlite3.Connection, account_id: int, periods: Periods) -> Usage:
        row = db.execute(
            "SELECT"
            " COALESCE(SUM(CASE WHEN created_at >= ? THEN from_allowance END), 0) AS day,"
            " COALESCE(SUM(from_allowance), 0) AS month,"
            " (SELECT credits FROM accounts WHERE id = ?) AS credits"
            " FROM charges WHERE account_id = ? AND created_at >= ?",
            (
                periods.day_start.isoformat(),
                account_id,
                account_id,
                periods.month_start.isoformat(),
            ),
        ).fetchone()
        return Usage(day=int(row["day"]), month=int(row["month"]), credits=int(row["credits"]))

    def usage(self, account_id: int) -> Usage:
        with self._lock:
            return self._usage(self._db, account_id, Periods.at(self.clock()))

    def refund(self, uuid: str, amount: int | None = None) -> int:
        """Give back ``amount`` of a job's charge (all of it when None), to the prepaid
        credits first; returns what was given back."""
        with self._transaction() as db:
            row = db.execute("SELECT * FROM charges WHERE job_uuid = ?", (uuid,)).fetchone()
            if row is None:
                return 0
            charged = Charge(int(row["from_allowance"]), int(row["from_credits"]))
            back = split_refund(charged, amount)
            db.execute(
                "UPDATE charges SET from_credits = from_credits - ?,"
                " from_allowance = from_allowance - ? WHERE job_uuid = ?",
                (back.from_credits, back.from_allowance, uuid),
            )
            db.execute(
                "UPDATE accounts SET credits = credits + ? WHERE id = ?",
                (back.from_credits, row["account_id"]),
            )
        return back.from_allowance + back.from_credits

    def get_job(self, uuid: str, *, account_id: int | None = None) -> JobRecord | None:
        """The job; None when it does not exist or (with ``account_id``) is another account's."""
        if account_id is None:
            rows = self._query("SELECT * FROM jobs WHERE uuid = ?", (uuid,))
        else:
            rows = self._query(
                "SELECT * FROM jobs WHERE uuid = ? AND account_id = ?", (uuid, account_id)
            )
        return _job_from_row(rows[0]) if rows else None

    def job_for_idempotency_key(self, account_id: int, key: str) -> JobRecord | None:
        rows = self._query(
            "SELECT * FROM jobs WHERE account_id = ? AND idempotency_key = ?", (account_id, key)
        )
        return _job_from_row(rows[0]) if rows else None

    def list_jobs(
        self,
        account_id: int,
        *,
        limit: int,
        status: JobStatus | None = None,
        after: JobPosition | None = None,
    ) -> list[JobRecord]:
        conditions, values = ["account_id = ?"], list[object]([account_id])
        if status is not None:
            conditions.append("status = ?")
            values.append(status.value)
        if after is not None:
            # created_at is ISO text of UTC times, which sorts as the times do
            conditions.append("(created_at < ? OR (created_at = ? AND uuid < ?))")
            at = after.created_at.isoformat()
            values += [at, at, after.uuid]
        where = " AND ".join(conditions)  # our own fragments; the values are parameters
        rows = self._query(
            f"SELECT * FROM jobs WHERE {where} ORDER BY created_at DESC, uuid DESC LIMIT ?",  # noqa: S608
            (*values, limit),
        )
        return [_job_from_row(row) for row in rows]

    def jobs_with_status(self, *statuses: JobStatus) -> list[JobRecord]:
        marks = ", ".join("?" for _ in statuses)
        rows = self._query(
            f"SELECT * FROM jobs WHERE status IN ({marks}) ORDER BY created_at, rowid",  # noqa: S608
            tuple(status.value for status in statuses),
        )
        return [_job_from_row(row) for row in rows]

    def pages_queued(self, account_id: int) -> int:
        (row,) = self._query(
            "SELECT COALESCE(SUM(pages_to_read - pages_done), 0) FROM jobs"
            " WHERE account_id = ? AND status IN (?, ?)",
            (account_id, JobStatus.PENDING.value, JobStatus.PROCESSING.value),
        )
        return int(row[0])

    def mark_processing(self, uuid: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET status = ?, started_at = COALESCE(started_at, ?) "
                "WHERE uuid = ? AND status IN (?, ?)",
                (
                    JobStatus.PROCESSING.value,
                    self.clock().isoformat(),
                    uuid,
                    JobStatus.PENDING.value,
                    JobStatus.PROCESSING.value,
                ),
            )

    def set_pages_done(self, uuid: str, pages_done: int) -> None:
        with self._transaction() as db:
            db.execute("UPDATE jobs SET pages_done = ? WHERE uuid = ?", (pages_done, uuid))

    def record_interruption(self, uuid: str) -> int:
        """Count one more server stop that caught the job mid-run; returns the new count."""
        with self._transaction() as db:
            db.execute("UPDATE jobs SET interruptions = interruptions + 1 WHERE uuid = ?", (uuid,))
            row = db.execute("SELECT interruptions FROM jobs WHERE uuid = ?", (uuid,)).fetchone()
        return int(row["interruptions"]) if row else 0

    def finish(
        self, uuid: str, status: JobStatus, *, retention: dt.timedelta, error: str | None = None
    ) -> None:
        now = self.clock()
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET status = ?, error = ?, finished_at = ?, expires_at = ?, "
                "pages_done = CASE WHEN ? = 'done' THEN pages_to_read ELSE pages_done END "
                "WHERE uuid = ?",
                (
                    status.value,
                    error,
                    now.isoformat(),
                    (now + retention).isoformat(),
                    status.value,
                    uuid,
                ),
            )
            # the job's webhook is due now, in the same transaction: a job never ends
            # without its delivery being scheduled
            db.execute(
                "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE job_uuid = ?"
                " AND status = 'pending' AND attempts = 0 AND next_attempt_at IS NULL",
                (now.isoformat(), uuid),
            )

    # --- webhooks -------------------------------------------------------------

    def claim_due_webhooks(
        self, now: dt.datetime, *, lease: dt.timedelta, limit: int
    ) -> list[WebhookRecord]:
        with self._transaction() as db:
            rows = db.execute(
                "SELECT * FROM webhook_deliveries WHERE next_attempt_at IS NOT NULL"
                " AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
                (now.isoformat(), limit),
            ).fetchall()
            for row in rows:
                db.execute(
                    "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE job_uuid = ?",
                    ((now + lease).isoformat(), row["job_uuid"]),
                )
        return [_webhook_from_row(row) for row in rows]

    def record_webhook_attempt(self, attempt: WebhookRecord) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE webhook_deliveries SET status = ?, attempts = ?, last_status_code = ?,"
                " last_error = ?, last_attempt_at = ?, delivered_at = ?, next_attempt_at = ?,"
                " payload = ? WHERE job_uuid = ?",
                (
                    attempt.status,
                    attempt.attempts,
                    attempt.last_status_code,
                    attempt.last_error,
                    _to_text(attempt.last_attempt_at),
                    _to_text(attempt.delivered_at),
                    _to_text(attempt.next_attempt_at),
                    attempt.payload,
                    attempt.job_uuid,
                ),
            )

    def get_webhook(self, job_uuid: str) -> WebhookRecord | None:
        rows = self._query("SELECT * FROM webhook_deliveries WHERE job_uuid = ?", (job_uuid,))
        return _webhook_from_row(rows[0]) if rows else None

    def delete_job(self, uuid: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM jobs WHERE uuid = ?", (uuid,))

    def expired_jobs(self) -> list[str]:
        rows = self._query(
            "SELECT uuid FROM jobs WHERE expires_at IS NOT NULL AND expires_at <= ?",
            (self.clock().isoformat(),),
        )
        return [row["uuid"] for row in rows]

    # --- conversations ------------------------------------------------------

    def has_conversation(self, conversation: str, job_uuid: str) -> bool:
        rows = self._query(
            "SELECT 1 FROM conversations WHERE id = ? AND job_uuid = ?", (conversation, job_uuid)
        )
        return bool(rows)

    def add_exchange(
        self, job_uuid: str, conversation: str, question: ChatMessage, reply: ChatMessage
    ) -> None:
        """Store a question and its answer, starting the conversation when it is new."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO conversations (id, job_uuid, created_at) VALUES (?, ?, ?)",
                (conversation, job_uuid, self.clock().isoformat()),
            )
            for message in (question, reply):
                db.execute(
                    "INSERT INTO messages (conversation_id, role, content, citations, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        conversation,
                        message.role.value,
                        message.content,
                        json.dumps(unstructure(message.citations), ensure_ascii=False),
                        _to_text(message.created_at),
                    ),
                )

    def messages(self, conversation: str) -> list[ChatMessage]:
        rows = self._query(
            "SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", (conversation,)
        )
        return [_message_from_row(row) for row in rows]

    def conversations(self, job_uuid: str) -> list[Conversation]:
        rows = self._query(
            "SELECT id FROM conversations WHERE job_uuid = ? ORDER BY created_at, rowid",
            (job_uuid,),
        )
        return [
            Conversation(conversation=row["id"], messages=self.messages(row["id"])) for row in rows
        ]
