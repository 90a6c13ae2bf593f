"""The jobs layer's interfaces: what keeps records, stores files and runs pages.

The HTTP and chat layers, and the job service, speak only to these. The
embedded mode (one SQLite file, a local data directory, an in-process pool of
workers: :mod:`ocrchat_server.jobs.embedded`) is one implementation of each;
another backend (a database server, shared or object storage, a broker's
queue) implements the same methods and nothing above changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import attrs

from ocrchat.models import ApiToken, ChatMessage, Conversation, JobStatus, NewApiToken, Page
from ocrchat_server.jobs.metering import Charge, Usage
from ocrchat_server.jobs.records import (
    Account,
    Clock,
    JobPosition,
    JobRecord,
    JobResult,
    WebhookRecord,
    WebSession,
)


class JobRepository(Protocol):
    """What a job is and where it stands (not what it found: that is in the storage)."""

    clock: Clock
    """The time every record is stamped with (tests set it)."""

    def insert_job(
        self, job: JobRecord, *, charge: Callable[[Usage], Charge] | None = None
    ) -> None:
        """Store a new job and, in the same transaction, take its charge: ``charge`` gets
        the account's usage as it stands and returns what to take, or raises to refuse.
        Raises ``DuplicateIdempotencyKeyError`` for an account's key used before."""

    def get_job(self, uuid: str, *, account_id: int | None = None) -> JobRecord | None:
        """The job; None when there is none (or, with ``account_id``, it is another's)."""

    def job_for_idempotency_key(self, account_id: int, key: str) -> JobRecord | None: ...

    def list_jobs(
        self,
        account_id: int,
        *,
        limit: int,
        status: JobStatus | None = None,
        after: JobPosition | None = None,
    ) -> list[JobRecord]:
        """The account's jobs newest first (by ``created_at``, then ``uuid``), at most
        ``limit``, those after ``after`` in that order only, of one ``status`` if given."""

    def jobs_with_status(self, *statuses: JobStatus) -> list[JobRecord]:
        """Oldest first: what a restarted server recovers."""

    def pages_queued(self, account_id: int) -> int:
        """The account's pages in jobs not finished yet, less those already read."""

    def mark_processing(self, uuid: str) -> None: ...

    def set_pages_done(self, uuid: str, pages_done: int) -> None: ...

    def record_interruption(self, uuid: str) -> int:
        """One more server stop that caught the job mid-run; returns how many so far."""

    def finish(
        self, uuid: str, status: JobStatus, *, retention: dt.timedelta, error: str | None = None
    ) -> None:
        """End the job ``done`` or ``failed``; it expires ``retention`` from now."""

    def delete_job(self, uuid: str) -> None:
        """Delete the job and its conversations (its charge stays: usage is history)."""

    def expired_jobs(self) -> list[str]: ...


class WebSessionStore(Protocol):
    """Browsers signed in to the web app, each with one of its account's API tokens. Only
    a session id's hash is kept; a session ends when it expires, is ended, or its token
    is revoked."""

    def create_web_session(
        self, account_id: int, key_id: str, expires_at: dt.datetime
    ) -> tuple[str, WebSession]:
        """A new session signed in with the account's token ``key_id``; returns its id (the
        cookie: the only time it is seen) and the session. Raises ``TokenNotFoundError``
        when the account has no such token."""

    def web_session(self, session_id: str, now: dt.datetime) -> tuple[Account, WebSession] | None:
        """The session's account and the session; None when there is no such session, it
        has expired by ``now``, or its token no longer exists."""

    def end_web_session(self, session_id: str) -> None:
        """Sign the session out (nothing happens when there is none)."""

    def expire_web_sessions(self, now: dt.datetime) -> int:
        """Delete the sessions expired by ``now``; returns how many."""


class AccountDirectory(WebSessionStore, Protocol):
    """Accounts, their API tokens (only a token's hash is kept) and the web sessions signed
    in with those."""

    def create_account(self, name: str, *, plan: str = "free") -> tuple[Account, str]:
        """A new account and its first token, the only time the token is seen."""

    def create_token(self, account_name: str) -> str: ...

    def add_token(self, account_id: int) -> NewApiToken:
        """A new token for the account, the only time the token is seen."""

    def tokens(self, account_id: int) -> list[ApiToken]:
        """The account's tokens, newest first: key ids and times, never a hash."""

    def revoke_token(self, account_id: int, key_id: str) -> None:
        """Delete the account's token ``key_id``, and the web sessions signed in with it.
        Raises ``TokenNotFoundError`` when the account has no such token, and
        ``LastTokenError`` (deleting nothing) when it is the account's only one."""

    def account_by_name(self, name: str) -> Account:
        """Raises ``NoSuchAccountError``."""

    def set_plan(self, name: str, plan: str) -> Account: ...

    def add_credits(self, name: str, credits: int) -> Account:
        """Add, or (negative) take back, prepaid credits; never below 0 (``ValueError``)."""

    def authenticate(self, token: str) -> Account | None:
        """The token's account, or None; in time that does not depend on the token."""


class ChargesLedger(Protocol):
    """What each job cost; jobs are charged by :meth:`JobRepository.insert_job`."""

    def usage(self, account_id: int) -> Usage:
        """The allowance spent this day and month, and the credits left."""

    def refund(self, uuid: str, amount: int | None = None) -> int:
        """Give back ``amount`` of a job's charge (all when None), credits first;
        returns what was given back."""


class ConversationStore(Protocol):
    """Chats about a job; they go when the job goes."""

    def has_conversation(self, conversation: str, job_uuid: str) -> bool: ...

    def add_exchange(
        self, job_uuid: str, conversation: str, question: ChatMessage, reply: ChatMessage
    ) -> None:
        """Store a question and its answer, starting the conversation when it is new."""

    def messages(self, conversation: str) -> list[ChatMessage]: ...

    def conversations(self, job_uuid: str) -> list[Conversation]: ...


class ResultStorage(Protocol):
    """A job's files: the upload, each page's result and PDF, the finished result.

    Paths are where a file is read or written on this host; how they are laid
    out, and where the bytes live for good, is the storage's business.
    """

    def save_upload(self, uuid: str, source: BinaryIO) -> int:
        """Keep the uploaded bytes read from ``source``; returns how many."""

    def upload(self, uuid: str) -> Path:
        """The uploaded file, for reading."""

    def has_upload(self, uuid: str) -> bool: ...

    def uploads_held(self) -> list[str]:
        """The jobs whose upload is stored now (an upload is kept only while its job runs)."""

    def prepare_results(self, uuid: str) -> None:
        """Make room for the job's page results."""

    def page_result(self, uuid: str, index: int) -> Path:
        """Where page ``index``'s result goes; its existence marks the page done."""

    def page_pdf(self, uuid: str, index: int) -> Path:
        """Where page ``index``'s own searchable PDF page goes."""

    def page_words(self, uuid: str, index: int) -> Path:
        """Where an OCRed page of a PDF upload keeps its words, for the graft."""

    def work_file(self, uuid: str, name: str) -> Path:
        """A file the job's assembly needs for a while; it goes with the page results."""

    def finished_pages(self, uuid: str) -> set[int]:
        """Pages whose result is stored (a restart does not read them again)."""

    def document_pdf(self, uuid: str) -> Path:
        """The finished job's searchable PDF."""

    def write_result(
        self,
        uuid: str,
        result: JobResult,
        *,
        words: Callable[[int], list[Any] | None] | None = None,
    ) -> None:
        """Keep the finished job's result. ``words``: for a page's index, its blocks' words
        as JSON, in order, to keep with it (so they need not all be held at once)."""

    def read_result(self, uuid: str, *, words: bool = False) -> JobResult:
        """The finished job's result, its blocks' ``words`` with ``words=True`` only (None
        otherwise: they are most of a long document's result). Raises
        ``FileNotFoundError`` when the job (or its result) is gone."""

    def read_header(self, uuid: str) -> JobResult:
        """The finished job's result less what grows with the document: no ``pages``, and
        ``text`` and ``markdown`` empty (the originals None), read without them where the
        storage can. Raises ``FileNotFoundError`` when the job (or its result) is gone."""

    def iter_pages(self, uuid: str, *, words: bool = False) -> Iterator[Page]:
        """The finished job's pages in order, each read as it is asked for, so that a long
        document's are never all held; ``words`` as :meth:`read_result` has them. Raises
        ``FileNotFoundError`` on the first page asked for when the job is gone."""

    def has_results(self, uuid: str) -> bool:
        """Whether anything of the job's results is stored."""

    def delete_upload(self, uuid: str) -> None: ...

    def delete_page_results(self, uuid: str) -> None: ...

    def delete_all(self, uuid: str) -> None: ...


class PageQueue(Protocol):
    """Runs jobs' pages on workers, highest priority first."""

    async def run(self) -> None:
        """Feed the workers until cancelled (started once, with the server)."""

    def recover(self) -> None:
        """Queue again what a previous run left unfinished."""

    def enqueue(self, record: JobRecord) -> None: ...

    async def run_inline(self, record: JobRecord) -> None:
        """Run the job ahead of the queue; return once it is done or failed."""

    async def wait_until_finished(self, record: JobRecord) -> None:
        """Return once a job being run inline is done or failed (at once for any other; in
        the scale-out mode, at most the inline wait)."""

    def cancel(self, uuid: str, *, pages: Sequence[int] = ()) -> None:
        """Stop the job's pages (it is being deleted): none counts as done after this, and
        those being read are stopped. ``pages``: the indexes of the job's pages, where they
        are known."""

    def is_active(self, uuid: str) -> bool: ...


class WebhookLedger(Protocol):
    """Jobs' webhook deliveries and the accounts' webhook settings. A job's delivery is
    stored with the job (:meth:`JobRepository.insert_job`, when it has a ``webhook_url``)
    and falls due when the job is finished (:meth:`JobRepository.finish`)."""

    def set_webhook_url(self, account_id: int, url: str | None) -> None: ...

    def webhook_secret(self, account_id: int) -> str:
        """The account's signing key, made on first use."""

    def rotate_webhook_secret(self, account_id: int) -> str:
        """A new signing key for the account, replacing the old one at once."""

    def claim_due_webhooks(
        self, now: dt.datetime, *, lease: dt.timedelta, limit: int
    ) -> list[WebhookRecord]:
        """Deliveries due at ``now``, each put off by ``lease`` so that no other caller
        takes it while this one delivers."""

    def record_webhook_attempt(self, attempt: WebhookRecord) -> None: ...

    def get_webhook(self, job_uuid: str) -> WebhookRecord | None: ...


class Records(
    JobRepository, AccountDirectory, ChargesLedger, ConversationStore, WebhookLedger, Protocol
):
    """All the record interfaces, as one database serves them."""

    def close(self) -> None: ...


@attrs.frozen
class Backend:
    """The records and storage of one deployment."""

    records: Records
    storage: ResultStorage

    @property
    def jobs(self) -> JobRepository:
        return self.records

    @property
    def accounts(self) -> AccountDirectory:
        return self.records

    @property
    def web_sessions(self) -> WebSessionStore:
        return self.records

    @property
    def charges(self) -> ChargesLedger:
        return self.records

    @property
    def conversations(self) -> ConversationStore:
        return self.records

    @property
    def webhooks(self) -> WebhookLedger:
        return self.records

    def close(self) -> None:
        self.records.close()
