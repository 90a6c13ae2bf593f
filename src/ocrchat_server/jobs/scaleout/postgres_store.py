"""The scale-out records: accounts, tokens, web sessions, jobs, charges and conversations
in PostgreSQL.

Every API server and every worker opens its own pool of connections; each
method is one short transaction. Beyond the record interfaces it keeps what
the Celery queue needs to share a job's pages between workers: which pages
were sent to the broker, how often each was tried, which are read, and who
assembles the job (:class:`PageLedger`'s methods).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

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
    WebhookRecord,
    WebSession,
    job_columns,
    new_webhook_secret,
    page_selection_of,
    utc_now,
    webhook_message_id,
)
from ocrchat_server.jobs.scaleout.migrate import check_current
from ocrchat_server.jobs.tokens import (
    hash_token,
    key_id_of,
    matches,
    new_csrf_token,
    new_session_id,
    new_token,
)

Row = dict[str, Any]
_JOB_COLUMNS = tuple(field.name for field in attrs.fields(JobRecord))
_JOB_SELECT = f"SELECT {', '.join(_JOB_COLUMNS)} FROM jobs"  # noqa: S608 (our own names)


def _job(row: Row) -> JobRecord:
    values = {name: row[name] for name in _JOB_COLUMNS}
    values["status"] = JobStatus(row["status"])
    values["tier"] = Tier(row["tier"])
    values["selected_pages"] = page_selection_of(row["selected_pages"], row["page_count"])
    return JobRecord(**values)


def _account(row: Row) -> Account:
    return Account(
        id=row["id"],
        name=row["name"],
        created_at=row["created_at"],
        plan=row["plan"],
        credits=row["credits"],
        webhook_url=row.get("webhook_url"),
    )


_WEBHOOK_COLUMNS = tuple(field.name for field in attrs.fields(WebhookRecord))


def _webhook(row: Row) -> WebhookRecord:
    return WebhookRecord(**{name: row[name] for name in _WEBHOOK_COLUMNS})


def _message(row: Row) -> ChatMessage:
    return ChatMessage(
        role=Role(row["role"]),
        content=row["content"],
        citations=structure(row["citations"], list[Citation]),
        created_at=row["created_at"],
    )


class PostgresStore:
    """Implements :class:`~ocrchat_server.jobs.interfaces.Records` on PostgreSQL."""

    def __init__(self, url: str, *, clock: Clock = utc_now, max_connections: int = 8) -> None:
        check_current(url)
        self.clock = clock
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            kwargs={"row_factory": dict_row},
            open=True,
            name="ocrchat",
        )

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection[Row]]:
        with self._pool.connection() as connection, connection.transaction():
            yield connection  # type: ignore[misc]

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
        with self._transaction() as db:
            return db.execute(sql.encode(), params).fetchall()

    # --- accounts and tokens ------------------------------------------------

    def create_account(self, name: str, *, plan: str = "free") -> tuple[Account, str]:
        now = self.clock()
        try:
            with self._transaction() as db:
                row = db.execute(
                    "INSERT INTO accounts (name, created_at, plan) VALUES (%s, %s, %s) RETURNING *",
                    (name, now, plan),
                ).fetchone()
                assert row is not None
                account = _account(row)
                token = self._insert_token(db, account.id, now)
        except psycopg.errors.UniqueViolation as exc:
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
            "SELECT key_id, created_at FROM tokens WHERE account_id = %s"
            " ORDER BY created_at DESC, id DESC",
            (account_id,),
        )
        return [ApiToken(key_id=row["key_id"], created_at=row["created_at"]) for row in rows]

    def revoke_token(self, account_id: int, key_id: str) -> None:
        """Delete the token (its web sessions go with it); never the account's last one."""
        with self._transaction() as db:
            # the account's row is locked until the delete commits: two revokes at once
            # cannot each leave the other's token as the last and delete both
            db.execute("SELECT 1 FROM accounts WHERE id = %s FOR UPDATE", (account_id,))
            row = db.execute(
                "SELECT COUNT(*) AS tokens, COUNT(*) FILTER (WHERE key_id = %s) AS found"
                " FROM tokens WHERE account_id = %s",
                (key_id, account_id),
            ).fetchone()
            assert row is not None
            if not row["found"]:
                raise TokenNotFoundError()
            if row["tokens"] == 1:
                raise LastTokenError()
            db.execute(
                "DELETE FROM tokens WHERE account_id = %s AND key_id = %s", (account_id, key_id)
            )

    @staticmethod
    def _insert_token(db: psycopg.Connection[Row], account_id: int, now: dt.datetime) -> str:
        token, key_id = new_token()
        db.execute(
            "INSERT INTO tokens (account_id, key_id, token_sha256, created_at)"
            " VALUES (%s, %s, %s, %s)",
            (account_id, key_id, hash_token(token), now),
        )
        return token

    def account_by_name(self, name: str) -> Account:
        rows = self._query("SELECT * FROM accounts WHERE name = %s", (name,))
        if not rows:
            raise NoSuchAccountError(name)
        return _account(rows[0])

    def set_plan(self, name: str, plan: str) -> Account:
        with self._transaction() as db:
            db.execute("UPDATE accounts SET plan = %s WHERE name = %s", (plan, name))
        return self.account_by_name(name)

    def add_credits(self, name: str, credits: int) -> Account:
        account = self.account_by_name(name)
        try:
            with self._transaction() as db:
                db.execute(
                    "UPDATE accounts SET credits = credits + %s WHERE id = %s",
                    (credits, account.id),
                )
        except psycopg.errors.CheckViolation as exc:
            raise ValueError(f"{name} has only {account.credits} credits") from exc
        return self.account_by_name(name)

    def authenticate(self, token: str) -> Account | None:
        rows = self._query(
            "SELECT a.*, t.token_sha256 FROM tokens t JOIN accounts a ON a.id = t.account_id"
            " WHERE t.key_id = %s",
            (key_id_of(token),),
        )
        if matches(token, bytes(rows[0]["token_sha256"]) if rows else None):
            return _account(rows[0])
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
                " SELECT %s, account_id, key_id, %s, %s, %s FROM tokens"
                " WHERE account_id = %s AND key_id = %s",
                (
                    hash_token(session_id),
                    session.csrf_token,
                    session.created_at,
                    expires_at,
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
            " WHERE s.id_sha256 = %s AND s.expires_at > %s",
            (hash_token(session_id), now),
        )
        if not rows:
            return None
        row = rows[0]
        session = WebSession(
            account_id=row["id"],
            key_id=row["key_id"],
            csrf_token=row["csrf_token"],
            created_at=row["session_created_at"],
            expires_at=row["session_expires_at"],
        )
        return _account(row), session

    def end_web_session(self, session_id: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM web_sessions WHERE id_sha256 = %s", (hash_token(session_id),))

    def expire_web_sessions(self, now: dt.datetime) -> int:
        with self._transaction() as db:
            deleted = db.execute("DELETE FROM web_sessions WHERE expires_at <= %s", (now,))
        return deleted.rowcount

    # --- jobs ---------------------------------------------------------------

    def insert_job(
        self, job: JobRecord, *, charge: Callable[[Usage], Charge] | None = None
    ) -> None:
        fields = job_columns(job)
        columns = ", ".join(fields)
        marks = ", ".join("%s" for _ in fields)
        # column names come from JobRecord's fields, never from a request
        sql = f"INSERT INTO jobs ({columns}) VALUES ({marks})"  # noqa: S608
        try:
            with self._transaction() as db:
                db.execute(sql.encode(), tuple(fields.values()))
                if job.webhook_url is not None:
                    db.execute(
                        "INSERT INTO webhook_deliveries (job_uuid, account_id, url, status,"
                        " message_id) VALUES (%s, %s, %s, 'pending', %s)",
                        (job.uuid, job.account_id, job.webhook_url, webhook_message_id(job.uuid)),
                    )
                if charge is not None:
                    self._charge(db, job, charge)
        except psycopg.errors.UniqueViolation as exc:
            if job.idempotency_key is not None and "idempotency_key" in str(exc):
                raise DuplicateIdempotencyKeyError(job.idempotency_key) from exc
            raise

    def _charge(
        self, db: psycopg.Connection[Row], job: JobRecord, charge: Callable[[Usage], Charge]
    ) -> None:
        # the account's row is locked until the charge commits: two requests of one
        # account are charged one after the other, never both against the same usage
        db.execute("SELECT 1 FROM accounts WHERE id = %s FOR UPDATE", (job.account_id,))
        usage = self._usage(db, job.account_id, Periods.at(job.created_at))
        taken = charge(usage)
        db.execute(
            "INSERT INTO charges (job_uuid, account_id, created_at, from_allowance, from_credits)"
            " VALUES (%s, %s, %s, %s, %s)",
            (job.uuid, job.account_id, job.created_at, taken.from_allowance, taken.from_credits),
        )
        db.execute(
            "UPDATE accounts SET credits = credits - %s WHERE id = %s",
            (taken.from_credits, job.account_id),
        )

    @staticmethod
    def _usage(db: psycopg.Connection[Row], account_id: int, periods: Periods) -> Usage:
        row = db.execute(
            "SELECT"
            " COALESCE(SUM(CASE WHEN created_at >= %s THEN from_allowance END), 0) AS day,"
            " COALESCE(SUM(from_allowance), 0) AS month,"
            " (SELECT credits FROM accounts WHERE id = %s) AS credits"
            " FROM charges WHERE account_id = %s AND created_at >= %s",
            (periods.day_start, account_id, account_id, periods.month_start),
        ).fetchone()
        assert row is not None
        return Usage(day=int(row["day"]), month=int(row["month"]), credits=int(row["credits"]))

    def usage(self, account_id: int) -> Usage:
        with self._transaction() as db:
            return self._usage(db, account_id, Periods.at(self.clock()))

    def refund(self, uuid: str, amount: int | None = None) -> int:
        with self._transaction() as db:
            row = db.execute(
                "SELECT * FROM charges WHERE job_uuid = %s FOR UPDATE", (uuid,)
            ).fetchone()
            if row is None:
                return 0
            charged = Charge(int(row["from_allowance"]), int(row["from_credits"]))
            back = split_refund(charged, amount)
            db.execute(
                "UPDATE charges SET from_credits = from_credits - %s,"
                " from_allowance = from_allowance - %s WHERE job_uuid = %s",
                (back.from_credits, back.from_allowance, uuid),
            )
            db.execute(
                "UPDATE accounts SET credits = credits + %s WHERE id = %s",
                (back.from_credits, row["account_id"]),
            )
        return back.from_allowance + back.from_credits

    def get_job(self, uuid: str, *, account_id: int | None = None) -> JobRecord | None:
        if account_id is None:
            rows = self._query(f"{_JOB_SELECT} WHERE uuid = %s", (uuid,))
        else:
            rows = self._query(
                f"{_JOB_SELECT} WHERE uuid = %s AND account_id = %s", (uuid, account_id)
            )
        return _job(rows[0]) if rows else None

    def job_for_idempotency_key(self, account_id: int, key: str) -> JobRecord | None:
        rows = self._query(
            f"{_JOB_SELECT} WHERE account_id = %s AND idempotency_key = %s", (account_id, key)
        )
        return _job(rows[0]) if rows else None

    def list_jobs(
        self,
        account_id: int,
        *,
        limit: int,
        status: JobStatus | None = None,
        after: JobPosition | None = None,
    ) -> list[JobRecord]:
        conditions, values = ["account_id = %s"], list[object]([account_id])
        if status is not None:
            conditions.append("status = %s")
            values.append(status.value)
        if after is not None:
            conditions.append("(created_at, uuid) < (%s, %s)")
            values += [after.created_at, after.uuid]
        where = " AND ".join(conditions)  # our own fragments; the values are parameters
        rows = self._query(
            f"{_JOB_SELECT} WHERE {where} ORDER BY created_at DESC, uuid DESC LIMIT %s",
            (*values, limit),
        )
        return [_job(row) for row in rows]

    def jobs_with_status(self, *statuses: JobStatus) -> list[JobRecord]:
        rows = self._query(
            f"{_JOB_SELECT} WHERE status = ANY(%s) ORDER BY created_at, uuid",
            ([status.value for status in statuses],),
        )
        return [_job(row) for row in rows]

    def pages_queued(self, account_id: int) -> int:
        (row,) = self._query(
            "SELECT COALESCE(SUM(pages_to_read - pages_done), 0) AS queued FROM jobs"
            " WHERE account_id = %s AND status = ANY(%s)",
            (account_id, [JobStatus.PENDING.value, JobStatus.PROCESSING.value]),
        )
        return int(row["queued"])

    def mark_processing(self, uuid: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET status = %s, started_at = COALESCE(started_at, %s)"
                " WHERE uuid = %s AND status IN (%s, %s)",
                (
                    JobStatus.PROCESSING.value,
                    self.clock(),
                    uuid,
                    JobStatus.PENDING.value,
                    JobStatus.PROCESSING.value,
                ),
            )

    def set_pages_done(self, uuid: str, pages_done: int) -> None:
        with self._transaction() as db:
            db.execute("UPDATE jobs SET pages_done = %s WHERE uuid = %s", (pages_done, uuid))

    def record_interruption(self, uuid: str) -> int:
        rows = self._query(
            "UPDATE jobs SET interruptions = interruptions + 1 WHERE uuid = %s"
            " RETURNING interruptions",
            (uuid,),
        )
        return int(rows[0]["interruptions"]) if rows else 0

    def finish(
        self, uuid: str, status: JobStatus, *, retention: dt.timedelta, error: str | None = None
    ) -> None:
        now = self.clock()
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET status = %s, error = %s, finished_at = %s, expires_at = %s,"
                " pages_done = CASE WHEN %s = 'done' THEN pages_to_read ELSE pages_done END"
                " WHERE uuid = %s",
                (status.value, error, now, now + retention, status.value, uuid),
            )
            # the job's webhook is due now, in the same transaction
            db.execute(
                "UPDATE webhook_deliveries SET next_attempt_at = %s WHERE job_uuid = %s"
                " AND status = 'pending' AND attempts = 0 AND next_attempt_at IS NULL",
                (now, uuid),
            )

    # --- webhooks -------------------------------------------------------------

    def set_webhook_url(self, account_id: int, url: str | None) -> None:
        with self._transaction() as db:
            db.execute("UPDATE accounts SET webhook_url = %s WHERE id = %s", (url, account_id))

    def webhook_secret(self, account_id: int) -> str:
        rows = self._query(
            "UPDATE accounts SET webhook_secret = COALESCE(webhook_secret, %s) WHERE id = %s"
            " RETURNING webhook_secret",
            (new_webhook_secret(), account_id),
        )
        return str(rows[0]["webhook_secret"])

    def rotate_webhook_secret(self, account_id: int) -> str:
        secret = new_webhook_secret()
        with self._transaction() as db:
            db.execute(
                "UPDATE accounts SET webhook_secret = %s WHERE id = %s", (secret, account_id)
            )
        return secret

    def claim_due_webhooks(
        self, now: dt.datetime, *, lease: dt.timedelta, limit: int
    ) -> list[WebhookRecord]:
        """Due deliveries, each claimed for ``lease`` by this host: the API hosts all run
        the dispatcher, and a claimed row is skipped by the others."""
        rows = self._query(
            "UPDATE webhook_deliveries SET next_attempt_at = %s WHERE job_uuid IN ("
            " SELECT job_uuid FROM webhook_deliveries WHERE next_attempt_at <= %s"
            " ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED)"
            " RETURNING *",
            (now + lease, now, limit),
        )
        return [_webhook(row) for row in rows]

    def record_webhook_attempt(self, attempt: WebhookRecord) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE webhook_deliveries SET status = %s, attempts = %s,"
                " last_status_code = %s, last_error = %s, last_attempt_at = %s,"
                " delivered_at = %s, next_attempt_at = %s, payload = %s WHERE job_uuid = %s",
                (
                    attempt.status,
                    attempt.attempts,
                    attempt.last_status_code,
                    attempt.last_error,
                    attempt.last_attempt_at,
                    attempt.delivered_at,
                    attempt.next_attempt_at,
                    attempt.payload,
                    attempt.job_uuid,
                ),
            )

    def get_webhook(self, job_uuid: str) -> WebhookRecord | None:
        rows = self._query("SELECT * FROM webhook_deliveries WHERE job_uuid = %s", (job_uuid,))
        return _webhook(rows[0]) if rows else None

    def delete_job(self, uuid: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM jobs WHERE uuid = %s", (uuid,))

    def expired_jobs(self) -> list[str]:
        rows = self._query(
            "SELECT uuid FROM jobs WHERE expires_at IS NOT NULL AND expires_at <= %s",
            (self.clock(),),
        )
        return [row["uuid"] for row in rows]

    # --- conversations ------------------------------------------------------

    def has_conversation(self, conversation: str, job_uuid: str) -> bool:
        rows = self._query(
            "SELECT 1 FROM conversations WHERE id = %s AND job_uuid = %s",
            (conversation, job_uuid),
        )
        return bool(rows)

    def add_exchange(
        self, job_uuid: str, conversation: str, question: ChatMessage, reply: ChatMessage
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO conversations (id, job_uuid, created_at) VALUES (%s, %s, %s)"
                " ON CONFLICT (id) DO NOTHING",
                (conversation, job_uuid, self.clock()),
            )
            for message in (question, reply):
                db.execute(
                    "INSERT INTO messages (conversation_id, role, content, citations, created_at)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    (
                        conversation,
                        message.role.value,
                        message.content,
                        Jsonb(unstructure(message.citations)),
                        message.created_at,
                    ),
                )

    def messages(self, conversation: str) -> list[ChatMessage]:
        rows = self._query(
            "SELECT * FROM messages WHERE conversation_id = %s ORDER BY id", (conversation,)
        )
        return [_message(row) for row in rows]

    def conversations(self, job_uuid: str) -> list[Conversation]:
        rows = self._query(
            "SELECT id FROM conversations WHERE job_uuid = %s ORDER BY created_at, id",
            (job_uuid,),
        )
        return [
            Conversation(conversation=row["id"], messages=self.messages(row["id"])) for row in rows
        ]

    # --- the pages of jobs shared by workers (the Celery queue's ledger) -----

    @contextmanager
    def claiming_pages_to_send(
        self, uuid: str, count: int, *, only_if_idle: bool = False
    ) -> Iterator[list[int]]:
        """The positions in the job's pages to read (its ``page_indexes``) of the next
        ``count`` pages not yet sent to the broker (fewer at its end): whoever holds them
        sends them, and no one else will.

        The claim is committed when the block ends, after the pages were sent: a process
        that dies between claim and send (a worker killed there once left a page never
        sent, and its job processing for ever) rolls it back, and the page task that the
        broker gives back claims them again. Dying after the send but before the commit
        sends them twice, which a page read twice allows.

        ``only_if_idle``: claim nothing unless every page sent so far is read (see
        :meth:`idle_jobs`), checked under the job's row lock, so that a worker that sent
        the job's next page meanwhile is never doubled."""
        idle = b" AND jobs.pages_sent = jobs.pages_done" if only_if_idle else b""
        with self._transaction() as db:
            rows = db.execute(
                b"WITH old AS (SELECT pages_sent FROM jobs WHERE uuid = %s FOR UPDATE)"
                b" UPDATE jobs SET pages_sent = LEAST(pages_to_read, jobs.pages_sent + %s),"
                b" progress_at = now()"
                b" FROM old WHERE uuid = %s AND status IN ('pending', 'processing')"
                + idle
                + b" RETURNING old.pages_sent AS before, jobs.pages_sent",
                (uuid, count, uuid),
            ).fetchall()
            yield list(range(int(rows[0]["before"]), int(rows[0]["pages_sent"]))) if rows else []

    def idle_jobs(self) -> list[JobRecord]:
        """Unfinished jobs with pages left to send and none in the broker: every page sent
        was read. Either a worker is between reading a page and sending the next one, or
        that send failed (the broker was unreachable or full) and nothing else will send
        it: a job seen idle twice with the same ``pages_done`` is the second kind."""
        rows = self._query(
            f"{_JOB_SELECT} WHERE status IN ('pending', 'processing')"
            " AND pages_sent = pages_done AND pages_sent < pages_to_read"
            " ORDER BY created_at, uuid"
        )
        return [_job(row) for row in rows]

    def stalled_jobs(self, quiet_for: dt.timedelta) -> list[JobRecord]:
        """Unfinished jobs with pages sent but not read, and no page sent or read for
        ``quiet_for`` (by the database's clock): the broker lost those pages (a Redis
        restarted without its data, or a replica that lacked the last writes took over)."""
        rows = self._query(
            f"{_JOB_SELECT} WHERE status IN ('pending', 'processing')"
            " AND pages_sent > pages_done"
            " AND COALESCE(progress_at, created_at) < now() - %s"
            " ORDER BY created_at, uuid",
            (quiet_for,),
        )
        return [_job(row) for row in rows]

    @contextmanager
    def claiming_unread_pages(
        self, record: JobRecord, quiet_for: dt.timedelta
    ) -> Iterator[list[int]]:
        """The positions (in the job's pages to read) of its pages sent but not read, for
        the one caller that finds the job still stalled (:meth:`stalled_jobs`); none for
        any other. The claim marks the job moved, committed when the block ends, after the
        pages were sent again."""
        with self._transaction() as db:
            rows = db.execute(
                "UPDATE jobs SET progress_at = now() WHERE uuid = %s"
                " AND status IN ('pending', 'processing') AND pages_sent > pages_done"
                " AND COALESCE(progress_at, created_at) < now() - %s RETURNING pages_sent",
                (record.uuid, quiet_for),
            ).fetchall()
            if not rows:  # another server claimed it, or it moved meanwhile
                yield []
                return
            read = {
                int(row["page_index"])
                for row in db.execute(
                    "SELECT page_index FROM job_pages WHERE job_uuid = %s AND done",
                    (record.uuid,),
                ).fetchall()
            }
            indexes = record.page_indexes
            sent = int(rows[0]["pages_sent"])
            yield [position for position in range(sent) if indexes[position] not in read]

    def count_attempt(self, uuid: str, index: int) -> int:
        """One more delivery of page ``index`` to a worker; returns how many so far."""
        rows = self._query(
            "INSERT INTO job_pages (job_uuid, page_index, attempts) VALUES (%s, %s, 1)"
            " ON CONFLICT (job_uuid, page_index)"
            " DO UPDATE SET attempts = job_pages.attempts + 1 RETURNING attempts",
            (uuid, index),
        )
        return int(rows[0]["attempts"]) if rows else 0

    def mark_page_done(self, uuid: str, index: int) -> int:
        """Count page ``index`` read (once, however often it was); returns the job's pages
        read so far."""
        with self._transaction() as db:
            counted = db.execute(
                "UPDATE job_pages SET done = TRUE"
                " WHERE job_uuid = %s AND page_index = %s AND NOT done RETURNING 1",
                (uuid, index),
            ).fetchone()
            if counted is not None:
                db.execute(
                    "UPDATE jobs SET pages_done = pages_done + 1, progress_at = now()"
                    " WHERE uuid = %s",
                    (uuid,),
                )
            row = db.execute("SELECT pages_done FROM jobs WHERE uuid = %s", (uuid,)).fetchone()
        return int(row["pages_done"]) if row else 0

    def claim_assembly(self, uuid: str, *, stale_after: dt.timedelta) -> bool:
        """True for the one caller that is to assemble the job. A claim older than
        ``stale_after`` is taken over: the worker that made it died, and its task (not
        acknowledged) came back to another worker."""
        now = self.clock()
        rows = self._query(
            "UPDATE jobs SET assembly_claimed_at = %s WHERE uuid = %s AND status = 'processing'"
            " AND (assembly_claimed_at IS NULL OR assembly_claimed_at < %s) RETURNING 1",
            (now, uuid, now - stale_after),
        )
        return bool(rows)
