"""What the jobs layer keeps about accounts and jobs, whatever stores it.

These are the values the interfaces in :mod:`ocrchat_server.jobs.interfaces`
take and give; each backend turns them into its own rows and files.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import errno
import secrets
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs

from ocrchat.models import JobStatus, JobSummary, Page, Progress, Tier
from ocrchat_server.jobs.page_selection import describe_page_selection, parse_page_selection

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class AccountExistsError(ValueError):
    pass


class NoSuchAccountError(LookupError):
    pass


class DuplicateIdempotencyKeyError(ValueError):
    """The account already has a job with this ``Idempotency-Key``."""


class StorageFullError(OSError):
    """The disk holding the records or the files is full: nothing was written."""


_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


@contextlib.contextmanager
def disk_full_raises_storage_full() -> Iterator[None]:
    """Turn a full disk (``ENOSPC``, or a quota) into :class:`StorageFullError`, which the
    service answers 507."""
    try:
        yield
    except StorageFullError:
        raise
    except OSError as exc:
        if exc.errno in _DISK_FULL:
            raise StorageFullError(exc.errno, "The server's disk is full.") from exc
        raise


@attrs.frozen
class Account:
    id: int
    name: str
    created_at: dt.datetime
    plan: str
    credits: int
    webhook_url: str | None = None
    """Where the account's finished jobs are POSTed when a submit names no webhook."""


@attrs.frozen
class WebSession:
    """A browser signed in to the web app with one of the account's API tokens. The
    session's id is its cookie, of which the stores keep only a hash."""

    account_id: int
    key_id: str
    """The token it was signed in with: revoking that token ends the session."""
    csrf_token: str
    """What the app's pages send back with every request that changes something: a site
    that makes the browser send the cookie cannot read it."""
    created_at: dt.datetime
    expires_at: dt.datetime


@attrs.frozen
class JobRecord:
    uuid: str
    account_id: int
    status: JobStatus
    tier: Tier
    language: str
    format: str
    page_count: int
    created_at: dt.datetime
    tool: str | None = None
    translate_to: str | None = None
    engine: str = "auto"
    ocr: str = "auto"
    filename: str | None = None
    pages_done: int = 0
    error: str | None = None
    interruptions: int = 0
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    idempotency_key: str | None = None
    priority: int = 0
    selected_pages: tuple[int, ...] | None = None
    """The 0-based indexes the submit's ``pages`` chose, sorted; None: every page."""
    webhook_url: str | None = None

    @property
    def page_indexes(self) -> Sequence[int]:
        """The file's pages this job reads, in order."""
        if self.selected_pages is not None:
            return self.selected_pages
        return range(self.page_count)

    @property
    def pages_to_read(self) -> int:
        """How many pages the job reads (and is charged for)."""
        return len(self.page_indexes)


def new_webhook_secret() -> str:
    """A Standard Webhooks signing key: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_message_id(job_uuid: str) -> str:
    """A delivery's ``webhook-id``: one per job, the same on every retry."""
    return f"msg_{job_uuid.replace('-', '')}"


def page_selection_column(job: JobRecord) -> str | None:
    """How the stores keep a job's page selection: its normalized 1-based text."""
    if job.selected_pages is None:
        return None
    return describe_page_selection(job.selected_pages)


def page_selection_of(column: str | None, page_count: int) -> tuple[int, ...] | None:
    return parse_page_selection(column, page_count) if column else None


def job_columns(job: JobRecord) -> dict[str, object]:
    """A job's values as the stores' ``jobs`` columns (the enums and the selection as
    text, and ``pages_to_read``, which queries sum)."""
    fields = attrs.asdict(job, recurse=False)
    fields["status"] = job.status.value
    fields["tier"] = job.tier.value
    fields["selected_pages"] = page_selection_column(job)
    fields["pages_to_read"] = job.pages_to_read
    return fields


def job_summary(record: JobRecord) -> JobSummary:
    """The job as the list of jobs and its webhook show it: without its pages."""
    return JobSummary(
        uuid=record.uuid,
        status=record.status,
        tier=record.tier,
        language=record.language,
        page_count=record.page_count,
        progress=Progress(pages_done=record.pages_done, pages_total=record.pages_to_read),
        tool=record.tool,
        filename=record.filename,
        page_selection=page_selection_column(record),
        error=record.error,
        created_at=record.created_at,
        finished_at=record.finished_at,
        expires_at=record.expires_at,
    )


@attrs.frozen
class WebhookRecord:
    """A job's webhook: where its summary goes when it ends, and how delivery went."""

    job_uuid: str
    account_id: int
    url: str
    status: str = "pending"
    """``pending``, ``delivered`` or ``failed``."""
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = None
    last_attempt_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None
    next_attempt_at: dt.datetime | None = None
    """When the next try is due: set when the job ends, None once delivered or given up."""
    message_id: str | None = None
    """The ``webhook-id`` of the delivery: one per job, the same on every retry, so that a
    receiver can drop a repeat."""
    payload: str | None = None
    """The body, fixed when the job ended: every retry sends the same bytes."""


@attrs.frozen
class JobPosition:
    """A job's place in an account's list, newest first: where a page of the list ends."""

    created_at: dt.datetime
    uuid: str


@attrs.frozen
class JobResult:
    """A finished job's content, as the result storage keeps it (``job.json`` on disk)."""

    pages: list[Page]
    text: str
    markdown: str
    mean_confidence: float | None = None
    detected_languages: list[str] | None = None
    """The document's languages, most text first (None when nothing was detected)."""
    translated_to: str | None = None
    original_text: str | None = None
    """With a translation: the text as read, beside the translated ``text``."""
    original_markdown: str | None = None


def without_words(page: dict[str, Any]) -> dict[str, Any]:
    """A page's JSON with its blocks' ``words`` left out: most of a long document's
    result, and only ``?detail=words`` shows them."""
    for block in page.get("blocks") or ():
        block.pop("words", None)
    return page
