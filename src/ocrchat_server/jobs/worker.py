"""What runs inside a worker process: one page of one job.

A worker decodes the page (rasterizing it when it is a PDF page), hands it to
the tier's engine and writes the page's result to disk. Only a short error
message goes back to the server process, never a page image.
"""

from __future__ import annotations

import ctypes
import errno
import gc
import logging
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
from PIL import Image

from ocrchat._serde import unstructure
from ocrchat.models import Page, Tier
from ocrchat_server.engines import ppocr
from ocrchat_server.engines.base import Engine, EngineError, PageReading
from ocrchat_server.engines.languages import resolve_language
from ocrchat_server.engines.preparation import STEPS
from ocrchat_server.engines.text_layer import OCR, merge_with_ocr, page_from_text_layer
from ocrchat_server.engines.tiers import TIER_ENGINES, EngineRequest
from ocrchat_server.engines.vlm_server import SuryaConnection
from ocrchat_server.exports.searchable_pdf import words_record, write_page_pdf
from ocrchat_server.ingest import PDF, Document, open_page
from ocrchat_server.ingest.pages import EXIF_TURNED, PDF_DPI
from ocrchat_server.ingest.sniff import IMAGE_FORMATS
from ocrchat_server.ingest.text_layer import OCR_AUTO, OCR_FORCE, TextLayerError, read_text_layer
from ocrchat_server.jobs.json_files import write_json_atomically
from ocrchat_server.jobs.tools import preset

if TYPE_CHECKING:
    from ocrchat_server.jobs.interfaces import ResultStorage
    from ocrchat_server.jobs.records import JobRecord

log = logging.getLogger(__name__)

# uploads whose own bytes the searchable PDF embeds: our format name -> Pillow's
_PICTURE_FORMATS = {IMAGE_FORMATS[name]: name for name in ("JPEG", "PNG", "TIFF")}
_PICTURE_MODES = ("1", "L", "P", "RGB")


@attrs.frozen
class PageTask:
    uuid: str
    index: int
    upload: Path
    document: Document
    tier: Tier
    language: str
    result: Path
    """Where the page's result goes; its existence marks the page done."""
    page_pdf: Path
    title: str | None
    page_words: Path | None = None
    """For a PDF upload: where an OCRed page's words go, to be grafted onto the upload's
    own page (no page PDF of ours then)."""
    tool: str | None = None
    engine: str = "auto"
    """The cpu tier's recognizer: ``auto``, ``tesseract`` or ``ppocr``."""
    ocr: str = OCR_AUTO
    """For PDF pages: read the page's own text when it is exact (``auto``), or not."""
    preparation: tuple[str, ...] = STEPS
    """The page preparation steps before PP-OCRv6 reads the page."""
    vlm: SuryaConnection | None = None
    """Where the vlm tier's inference server is, when it is configured."""
    page_timeout: float | None = None
    """The server's time limit per page (seconds): the rasterizer is stopped past it."""

    @classmethod
    def of(
        cls,
        record: JobRecord,
        index: int,
        storage: ResultStorage,
        *,
        preparation: tuple[str, ...],
        vlm: SuryaConnection | None,
        page_timeout: float | None = None,
    ) -> PageTask:
        """Page ``index`` of the job, its files where ``storage`` keeps them."""
        uuid = record.uuid
        return cls(
            uuid=uuid,
            index=index,
            upload=storage.upload(uuid),
            document=Document(format=record.format, page_count=record.page_count),
            tier=record.tier,
            language=record.language,
            tool=record.tool,
            engine=record.engine,
            ocr=record.ocr,
            preparation=preparation,
            vlm=vlm,
            page_timeout=page_timeout,
            result=storage.page_result(uuid, index),
            page_pdf=storage.page_pdf(uuid, index),
            title=record.filename,
            page_words=storage.page_words(uuid, index) if record.format == PDF else None,
        )


def engine_for(task: PageTask) -> Engine:
    tool = preset(task.tool)
    request = EngineRequest(
        # a tool may read with its own recognizer (handwriting: PP-OCRv6)
        recognizer=tool.cpu_engine if tool is not None and tool.cpu_engine else task.engine,
        read_tables=tool is not None and tool.read_tables,
        preparation=task.preparation,
        vlm=task.vlm,
    )
    return TIER_ENGINES[task.tier].create(request)


_WORKER_NICENESS = 5
"""How much lower than the server's the workers' CPU priority is: with a worker on every
core, the event loop still gets its turn, so polls and uploads are answered at once
while pages are read (bench/results/polling.json). Pages lose nothing when the server
is idle."""


_PR_SET_PDEATHSIG = 1
"""Linux prctl(2): the signal a process gets when its parent dies."""


def die_with_parent(parent: int) -> None:
    """Have Linux kill this process when ``parent`` dies (a server SIGKILLed, or lost to
    the OOM killer): its workers, each holding a gigabyte of models, once lived on beside
    the next server's. Elsewhere (no prctl) this does nothing."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def init_worker(
    parent: int | None = None, pages_in_flight: ctypes.c_int | None = None, workers: int = 1
) -> None:
    """Start a worker process of the server ``parent`` (its pid), one of ``workers``.
    ``pages_in_flight``: how many pages the server's workers are reading, which it keeps
    up to date. The workers' cores (one each, as many as the machine has at most) are
    shared out among those pages: while fewer pages are read than there are workers,
    PP-OCRv6 recognizes this worker's lines on more than one (:func:`.ppocr.read_on_free_cores`)."""
    if parent is not None:
        die_with_parent(parent)
    # One OpenMP thread for Tesseract is set by the engines package, which this module
    # imports: it must be set before libtesseract loads, which is before this runs.
    os.nice(_WORKER_NICENESS)
    if pages_in_flight is not None:
        counter, cores = pages_in_flight, min(workers, os.cpu_count() or 1)
        ppocr.read_on_free_cores(lambda: max(1, cores // max(1, counter.value)))


@attrs.frozen
class PageOutcome:
    error: str | None
    """A message for the user when the page could not be read."""
    worker_rss: int
    """The worker's resident memory (bytes) once the page was done: the server replaces a
    worker that has grown past its budget."""


def run_page(
    task: PageTask, *, time_limit_errors: tuple[type[BaseException], ...] = ()
) -> PageOutcome:
    """Read one page and store its result. ``time_limit_errors``: what the worker's host
    raises into the page when its time limit is up (Celery's soft time limit)."""
    error = _run_page(task, time_limit_errors)
    return PageOutcome(error=error, worker_rss=resident_memory())


def _run_page(task: PageTask, time_limit_errors: tuple[type[BaseException], ...]) -> str | None:
    try:
        page = _read_page(task)
        write_json_atomically(task.result, unstructure(page))
    except EngineError as exc:
        return str(exc)
    except time_limit_errors:
        limit = f" of {task.page_timeout:g} seconds" if task.page_timeout else ""
        return (
            f"Page {task.index + 1} took longer than this server's limit{limit} per page, "
            "and was stopped."
        )
    except FileNotFoundError:
        return "The job's files were removed while it ran."
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            log.exception("page %d of job %s failed", task.index + 1, task.uuid)
            return f"Page {task.index + 1} could not be processed."
        return f"The server's disk filled up while page {task.index + 1} was read; try again later."
    except Exception:
        log.exception("page %d of job %s failed", task.index + 1, task.uuid)
        return f"Page {task.index + 1} could not be processed."
    finally:
        # fpdf2 parses the text layer's font anew for every page, into reference
        # cycles that hold some 20 MB; collected now, a worker stays flat over a
        # long job instead of growing until the generational collector gets to them
        gc.collect()
        # What survives a page is the worker's own: models, word lists, modules. Frozen,
        # the next collection skips it (a word list alone made each one take 40 ms).
        gc.freeze()
    return None


def resident_memory() -> int:
    """This process's resident memory now, in bytes (its peak where /proc is missing)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _read_page(task: PageTask) -> Page:
    """The page's reading, its searchable PDF page written first: once the result exists
    the page counts as done."""
    layer = None
    if task.document.format == PDF and task.ocr != OCR_FORCE:
        try:
            layer = read_text_layer(task.upload, task.index, PDF_DPI)
        except TextLayerError:
            layer = None  # poppler may still render what PDFium cannot open
    if layer is not None and not layer.needs_ocr(task.ocr):
        # no page PDF: the searchable PDF keeps the upload's page, which carries its text
        page, _ = page_from_text_layer(layer, task.index)
        return page
    engine = engine_for(task)
    image = open_page(task.upload, task.document, task.index, timeout=task.page_timeout)
    reading = engine.read_page(image, index=task.index, language=resolve_language(task.language))
    if layer is not None and layer.trustworthy and task.ocr == OCR_AUTO:
        reading = merge_with_ocr(layer, reading)  # text in the page's pictures, added
    else:
        reading = attrs.evolve(reading, page=attrs.evolve(reading.page, source=OCR))
        if task.page_words is not None and not reading.page.rotation:
            # a page of a PDF, read as it is shown: its words go onto the upload's own page,
            # which keeps its images (their own resolution and encoding), vectors and text;
            # the resolution is the one it was read at (lower than PDF_DPI for a huge page)
            record = words_record(reading, dpi=reading.dpi or PDF_DPI)
            write_json_atomically(task.page_words, record)
            return reading.page
    write_page_pdf(
        reading,
        task.page_pdf,
        title=task.title,
        original=None if image.info.get(EXIF_TURNED) else _original_picture(task, reading),
        lossless=task.document.format != PDF,
    )
    return reading.page


def _original_picture(task: PageTask, reading: PageReading) -> Path | None:
    """The upload, where its own encoded image can be the page's picture: one frame of
    JPEG, PNG or TIFF (not a camera's two-frame MPO) without transparency, in a colour
    model a PDF shows as it is, and not turned by us. (Whether an EXIF orientation turned
    it the page knows: asking the file again would decode a whole PNG to find its EXIF.)"""
    if task.document.format not in _PICTURE_FORMATS or task.document.page_count != 1:
        return None
    if reading.page.rotation:
        return None
    with Image.open(task.upload) as image:
        if image.format not in _PICTURE_FORMATS.values() or image.mode not in _PICTURE_MODES:
            return None
        if "transparency" in image.info or getattr(image, "n_frames", 1) != 1:
            return None
        if image.size != reading.image.size:
            return None
    return task.upload
