"""What the jobs layer keeps about accounts and jobs, whatever stores it.

These are the values the interfaces in :mod:`ocrchat_server.jobs.interfaces`
take and give; each backend turns them into its own rows and files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
from collections.abc import Callable, Iterator

import attrs

from ocrchat.models import JobStatus, Page, Tier

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
