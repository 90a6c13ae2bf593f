"""The job layer's face to HTTP: submit, look up, delete and expire jobs.

Everything a request can get wrong is checked here before any page is read,
and the upload is removed on every path that does not become a job.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import attrs

from ocrchat._serde import structure
from ocrchat.models import Job, JobStatus, Page, Progress, Tier
from ocrchat_server.engines.cpu import ENGINES, EngineChoiceError, check_engine
from ocrchat_server.engines.languages import UnknownLanguageError, resolve_language
from ocrchat_server.engines.translation import UnknownTargetError, target_language
from ocrchat_server.errors import ApiError, bad_request, not_found
from ocrchat_server.ingest import PDF, UnreadableDocumentError, sniff_document
from ocrchat_server.ingest.text_layer import OCR_MODES
from ocrchat_server.jobs.files import read_json
from ocrchat_server.jobs.metering import Periods, QuotaExceededError, check_file, split_charge
from ocrchat_server.jobs.plans import PlansError
from ocrchat_server.jobs.store import DuplicateIdempotencyKeyError, JobRecord
from ocrchat_server.jobs.tools import (
    HANDWRITING,
    HANDWRITING_ENGINE,
    TOOL_SLUGS,
    TRANSLATE,
    TRANSLATOR_NOT_CONFIGURED,
)

if TYPE_CHECKING:
    from ocrchat_server.engines.vlm_server import VlmServer
    from ocrchat_server.jobs.files import JobFiles
    from ocrchat_server.jobs.plans import Plan
    from ocrchat_server.jobs.runner import JobRunner
    from ocrchat_server.jobs.store import Account, JobStore
    from ocrchat_server.settings import Settings

log = logging.getLogger(__name__)


@attrs.frozen
class SubmitOptions:
    tier: str = "cpu"
    language: str = "auto"
    tool: str | None = None
    translate_to: str | None = None
    engine: str = "auto"
    ocr: str = "auto"

    @classmethod
    def from_form(cls, fields: dict[str, str]) -> SubmitOptions:
        def field(name: str) -> str | None:
            value = fields.get(name, "").strip()
            return value or None

        return cls(
            tier=(field("tier") or "cpu").lower(),
            language=field("language") or "auto",
            tool=field("tool"),
            translate_to=field("translate_to"),
            engine=(field("engine") or "auto").lower(),
            ocr=(field("ocr") or "auto").lower(),
        )


def _quota_error(exc: QuotaExceededError, plan: Plan) -> ApiError:
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
    return ApiError(402, "quota_exceeded", message, **details)


@attrs.frozen
class Submitted:
    record: JobRecord
    replayed: bool = False
    """True when an earlier request with the same ``Idempotency-Key`` made the job."""


class JobService:
    def __init__(
        self,
        *,
        settings: Settings,
        store: JobStore,
        files: JobFiles,
        runner: JobRunner,
        vlm: VlmServer,
    ) -> None:
        self.vlm = vlm
        self.settings = settings
        self.store = store
        self.files = files
        self.runner = runner

    def check_options(self, options: SubmitOptions) -> str:
        """Refuse bad parameters before the file is looked at; returns the language to store."""
        if options.tier not in (Tier.CPU.value, Tier.VLM.value):
            raise bad_request("invalid_tier", f"Unknown tier {options.tier!r}: use cpu or vlm.")
        if options.engine not in ENGINES:
            raise bad_request(
                "invalid_engine",
                f"Unknown engine {options.engine!r}: use one of {', '.join(ENGINES)}.",
            )
        if options.engine != "auto" and options.tier != Tier.CPU.value:
            raise bad_request(
                "engine_needs_cpu",
                f"engine={options.engine} chooses the cpu tier's recognizer; the vlm tier "
                "has one (Surya).",
            )
        if options.ocr not in OCR_MODES:
            raise bad_request(
                "invalid_ocr", f"Unknown ocr {options.ocr!r}: use one of {', '.join(OCR_MODES)}."
            )
        if options.tool is not None and options.tool not in TOOL_SLUGS:
            known = ", ".join(TOOL_SLUGS)
            raise bad_request("invalid_tool", f"Unknown tool {options.tool!r}: use one of {known}.")
        if options.tool == TRANSLATE:
            if not options.translate_to:
                raise bad_request(
                    "missing_translate_to", "The translate tool needs translate_to, e.g. de."
                )
            try:
                target_language(options.translate_to)
            except UnknownTargetError as exc:
                raise bad_request(
                    "unsupported_language",
                    f"Unknown translate_to {options.translate_to!r}: use an ISO 639-1 code "
                    "such as en, de or zh.",
                    language=options.translate_to,
                ) from exc
            if self.settings.llm_endpoint is None:
                raise bad_request("translator_not_configured", TRANSLATOR_NOT_CONFIGURED)
        elif options.translate_to:
            raise bad_request("translate_to_without_tool", "translate_to goes with tool=translate.")
        try:
            language = resolve_language(options.language)
        except UnknownLanguageError as exc:
            raise bad_request(
                "unsupported_language",
                f"No OCR model for language {exc.code!r} on this server.",
                language=exc.code,
            ) from exc
        try:
            check_engine(options.engine, language)
        except EngineChoiceError as exc:
            raise bad_request(
                "engine_cannot_read_language",
                f"PP-OCRv6 (engine=ppocr) does not read {exc}: use engine=auto or "
                "engine=tesseract.",
                language=str(exc),
            ) from exc
        if options.tool == HANDWRITING and options.tier == Tier.CPU.value:
            try:
                check_engine(HANDWRITING_ENGINE, language)
            except EngineChoiceError as exc:
                raise bad_request(
                    "engine_cannot_read_language",
                    f"Handwriting on the cpu tier is read by PP-OCRv6, which does not read "
                    f"{exc}: send tier=vlm.",
                    language=str(exc),
                ) from exc
        return language.requested

    async def check_tier(self, options: SubmitOptions) -> None:
        """Refuse a vlm request at once, before anything is charged, while its server is not up."""
        if options.tier != Tier.VLM.value:
            return
        status = await self.vlm.status()
        if not status.ready:
            error = ApiError(503, "tier_unavailable", status.detail, tier="vlm")
            error.retry_after = status.retry_after
            raise error

    async def submit(
        self,
        account: Account,
        *,
        uuid: str,
        filename: str | None,
        options: SubmitOptions,
        idempotency_key: str | None = None,
    ) -> Submitted:
        """Make a job of the upload already saved at ``files.upload(uuid)``.

        Small files are processed before this returns; larger ones are queued.
        A repeated ``idempotency_key`` returns the account's first job with it
        and drops the new upload.
        """
        upload = self.files.upload(uuid)
        if idempotency_key is not None:
            earlier = self.store.job_for_idempotency_key(account.id, idempotency_key)
            if earlier is not None:
                self.files.delete_upload(uuid)
                return Submitted(earlier, replayed=True)
        plans = self.settings.plans
        try:
            plan = self.plan_of(account)
            language = self.check_options(options)
            await self.check_tier(options)
            try:
                # pdfinfo, or decoding an image's header: off the event loop
                document = await asyncio.to_thread(sniff_document, upload)
            except UnreadableDocumentError as exc:
                raise bad_request("unreadable_file", str(exc)) from exc
            if document.page_count > self.settings.max_pages:
                raise bad_request(
                    "too_many_pages",
                    f"The file has {document.page_count} pages; "
                    f"this server takes at most {self.settings.max_pages}.",
                    pages=document.page_count,
                    cap=self.settings.max_pages,
                )
            check_file(plan, document.page_count)
        except QuotaExceededError as exc:
            self.files.delete_upload(uuid)
            raise _quota_error(exc, plan) from exc
        except BaseException:
            self.files.delete_upload(uuid)
            raise
        record = JobRecord(
            uuid=uuid,
            account_id=account.id,
            status=JobStatus.PENDING,
            tier=options.tier,
            language=language,
            format=document.format,
            page_count=document.page_count,
            created_at=self.store.clock(),
            tool=options.tool,
            translate_to=options.translate_to,
            engine=options.engine,
            ocr=options.ocr,
            filename=filename,
            idempotency_key=idempotency_key,
            priority=plan.priority,
        )
        cost = plans.cost(options.tier, document.page_count)
        periods = Periods.at(record.created_at)
        try:
            self.store.insert_job(
                record, charge=lambda usage: split_charge(cost, plan, usage, periods)
            )
        except QuotaExceededError as exc:
            self.files.delete_upload(uuid)
            raise _quota_error(exc, plan) from exc
        except DuplicateIdempotencyKeyError:
            # the same key raced in from another request a moment ago
            self.files.delete_upload(uuid)
            earlier = self.store.job_for_idempotency_key(account.id, idempotency_key or "")
            assert earlier is not None
            return Submitted(earlier, replayed=True)
        self.files.prepare_results(uuid)
        if document.page_count <= self.settings.inline_page_limit:
            await self.runner.run_inline(record)
        else:
            self.runner.enqueue(record)
        return Submitted(self.get(account, uuid))

    def plan_of(self, account: Account) -> Plan:
        try:
            return self.settings.plans.get(account.plan)
        except PlansError as exc:
            # an operator's slip (a plans file left out at restart), not the caller's
            log.error(
                "account %s is on plan %r, which is not configured", account.name, account.plan
            )
            raise ApiError(
                500,
                "plan_not_configured",
                f"Your account's plan {account.plan!r} is not configured on this server.",
            ) from exc

    def get(self, account: Account, uuid: str) -> JobRecord:
        record = self.store.get_job(uuid, account_id=account.id)
        if record is None:
            raise not_found()
        return record

    def result(self, record: JobRecord) -> dict[str, Any]:
        """The stored content of a done job (pages, text, Markdown, mean confidence)."""
        try:
            data: dict[str, Any] = read_json(self.files.job_result(record.uuid))
        except FileNotFoundError as exc:
            # deleted (or expired) between looking the job up and reading its result
            raise not_found() from exc
        return data

    def view(self, record: JobRecord) -> Job:
        """The job as the API shows it."""
        content: dict[str, Any] = {}
        if record.status is JobStatus.DONE:
            content = self.result(record)
        return Job(
            uuid=record.uuid,
            status=record.status,
            tier=Tier(record.tier),
            language=record.language,
            page_count=record.page_count,
            mean_confidence=content.get("mean_confidence"),
            text=content.get("text"),
            markdown=content.get("markdown"),
            pages=structure(content["pages"], list[Page]) if "pages" in content else None,
            error=record.error,
            progress=Progress(pages_done=record.pages_done, pages_total=record.page_count),
            tool=record.tool,
            engine=record.engine if record.tier == Tier.CPU.value else None,
            ocr=record.ocr if record.format == PDF else None,
            filename=record.filename,
            detected_languages=content.get("detected_languages"),
            translated_to=content.get("translated_to"),
            original_text=content.get("original_text"),
            original_markdown=content.get("original_markdown"),
            created_at=record.created_at,
            finished_at=record.finished_at,
            expires_at=record.expires_at,
        )

    def delete(self, record: JobRecord) -> int:
        """Delete the job and everything of it now, even mid-run; returns the credits given back.

        A running job's pages not counted done yet are given back (those being read
        right now included: their results are thrown away); done ones stay paid for.
        """
        self.runner.cancel(record.uuid)  # first: no page counts as done after this
        refunded = 0
        if not record.status.finished:
            current = self.store.get_job(record.uuid) or record
            unread = current.page_count - current.pages_done
            refunded = self.store.refund(record.uuid, self.settings.plans.cost(record.tier, unread))
        self.store.delete_job(record.uuid)
        self.files.delete_all(record.uuid)
        return refunded

    def expire(self) -> int:
        """Delete every job whose results have outlived the retention time."""
        expired = self.store.expired_jobs()
        for uuid in expired:
            self.runner.cancel(uuid)
            self.store.delete_job(uuid)
            self.files.delete_all(uuid)
        if expired:
            log.info("deleted %d expired job(s)", len(expired))
        return len(expired)
