"""The job layer's face to HTTP: submit, look up, delete and expire jobs.

Everything a request can get wrong is checked here before any page is read,
and the upload is removed on every path that does not become a job.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import functools
import logging
import uuid as uuid_module
from typing import TYPE_CHECKING, Any, BinaryIO

import attrs

from ocrchat.models import Job, JobList, JobStatus, Tier, WebhookDelivery
from ocrchat_server.engines.cpu import ENGINES, EngineChoiceError, check_engine
from ocrchat_server.engines.languages import (
    TooManyLanguagesError,
    UnknownLanguageError,
    resolve_language,
)
from ocrchat_server.engines.tiers import TIER_ENGINES, ServerState
from ocrchat_server.exports import EXPORTERS, ExportSource
from ocrchat_server.exports.base import StoredPages, StreamingExporter, file_extension
from ocrchat_server.exports.page_images import render_page_png
from ocrchat_server.ingest import PDF, UnreadableDocumentError, sniff_document
from ocrchat_server.ingest.text_layer import OCR_MODES
from ocrchat_server.jobs.errors import (
    FailedJobError,
    InsufficientStorageError,
    InvalidRequestError,
    JobNotDoneError,
    JobNotFoundError,
    QuotaExceededError,
    TierUnavailableError,
    TooManyQueuedPagesError,
    UnsupportedLanguageError,
)
from ocrchat_server.jobs.metering import AllowanceExceededError, Periods, check_file, split_charge
from ocrchat_server.jobs.page_selection import PageSelectionError, parse_page_selection
from ocrchat_server.jobs.records import (
    DuplicateIdempotencyKeyError,
    JobPosition,
    JobRecord,
    JobResult,
    StorageFullError,
    job_summary,
)
from ocrchat_server.jobs.tools import TOOLS, ToolRequest, preset
from ocrchat_server.jobs.webhooks import WebhookUrlError, check_webhook_url

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from ocrchat_server.engines.vlm_server import VlmServer
    from ocrchat_server.jobs.accounts import AccountService
    from ocrchat_server.jobs.interfaces import (
        ChargesLedger,
        JobRepository,
        PageQueue,
        ResultStorage,
        WebhookLedger,
    )
    from ocrchat_server.jobs.plans import Plan
    from ocrchat_server.jobs.records import Account
    from ocrchat_server.settings import Settings

DOWNLOAD_FORMATS = tuple(EXPORTERS)
DOWNLOAD_MEDIA_TYPES = {fmt: exporter.media_type for fmt, exporter in EXPORTERS.items()}
"""Each download format's Content-Type (for the OpenAPI document)."""

log = logging.getLogger(__name__)


WORDS = "words"
"""``GET /api/v1/ocr/<uuid>/?detail=words``: the job with its blocks' words."""
DETAILS = (WORDS,)
"""The values of ``detail``."""


def wants_words(detail: str | None) -> bool:
    """Whether ``detail`` asks for words; raises ``invalid_detail`` for an unknown one."""
    if detail is None:
        return False
    if detail not in DETAILS:
        raise InvalidRequestError(
            f"Unknown detail {detail!r}: use {', '.join(DETAILS)}, or leave it out.",
            code="invalid_detail",
        )
    return True


def _tier(value: str) -> Tier:
    try:
        tier = Tier(value.lower())
    except ValueError:
        tier = Tier.UNKNOWN
    if tier is Tier.UNKNOWN:
        raise InvalidRequestError(f"Unknown tier {value!r}: use cpu or vlm.", code="invalid_tier")
    return tier


@attrs.frozen
class SubmitOptions:
    tier: Tier = Tier.CPU
    language: str = "auto"
    tool: str | None = None
    translate_to: str | None = None
    engine: str = "auto"
    ocr: str = "auto"
    pages: str | None = None
    """Which pages to read, 1-based as a reader counts (``"1-3,7"``); None: all."""
    webhook_url: str | None = None

    @classmethod
    def from_form(cls, fields: dict[str, str]) -> SubmitOptions:
        def field(name: str) -> str | None:
            value = fields.get(name, "").strip()
            return value or None

        return cls(
            tier=_tier(field("tier") or Tier.CPU.value),
            language=field("language") or "auto",
            tool=field("tool"),
            translate_to=field("translate_to"),
            engine=(field("engine") or "auto").lower(),
            ocr=(field("ocr") or "auto").lower(),
            pages=field("pages"),
            webhook_url=field("webhook_url"),
        )


def _selected_pages(pages: str | None, page_count: int) -> tuple[int, ...] | None:
    """The pages ``pages`` selects (None: all of them; so is a selection of every page)."""
    if pages is None:
        return None
    try:
        selected = parse_page_selection(pages, page_count)
    except PageSelectionError as exc:
        raise InvalidRequestError(str(exc), code=exc.code, page_count=page_count) from exc
    return None if len(selected) == page_count else selected


DEFAULT_LIST_LIMIT = 20
MAX_LIST_LIMIT = 100


def _list_limit(limit: str | None) -> int:
    if limit is None:
        return DEFAULT_LIST_LIMIT
    try:
        count = int(limit)
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_LIST_LIMIT:
        raise InvalidRequestError(
            f"limit must be a whole number from 1 to {MAX_LIST_LIMIT}.", code="invalid_limit"
        )
    return count


def encode_cursor(record: JobRecord) -> str:
    """Where a page of the list ends, opaque to the client: the last job's time and id."""
    position = f"{record.created_at.isoformat()}|{record.uuid}".encode()
    return base64.urlsafe_b64encode(position).decode().rstrip("=")


def decode_cursor(cursor: str) -> JobPosition:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, uuid = text.split("|")
        position = JobPosition(
            created_at=dt.datetime.fromisoformat(created_at), uuid=str(uuid_module.UUID(uuid))
        )
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors too
        position = None
    if position is None or position.created_at.tzinfo is None:
        raise InvalidRequestError(
            "cursor is not one this server gave: pass next_cursor as it came.",
            code="invalid_cursor",
        )
    return position


_DISK_FULL_RETRY_SECONDS = 60
_QUEUE_RETRY_SECONDS = 30


def _disk_full() -> InsufficientStorageError:
    return InsufficientStorageError(
        "The server's disk is full, so the upload was not kept and nothing was charged. "
        "Try again later.",
        retry_after=_DISK_FULL_RETRY_SECONDS,
    )


def _quota_error(exc: AllowanceExceededError, plan: Plan) -> QuotaExceededError:
    if exc.limit == "pages_per_file":
        message = (
            f"The file has {exc.used} pages; the {plan.name} plan takes at most "
            f"{exc.cap} pages per file."
        )
    else:
        message = (
            f"The {exc.limit} page allowance of the {plan.name} plan is used up: "
            f"{exc.used} of {exc.cap} used, this file needs {exc.needed}, "
            f"and {exc.credits} prepaid credits are left."
        )
    details: dict[str, Any] = {
        "limit": exc.limit,
        "used": exc.used,
        "cap": exc.cap,
        "needed": exc.needed,
        "plan": plan.name,
    }
    if exc.resets_at is not None:
        details["resets_at"] = exc.resets_at.isoformat()
        details["credits"] = exc.credits
    return QuotaExceededError(message, **details)


@attrs.frozen
class Submitted:
    record: JobRecord
    replayed: bool = False
    """True when an earlier request with the same ``Idempotency-Key`` made the job."""


@attrs.frozen
class Download:
    content: bytes | Path | Iterator[bytes]
    """The file's bytes, the path of a file already stored, or (hOCR, ALTO, PAGE) its
    bytes in chunks as they are written, a page or so at a time: send them as they come."""
    media_type: str
    extension: str
    """The file name's extension: the format, or ``alto.xml``, ``page.zip``."""


class JobService:
    """Submit, look up, download, delete and expire jobs, over the backend's interfaces."""

    def __init__(
        self,
        *,
        settings: Settings,
        jobs: JobRepository,
        charges: ChargesLedger,
        storage: ResultStorage,
        queue: PageQueue,
        accounts: AccountService,
        vlm: VlmServer,
        webhooks: WebhookLedger,
    ) -> None:
        self.webhooks = webhooks
        self.vlm = vlm
        self.accounts = accounts
        self.settings = settings
        self.jobs = jobs
        self.charges = charges
        self.storage = storage
        self.queue = queue

    def check_options(self, options: SubmitOptions) -> str:
        """Refuse bad parameters before the file is looked at; returns the language to store."""
        if options.engine not in ENGINES:
            raise InvalidRequestError(
                f"Unknown engine {options.engine!r}: use one of {', '.join(ENGINES)}.",
                code="invalid_engine",
            )
        if options.engine != "auto" and options.tier is not Tier.CPU:
            raise InvalidRequestError(
                f"engine={options.engine} chooses the cpu tier's recognizer; the vlm tier "
                "has one (Surya).",
                code="engine_needs_cpu",
            )
        if options.ocr not in OCR_MODES:
            raise InvalidRequestError(
                f"Unknown ocr {options.ocr!r}: use one of {', '.join(OCR_MODES)}.",
                code="invalid_ocr",
            )
        tool = preset(options.tool)
        if options.tool is not None and tool is None:
            known = ", ".join(TOOLS)
            raise InvalidRequestError(
                f"Unknown tool {options.tool!r}: use one of {known}.", code="invalid_tool"
            )
        if options.translate_to and (tool is None or tool.needs != "translate_to"):
            raise InvalidRequestError(
                "translate_to goes with tool=translate.", code="translate_to_without_tool"
            )
        try:
            language = resolve_language(options.language, max_models=self.settings.max_models)
        except UnknownLanguageError as exc:
            raise UnsupportedLanguageError(
                f"No OCR model for language {exc.code!r} on this server.",
                language=exc.code,
            ) from exc
        except TooManyLanguagesError as exc:
            raise InvalidRequestError(
                f"language names {exc.count} models; this server reads with at most "
                f"{exc.cap} at once.",
                count=exc.count,
                cap=exc.cap,
                code="too_many_languages",
            ) from exc
        try:
            check_engine(options.engine, language)
        except EngineChoiceError as exc:
            raise InvalidRequestError(
                f"PP-OCRv6 (engine=ppocr) does not read {exc}: use engine=auto or "
                "engine=tesseract.",
                language=str(exc),
                code="engine_cannot_read_language",
            ) from exc
        if tool is not None:
            tool.check(
                ToolRequest(
                    tier=options.tier,
                    language=language,
                    translate_to=options.translate_to,
                    translator=self.settings.llm_endpoint is not None,
                )
            )
        return language.requested

    async def check_tier(self, options: SubmitOptions) -> None:
        """Refuse a tier that cannot read now (the vlm tier's server is not up), at once and
        before anything is charged."""
        if options.tier is Tier.CPU:
            return  # its readiness is Tesseract's being installed, which the doctor checks
        readiness = TIER_ENGINES[options.tier].readiness(ServerState(vlm=await self.vlm.status()))
        if not readiness.ready:
            raise TierUnavailableError(
                readiness.detail or f"The {options.tier.value} tier cannot read now.",
                retry_after=readiness.retry_after,
                tier=options.tier.value,
            )

    async def _as_a_fresh_request_would(self, earlier: JobRecord) -> JobRecord:
        """A replayed small file's job once it is read, as the first request answers it: a
        client whose first request timed out retries with the same key, and got the job
        still ``processing`` while the first request was yet to answer ``done``."""
        if earlier.status.finished or earlier.pages_to_read > self.settings.inline_page_limit:
            return earlier
        await self.queue.wait_until_finished(earlier)
        return await asyncio.to_thread(self.jobs.get_job, earlier.uuid) or earlier

    async def webhook_url(self, account: Account, options: SubmitOptions) -> str | None:
        """Where the job's summary goes when it ends: the submit's ``webhook_url``, checked
        against server-side request forgery, else the account's default, if any."""
        if options.webhook_url is None:
            return account.webhook_url
        return await self.checked_webhook_url(options.webhook_url)

    async def checked_webhook_url(self, url: str) -> str:
        try:
            await check_webhook_url(
                url, allow_private_addresses=self.settings.webhook_private_addresses
            )
        except WebhookUrlError as exc:
            raise InvalidRequestError(str(exc), code="invalid_webhook_url") from exc
        return url

    async def _check_queued_pages(self, account: Account, pages: int) -> None:
        """Refuse a file that would put the account over its cap of pages waiting or being
        read: one account cannot fill the queue for everyone."""
        cap = self.settings.queued_pages_per_account
        if cap is None:
            return
        queued = await asyncio.to_thread(self.jobs.pages_queued, account.id)
        if queued + pages > cap:
            raise TooManyQueuedPagesError(
                f"This account has {queued} pages waiting or being read; this server queues "
                f"at most {cap} per account. Try again once some are done.",
                queued=queued,
                cap=cap,
                retry_after=_QUEUE_RETRY_SECONDS,
            )

    async def submit(
        self,
        account: Account,
        *,
        upload: BinaryIO,
        filename: str | None,
        options: SubmitOptions,
        idempotency_key: str | None = None,
    ) -> Submitted:
        """Make a job of the uploaded file ``upload``.

        Small files are processed before this returns; larger ones are queued.
        A repeated ``idempotency_key`` returns the account's first job with it
        and keeps nothing of the new upload.
        """
        # the records are called off the event loop (in the scale-out mode each call is a
        # round trip to PostgreSQL)
        if idempotency_key is not None:
            earlier = await asyncio.to_thread(
                self.jobs.job_for_idempotency_key, account.id, idempotency_key
            )
            if earlier is not None:
                return Submitted(await self._as_a_fresh_request_would(earlier), replayed=True)
        uuid = str(uuid_module.uuid4())
        try:
            await asyncio.to_thread(self.storage.save_upload, uuid, upload)
        except StorageFullError as exc:
            raise _disk_full() from exc
        upload_path = self.storage.upload(uuid)
        plans = self.settings.plans
        try:
            plan = self.accounts.plan_of(account)
            language = self.check_options(options)
            webhook_url = await self.webhook_url(account, options)
            await self.check_tier(options)
            try:
                # pdfinfo, or decoding an image's header: off the event loop
                document = await asyncio.to_thread(
                    sniff_document, upload_path, max_pixels=self.settings.max_page_pixels
                )
            except UnreadableDocumentError as exc:
                raise InvalidRequestError(str(exc), code=exc.code) from exc
            selected = _selected_pages(options.pages, document.page_count)
            to_read = len(selected) if selected is not None else document.page_count
            if to_read > self.settings.max_pages:
                raise InvalidRequestError(
                    f"The file has {to_read} pages to read; "
                    f"this server takes at most {self.settings.max_pages}.",
                    pages=to_read,
                    cap=self.settings.max_pages,
                    code="too_many_pages",
                )
            check_file(plan, to_read)
            await self._check_queued_pages(account, to_read)
        except AllowanceExceededError as exc:
            self.storage.delete_upload(uuid)
            raise _quota_error(exc, plan) from exc
        except BaseException:
            self.storage.delete_upload(uuid)
            raise
        record = JobRecord(
            uuid=uuid,
            account_id=account.id,
            status=JobStatus.PENDING,
            tier=options.tier,
            language=language,
            format=document.format,
            page_count=document.page_count,
            created_at=self.jobs.clock(),
            tool=options.tool,
            translate_to=options.translate_to,
            engine=options.engine,
            ocr=options.ocr,
            filename=filename,
            idempotency_key=idempotency_key,
            priority=plan.priority,
            selected_pages=selected,
            webhook_url=webhook_url,
        )
        cost = plans.cost(options.tier, record.pages_to_read)
        periods = Periods.at(record.created_at)
        try:
            await asyncio.to_thread(
                self.jobs.insert_job,
                record,
                charge=lambda usage: split_charge(cost, plan, usage, periods),
            )
        except AllowanceExceededError as exc:
            self.storage.delete_upload(uuid)
            raise _quota_error(exc, plan) from exc
        except StorageFullError as exc:
            self.storage.delete_upload(uuid)
            raise _disk_full() from exc
        except DuplicateIdempotencyKeyError:
            # the same key raced in from another request a moment ago
            self.storage.delete_upload(uuid)
            earlier = self.jobs.job_for_idempotency_key(account.id, idempotency_key or "")
            assert earlier is not None
            return Submitted(await self._as_a_fresh_request_would(earlier), replayed=True)
        self.storage.prepare_results(uuid)
        if record.pages_to_read <= self.settings.inline_page_limit:
            await self.queue.run_inline(record)
        else:
            self.queue.enqueue(record)
        return Submitted(await asyncio.to_thread(self.get, account, uuid))

    def get(self, account: Account, uuid: str) -> JobRecord:
        """The account's job ``uuid`` (as a URL gives it: any spelling of a UUID). Raises
        ``JobNotFoundError`` for no such job, another account's, or no UUID at all."""
        try:
            uuid = str(uuid_module.UUID(uuid))
        except ValueError:
            raise JobNotFoundError() from None
        record = self.jobs.get_job(uuid, account_id=account.id)
        if record is None:
            raise JobNotFoundError()
        return record

    def list(
        self, account: Account, *, status: str | None, limit: str | None, cursor: str | None
    ) -> JobList:
        """A page of the account's jobs, newest first, without their pages; the query's
        values as they came (checked here)."""
        wanted = None
        if status is not None:
            try:
                wanted = JobStatus(status)
            except ValueError:
                wanted = JobStatus.UNKNOWN
            if wanted is JobStatus.UNKNOWN:
                statuses = ", ".join(s.value for s in JobStatus if s is not JobStatus.UNKNOWN)
                raise InvalidRequestError(
                    f"Unknown status {status!r}: use one of {statuses}.", code="invalid_status"
                )
        count = _list_limit(limit)
        after = decode_cursor(cursor) if cursor is not None else None
        # one more than asked for: whether there is a next page
        records = self.jobs.list_jobs(account.id, limit=count + 1, status=wanted, after=after)
        shown = records[:count]
        more = len(records) > count
        return JobList(
            jobs=[job_summary(record) for record in shown],
            next_cursor=encode_cursor(shown[-1]) if more and shown else None,
        )

    def result(self, record: JobRecord, *, words: bool = False) -> JobResult:
        """The stored content of a done job (pages, text, Markdown, mean confidence); its
        blocks' words with ``words=True`` only."""
        try:
            return self.storage.read_result(record.uuid, words=words)
        except FileNotFoundError as exc:
            # deleted (or expired) between looking the job up and reading its result
            raise JobNotFoundError() from exc

    def view(self, record: JobRecord, *, detail: str | None = None) -> Job:
        """The job as the API shows it; with ``detail="words"``, its blocks' words too (any
        other detail but None is refused: ``invalid_detail``)."""
        words = wants_words(detail)
        content = self.result(record, words=words) if record.status is JobStatus.DONE else None
        return self._job(record, content)

    def _job(self, record: JobRecord, content: JobResult | None) -> Job:
        # the summary's fields (the list of jobs and webhooks show them) are one source
        return Job(
            **attrs.asdict(job_summary(record), recurse=False),
            mean_confidence=content.mean_confidence if content else None,
            text=content.text if content else None,
            markdown=content.markdown if content else None,
            pages=content.pages if content else None,
            engine=record.engine if record.tier is Tier.CPU else None,
            ocr=record.ocr if record.format == PDF else None,
            detected_languages=content.detected_languages if content else None,
            translated_to=content.translated_to if content else None,
            original_text=content.original_text if content else None,
            original_markdown=content.original_markdown if content else None,
            webhook=self._webhook_delivery(record),
        )

    def _webhook_delivery(self, record: JobRecord) -> WebhookDelivery | None:
        if record.webhook_url is None:
            return None
        found = self.webhooks.get_webhook(record.uuid)
        if found is None:
            return None
        return WebhookDelivery(
            url=found.url,
            status=found.status,
            attempts=found.attempts,
            last_status_code=found.last_status_code,
            last_error=found.last_error,
            last_attempt_at=found.last_attempt_at,
            delivered_at=found.delivered_at,
        )

    def download(self, record: JobRecord, fmt: str) -> Download:
        """The done job as a file in download format ``fmt``. Takes a moment for a long
        document (docx, xlsx): call it off the event loop."""
        exporter = EXPORTERS.get(fmt)
        if exporter is None:
            raise InvalidRequestError(
                f"Unknown format {fmt!r}: use one of {', '.join(DOWNLOAD_FORMATS)}.",
                code="invalid_format",
            )
        if record.status is JobStatus.FAILED:
            raise FailedJobError(
                f"The job failed: {record.error or 'no reason given'}",
                uuid=record.uuid,
                job_error=record.error,
            )
        if record.status is not JobStatus.DONE:
            raise JobNotDoneError(f"The job is {record.status.value}, not done.")
        # a format that places words (hOCR, ALTO, PAGE) says so; the others, json among
        # them, have the job as GET shows it
        words = getattr(exporter, "words", False)
        pdf = self.storage.document_pdf(record.uuid)
        if not isinstance(exporter, StreamingExporter):
            job = self.view(record, detail=WORDS if words else None)
            return Download(
                exporter.export(ExportSource(job=job, searchable_pdf=pdf)),
                exporter.media_type,
                file_extension(exporter),
            )
        # a long job's hOCR, ALTO or PAGE goes out as it is written, from its pages read a
        # page at a time: neither the file nor the pages are ever all in memory
        try:
            header = self.storage.read_header(record.uuid)
        except FileNotFoundError as exc:
            raise JobNotFoundError() from exc  # deleted (or expired) since it was looked up
        job = attrs.evolve(self._job(record, header), pages=None, text=None, markdown=None)
        pages = StoredPages(functools.partial(self.storage.iter_pages, record.uuid, words=words))
        source = ExportSource(job=job, searchable_pdf=pdf, pages=pages)
        return Download(exporter.stream(source), exporter.media_type, file_extension(exporter))

    def page_image(self, record: JobRecord, page_number: int) -> bytes:
        """Page ``page_number`` of the done job (1-based, as the file counts its pages) as a
        PNG, rendered from the job's searchable PDF. Raises ``JobNotFoundError`` for a page
        the job did not read, and ``JobNotDoneError`` before the PDF exists."""
        if record.status is not JobStatus.DONE:
            raise JobNotDoneError(f"The job is {record.status.value}, not done.")
        try:
            # the PDF holds the pages read, in order: a page selection leaves the others out
            position = list(record.page_indexes).index(page_number - 1)
        except ValueError:
            raise JobNotFoundError() from None
        try:
            return render_page_png(self.storage.document_pdf(record.uuid), position)
        except FileNotFoundError as exc:
            raise JobNotFoundError() from exc

    async def delete(self, record: JobRecord) -> int:
        """Delete the job and everything of it now, even mid-run; returns the credits given back.

        A running job's pages not counted done yet are given back (those being read
        right now included: their results are thrown away); done ones stay paid for.
        """
        # first, and on the event loop, where the embedded queue keeps its jobs: no page
        # counts as done after this
        self.queue.cancel(record.uuid, pages=record.page_indexes)
        return await asyncio.to_thread(self._delete_cancelled, record)

    def _delete_cancelled(self, record: JobRecord) -> int:
        refunded = 0
        if not record.status.finished:
            current = self.jobs.get_job(record.uuid) or record
            unread = current.pages_to_read - current.pages_done
            refunded = self.charges.refund(
                record.uuid, self.settings.plans.cost(record.tier, unread)
            )
        self.jobs.delete_job(record.uuid)
        self.storage.delete_all(record.uuid)
        return refunded

    def expire(self) -> int:
        """Delete every job whose results have outlived the retention time."""
        expired = self.jobs.expired_jobs()
        for uuid in expired:
            self.queue.cancel(uuid)
            self.jobs.delete_job(uuid)
            self.storage.delete_all(uuid)
        if expired:
            log.info("deleted %d expired job(s)", len(expired))
        return len(expired)
