"""Runs jobs page by page on a pool of worker processes.

The pool gets one page at a time per free worker, never a whole job, so:

- a job waiting in the request (5 pages or fewer) jumps ahead of queued
  background jobs instead of waiting behind a 500-page PDF;
- the pages of one job spread over every worker;
- a worker holds one page image at a time, however long the document.

Background jobs are served first come, first served. Each finished page is
on disk before it counts, so a server that stops mid-job resumes it from
the pages it has not finished yet.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import functools
import gc
import logging
import multiprocessing
import statistics
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

import attrs

from ocrchat._serde import structure, unstructure
from ocrchat.models import JobStatus, Page
from ocrchat_server.engines.base import EngineError
from ocrchat_server.engines.preparation import STEPS
from ocrchat_server.engines.text_layer import TEXT_LAYER
from ocrchat_server.engines.translation import (
    TargetLanguage,
    Translator,
    markdown_text,
    target_language,
)
from ocrchat_server.errors import ApiError
from ocrchat_server.exports.searchable_pdf import (
    PdfPage,
    SearchablePdfError,
    graft_text_layer,
    join_pages,
    write_page_pdf_from_words,
)
from ocrchat_server.ingest import PDF, Document, open_page
from ocrchat_server.jobs.files import read_json, write_json_atomically
from ocrchat_server.jobs.tools import TRANSLATE
from ocrchat_server.jobs.worker import PageOutcome, PageTask, init_worker, run_page

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from ocrchat_server.engines.vlm_server import VlmServer
    from ocrchat_server.jobs.files import JobFiles
    from ocrchat_server.jobs.store import JobRecord, JobStore

log = logging.getLogger(__name__)

MAX_INTERRUPTIONS = 3
"""Server stops a job may live through before it is failed instead of resumed."""
_MAX_ATTEMPTS_PER_PAGE = 2
PAGE_SEPARATOR_TEXT = "\n\n"
PAGE_SEPARATOR_MARKDOWN = "\n\n---\n\n"
_TRANSLATION_THREADS = 4
"""Pages sent to the language model at once."""


@attrs.define(eq=False)
class _ActiveJob:
    record: JobRecord
    remaining: collections.deque[int]
    pages_done: int
    inline: bool
    finished: asyncio.Event = attrs.Factory(asyncio.Event)
    in_flight: int = 0
    error: str | None = None
    cancelled: bool = False
    attempts: collections.Counter[int] = attrs.Factory(collections.Counter)


def assemble_result(pages: Iterable[Page], *, translated_to: str | None = None) -> dict[str, Any]:
    """The finished job's content: pages, whole text and Markdown, mean confidence;
    with a translation, the original text and Markdown beside the translated.

    ``pages`` is taken one page at a time, each kept only as the JSON it becomes: a
    300-page job's pages as objects and as JSON at once held some 60 MB of the server.
    """
    stored: list[dict[str, Any]] = []
    texts: list[str] = []
    markdowns: list[str] = []
    originals: list[str] = []
    original_markdowns: list[str] = []
    confidences: list[float] = []
    languages: list[tuple[list[str] | None, int]] = []
    for page in pages:
        stored.append(unstructure(page))
        texts.append(page.text)
        markdowns.append(page.markdown or page.text)
        originals.append(page.original_text or "")
        original_markdowns.append(page.original_markdown or "")
        confidences.extend(block.confidence for block in page.blocks)
        languages.append((page.detected_languages, len(page.text)))
    translation: dict[str, Any] = {}
    if translated_to is not None:
        translation = {
            "translated_to": translated_to,
            "original_text": PAGE_SEPARATOR_TEXT.join(originals),
            "original_markdown": PAGE_SEPARATOR_MARKDOWN.join(original_markdowns),
        }
    return {
        **translation,
        "pages": stored,
        "text": PAGE_SEPARATOR_TEXT.join(texts),
        "markdown": PAGE_SEPARATOR_MARKDOWN.join(markdowns),
        "mean_confidence": round(statistics.fmean(confidences), 4) if confidences else None,
        "detected_languages": _document_languages(languages),
    }


def translate_pages(
    translator: Translator, pages: list[Page], target: TargetLanguage
) -> list[Page]:
    """Every page translated, a few at a time; each keeps its original text and Markdown."""

    def translate(page: Page) -> Page:
        original = page.markdown or page.text
        translated = translator.translate(original, target)
        return attrs.evolve(
            page,
            text=markdown_text(translated),
            markdown=translated,
            original_text=page.text,
            original_markdown=original,
        )

    with ThreadPoolExecutor(max_workers=_TRANSLATION_THREADS) as pool:
        return list(pool.map(translate, pages))


def _document_languages(pages: list[tuple[list[str] | None, int]]) -> list[str] | None:
    """The pages' languages (each page's detected languages and its text's length), ranked
    by how much text each page has and their rank there."""
    if all(detected is None for detected, _ in pages):
        return None
    weights: dict[str, float] = collections.defaultdict(float)
    for detected, length in pages:
        for rank, code in enumerate(detected or []):
            weights[code] += length / (rank + 1)
    return sorted(weights, key=lambda code: -weights[code])


class JobRunner:
    def __init__(
        self,
        *,
        store: JobStore,
        files: JobFiles,
        workers: int,
        retention: dt.timedelta,
        pool_factory: Callable[[int], ProcessPoolExecutor] | None = None,
        vlm: VlmServer | None = None,
        translator: Translator | None = None,
        preparation: tuple[str, ...] = STEPS,
        worker_max_pages: int | None = None,
        worker_max_rss_mb: int | None = None,
    ) -> None:
        self.store = store
        self.preparation = preparation
        self.vlm = vlm
        self.translator = translator
        self.files = files
        self.workers = workers
        self.retention = retention
        self._pool_factory = pool_factory or functools.partial(
            _spawn_pool, max_pages=worker_max_pages
        )
        self._max_rss = worker_max_rss_mb * 1024 * 1024 if worker_max_rss_mb else None
        self._pool: ProcessPoolExecutor | None = None
        self._jobs: dict[str, _ActiveJob] = {}
        self._in_flight = 0
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    # --- life cycle ---------------------------------------------------------

    async def run(self) -> None:
        """Feed the pool until cancelled. Start it once, in the server's lifespan."""
        self._pool = self._pool_factory(self.workers)
        try:
            while True:
                self._fill_pool()
                await self._wake.wait()
                self._wake.clear()
        finally:
            self._pool.shutdown(wait=False, cancel_futures=True)
            for task in list(self._tasks):
                task.cancel()

    def recover(self) -> None:
        """Queue the jobs a previous run left unfinished."""
        for record in self.store.jobs_with_status(JobStatus.PENDING, JobStatus.PROCESSING):
            if record.status is JobStatus.PROCESSING:
                interruptions = self.store.record_interruption(record.uuid)
                if interruptions >= MAX_INTERRUPTIONS:
                    self._fail_now(
                        record.uuid,
                        f"The server stopped {interruptions} times while this job ran, "
                        "so it was not started again.",
                    )
                    continue
            if not self.files.upload(record.uuid).exists():
                self._fail_now(record.uuid, "The uploaded file was lost before the job ran.")
                continue
            self._add(record, inline=False)

    def _fail_now(self, uuid: str, error: str) -> None:
        self.store.finish(uuid, JobStatus.FAILED, retention=self.retention, error=error)
        self.store.refund(uuid)
        self.files.delete_upload(uuid)
        self.files.delete_page_results(uuid)

    # --- what the service calls ---------------------------------------------

    def enqueue(self, record: JobRecord) -> None:
        self._add(record, inline=False)

    async def run_inline(self, record: JobRecord) -> None:
        """Run the job ahead of the queue and return once it is done or failed."""
        job = self._add(record, inline=True)
        await job.finished.wait()

    def cancel(self, uuid: str) -> None:
        """Stop scheduling the job's pages (it is being deleted)."""
        job = self._jobs.pop(uuid, None)
        if job is not None:
            job.cancelled = True
            job.remaining.clear()
            job.finished.set()

    def is_active(self, uuid: str) -> bool:
        return uuid in self._jobs

    # --- scheduling ---------------------------------------------------------

    def _add(self, record: JobRecord, *, inline: bool) -> _ActiveJob:
        done = self.files.finished_pages(record.uuid)
        remaining = collections.deque(i for i in range(record.page_count) if i not in done)
        job = _ActiveJob(record=record, remaining=remaining, pages_done=len(done), inline=inline)
        self._jobs[record.uuid] = job
        if not remaining:  # every page survived a restart: only the assembly is left
            self._spawn(self._finish(job))
        self._wake.set()
        return job

    def _next_page(self) -> tuple[_ActiveJob, int] | None:
        """Jobs waiting in their request first, then by plan priority; within each, first
        come, first served (dicts keep insertion order and max() keeps the first of ties)."""
        ready = [job for job in self._jobs.values() if job.remaining and job.error is None]
        if not ready:
            return None
        job = max(ready, key=lambda job: (job.inline, job.record.priority))
        return job, job.remaining.popleft()

    def _fill_pool(self) -> None:
        while self._in_flight < self.workers and (picked := self._next_page()):
            job, index = picked
            if job.record.status is JobStatus.PENDING:
                self.store.mark_processing(job.record.uuid)
                job.record = attrs.evolve(job.record, status=JobStatus.PROCESSING)
            task = PageTask(
                uuid=job.record.uuid,
                index=index,
                upload=self.files.upload(job.record.uuid),
                document=Document(format=job.record.format, page_count=job.record.page_count),
                tier=job.record.tier,
                language=job.record.language,
                tool=job.record.tool,
                engine=job.record.engine,
                ocr=job.record.ocr,
                preparation=self.preparation,
                vlm=self.vlm.connection if self.vlm else None,
                result=self.files.page_result(job.record.uuid, index),
                page_pdf=self.files.page_pdf(job.record.uuid, index),
                title=job.record.filename,
                page_words=(
                    self.files.page_words(job.record.uuid, index)
                    if job.record.format == PDF
                    else None
                ),
            )
            assert self._pool is not None
            loop = asyncio.get_running_loop()
            try:
                future = loop.run_in_executor(self._pool, run_page, task)
            except BrokenProcessPool:
                # a worker died while it had nothing to do: no page reports the crash,
                # and the broken pool refuses new work
                self._replace_pool(self._pool)
                future = loop.run_in_executor(self._pool, run_page, task)
            self._in_flight += 1
            job.in_flight += 1
            self._spawn(self._page_finished(job, index, future, self._pool))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _page_finished(
        self,
        job: _ActiveJob,
        index: int,
        future: asyncio.Future[PageOutcome],
        pool: ProcessPoolExecutor,
    ) -> None:
        try:
            outcome = await future
            error = outcome.error
            if self._max_rss is not None and outcome.worker_rss > self._max_rss:
                self._recycle_pool(pool, outcome.worker_rss)
        except BrokenProcessPool:
            error = self._after_crash(job, index, pool)
        except Exception:
            log.exception("page %d of job %s", index + 1, job.record.uuid)
            error = f"Page {index + 1} could not be processed."
        finally:
            self._in_flight -= 1
            job.in_flight -= 1
            self._wake.set()

        if job.cancelled:
            if job.in_flight == 0:
                self.files.delete_all(job.record.uuid)  # a page may have landed after the delete
            return
        if error is not None:
            job.error = job.error or error
            job.remaining.clear()
        elif self.files.page_result(job.record.uuid, index).exists():
            job.pages_done += 1
            self.store.set_pages_done(job.record.uuid, job.pages_done)
        if job.in_flight == 0 and (job.error is not None or not job.remaining):
            await self._finish(job)

    def _recycle_pool(self, pool: ProcessPoolExecutor, rss: int) -> None:
        """Fresh workers for a pool one of whose workers outgrew its memory budget. Pages
        the old pool is reading finish there; it ends once they are done."""
        if self._pool is pool:
            log.info("a worker grew to %d MB, over its budget: starting fresh workers", rss >> 20)
            self._pool = self._pool_factory(self.workers)
            pool.shutdown(wait=False, cancel_futures=False)

    def _replace_pool(self, pool: ProcessPoolExecutor) -> None:
        """A fresh pool for one a worker died in (once, however many pages report it)."""
        if self._pool is pool:
            log.error("a worker process died; starting a new pool")
            self._pool = self._pool_factory(self.workers)
            pool.shutdown(wait=False, cancel_futures=True)

    def _after_crash(self, job: _ActiveJob, index: int, pool: ProcessPoolExecutor) -> str | None:
        """A worker died (killed, out of memory): new pool, and the page gets one more try."""
        self._replace_pool(pool)
        job.attempts[index] += 1
        if job.attempts[index] >= _MAX_ATTEMPTS_PER_PAGE:
            return f"The worker crashed on page {index + 1}; the page may be too large."
        job.remaining.appendleft(index)
        return None

    async def _finish(self, job: _ActiveJob) -> None:
        uuid = job.record.uuid
        try:
            if job.error is None:
                try:
                    await asyncio.to_thread(self._write_result, job.record)
                except (EngineError, ApiError) as exc:
                    reason = exc.message if isinstance(exc, ApiError) else str(exc)
                    job.error = f"The translation failed: {reason}"
                except Exception:
                    log.exception("assembling job %s", uuid)
                    job.error = "The job's result could not be assembled."
            if job.error is None:
                self.store.finish(uuid, JobStatus.DONE, retention=self.retention)
            else:
                self.store.finish(uuid, JobStatus.FAILED, retention=self.retention, error=job.error)
                self.store.refund(uuid)  # a failed job costs nothing
                self.files.delete_page_results(uuid)
            self.files.delete_upload(uuid)
        finally:
            self._jobs.pop(uuid, None)
            job.finished.set()

    def _write_result(self, record: JobRecord) -> None:
        uuid, page_count = record.uuid, record.page_count
        # a page read from its own text layer is kept from the upload as it is; an OCRed
        # page of a PDF too, with our text layer grafted on; other pages are our own.
        # The graft comes before the pages are loaded, and its objects are collected before
        # they are: the two never hold memory at once (a 300-page job's peak was their sum)
        upload = self.files.upload(uuid)
        words_files = [self.files.page_words(uuid, index) for index in range(page_count)]
        grafts = {
            index: read_json(words) for index, words in enumerate(words_files) if words.exists()
        }
        original = upload
        if grafts:
            original = self.files.page_pdfs_dir(uuid) / "grafted.pdf"
            try:
                graft_text_layer(upload, grafts, original, title=record.filename)
            except SearchablePdfError:
                # qpdf could not take the upload where poppler could: those pages get
                # page PDFs of ours, their renderings under the same words
                log.warning("job %s: text layer not grafted; rendering its pages", uuid)
                document = Document(format=record.format, page_count=page_count)
                for index, page_words in grafts.items():
                    page = open_page(upload, document, index)
                    write_page_pdf_from_words(
                        page, page_words, self.files.page_pdf(uuid, index), title=record.filename
                    )
                original, grafts = upload, {}
        grafted = set(grafts)
        grafts.clear()  # the words records are in the PDF now
        if grafted:
            gc.collect()  # and fpdf2's layer document is reference cycles: freed now
        pages: Iterable[Page] = (
            structure(read_json(self.files.page_result(uuid, index)), Page)
            for index in range(page_count)
        )
        translated_to = None
        if record.tool == TRANSLATE and record.translate_to:
            if self.translator is None:
                raise EngineError("No translator is configured on this server any more.")
            target = target_language(record.translate_to)
            pages = translate_pages(self.translator, list(pages), target)
            translated_to = record.translate_to
        result = assemble_result(pages, translated_to=translated_to)
        pdf_pages = [
            PdfPage(original, index + 1, ours=False)
            if page["source"] == TEXT_LAYER or index in grafted
            else PdfPage(self.files.page_pdf(uuid, index))
            for index, page in enumerate(result["pages"])
        ]
        join_pages(pdf_pages, self.files.document_pdf(uuid), title=record.filename)
        write_json_atomically(self.files.job_result(uuid), result)
        self.files.delete_page_results(uuid)


def _spawn_pool(workers: int, *, max_pages: int | None = None) -> ProcessPoolExecutor:
    # spawn, not fork: the server process runs threads and an event loop.
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_worker,
        # a worker is replaced after this many pages: what memory it leaks goes with it
        max_tasks_per_child=max_pages,
    )
