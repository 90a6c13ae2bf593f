"""A job's end, whichever queue ran its pages: the pages joined into the result and the
searchable PDF, the job marked done or failed (and then refunded), its upload dropped.

The pages' results come from the result storage, written there by workers
(:mod:`ocrchat_server.jobs.worker`); nothing here holds more than one page's
image, and a long document's pages are read one at a time.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import gc
import logging
import statistics
from typing import TYPE_CHECKING, Any

import attrs

from ocrchat._serde import structure
from ocrchat.models import JobStatus, Page
from ocrchat_server.engines.base import EngineError
from ocrchat_server.engines.text_layer import TEXT_LAYER
from ocrchat_server.exports.searchable_pdf import (
    PdfPage,
    SearchablePdfError,
    graft_text_layer,
    join_pages,
    write_page_pdf_from_words,
)
from ocrchat_server.ingest import Document, open_page
from ocrchat_server.jobs.json_files import read_json
from ocrchat_server.jobs.records import JobResult, without_words
from ocrchat_server.jobs.tools import preset
from ocrchat_server.llm import LanguageModelUnavailableError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ocrchat_server.engines.translation import Translator
    from ocrchat_server.jobs.interfaces import ChargesLedger, JobRepository, ResultStorage
    from ocrchat_server.jobs.records import JobRecord
    from ocrchat_server.settings import Settings

log = logging.getLogger(__name__)

PAGE_SEPARATOR_TEXT = "\n\n"
PAGE_SEPARATOR_MARKDOWN = "\n\n---\n\n"


def assemble_result(pages: Iterable[Page], *, translated_to: str | None = None) -> JobResult:
    """The finished job's content: pages, whole text and Markdown, mean confidence;
    with a translation, the original text and Markdown beside the translated."""
    kept: list[Page] = []
    texts: list[str] = []
    markdowns: list[str] = []
    originals: list[str] = []
    original_markdowns: list[str] = []
    confidences: list[float] = []
    languages: list[tuple[list[str] | None, int]] = []
    for page in pages:
        kept.append(page)
        texts.append(page.text)
        markdowns.append(page.markdown or page.text)
        originals.append(page.original_text or "")
        original_markdowns.append(page.original_markdown or "")
        confidences.extend(block.confidence for block in page.blocks)
        languages.append((page.detected_languages, len(page.text)))
    translated = translated_to is not None
    return JobResult(
        pages=kept,
        text=PAGE_SEPARATOR_TEXT.join(texts),
        markdown=PAGE_SEPARATOR_MARKDOWN.join(markdowns),
        mean_confidence=round(statistics.fmean(confidences), 4) if confidences else None,
        detected_languages=_document_languages(languages),
        translated_to=translated_to,
        original_text=PAGE_SEPARATOR_TEXT.join(originals) if translated else None,
        original_markdown=PAGE_SEPARATOR_MARKDOWN.join(original_markdowns) if translated else None,
    )


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


@attrs.frozen
class JobFinisher:
    """Ends jobs once their pages are read (or one failed)."""

    jobs: JobRepository
    charges: ChargesLedger
    storage: ResultStorage
    retention: dt.timedelta
    translator: Translator | None = None

    @classmethod
    def configured(
        cls,
        settings: Settings,
        *,
        jobs: JobRepository,
        charges: ChargesLedger,
        storage: ResultStorage,
    ) -> JobFinisher:
        """The finisher with the settings' retention, and their language model to translate
        with when one is configured."""
        from ocrchat_server.engines.translation import Translator

        endpoint = settings.llm_endpoint
        return cls(
            jobs=jobs,
            charges=charges,
            storage=storage,
            retention=settings.retention,
            translator=Translator(endpoint) if endpoint else None,
        )

    def finish(self, record: JobRecord, error: str | None) -> str | None:
        """Assemble the job (when no page failed) and record how it ended; returns the
        error it ended with. Runs for seconds on a long document: call it off the loop."""
        uuid = record.uuid
        if error is None:
            try:
                self._write_result(record)
            except (EngineError, LanguageModelUnavailableError) as exc:
                reason = exc.message if isinstance(exc, LanguageModelUnavailableError) else exc
                error = f"The translation failed: {reason}"
            except Exception:
                log.exception("assembling job %s", uuid)
                error = "The job's result could not be assembled."
        if error is None:
            self.jobs.finish(uuid, JobStatus.DONE, retention=self.retention)
        else:
            self.fail(uuid, error)
        self.storage.delete_upload(uuid)
        return error

    def fail(self, uuid: str, error: str) -> None:
        """End the job failed, with nothing to pay and nothing of its pages kept."""
        self.jobs.finish(uuid, JobStatus.FAILED, retention=self.retention, error=error)
        self.charges.refund(uuid)
        self.storage.delete_page_results(uuid)

    def _write_result(self, record: JobRecord) -> None:
        storage = self.storage
        uuid, page_count = record.uuid, record.page_count
        # a page read from its own text layer is kept from the upload as it is; an OCRed
        # page of a PDF too, with our text layer grafted on; other pages are our own.
        # The graft comes before the pages are loaded, and its objects are collected before
        # they are: the two never hold memory at once (a 300-page job's peak was their sum)
        upload = storage.upload(uuid)
        words_files = {index: storage.page_words(uuid, index) for index in record.page_indexes}
        # each page's words are read when the graft needs them, never all at once
        grafts = {
            index: functools.partial(read_json, words)
            for index, words in words_files.items()
            if words.exists()
        }
        original = upload
        if grafts:
            original = storage.work_file(uuid, "grafted.pdf")
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
                        page, page_words(), storage.page_pdf(uuid, index), title=record.filename
                    )
                original, grafts = upload, {}
        grafted = set(grafts)
        if grafted:
            gc.collect()  # and fpdf2's layer document is reference cycles: freed now
        # the pages without their words, which are most of a long document's result: each
        # page's go from its own file straight into the stored result
        pages: Iterable[Page] = (
            structure(without_words(read_json(storage.page_result(uuid, index))), Page)
            for index in record.page_indexes
        )
        translated_to = None
        tool = preset(record.tool)
        if tool is not None and tool.finish is not None:
            finished = tool.finish(list(pages), record, self.translator)
            pages, translated_to = finished.pages, finished.translated_to
        result = assemble_result(pages, translated_to=translated_to)
        # with a page selection the PDF holds the pages read, each taken by its index in
        # the file
        pdf_pages = [
            PdfPage(original, page.index + 1, ours=False)
            if page.source == TEXT_LAYER or page.index in grafted
            else PdfPage(storage.page_pdf(uuid, page.index))
            for page in result.pages
        ]
        join_pages(pdf_pages, storage.document_pdf(uuid), title=record.filename)
        storage.write_result(uuid, result, words=functools.partial(_page_words, storage, uuid))
        storage.delete_page_results(uuid)


def _page_words(storage: ResultStorage, uuid: str, index: int) -> list[Any]:
    """Page ``index``'s blocks' words, as its result file has them."""
    page = read_json(storage.page_result(uuid, index))
    return [block.get("words") for block in page.get("blocks") or ()]
