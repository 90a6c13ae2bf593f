"""The wire schema of the OCR.chat API, as attrs classes.

Both sides use these: the SDK parses server responses into them and the
server builds its responses from them. They know nothing of JSON; the one
converter in ``ocrchat._serde`` does. Every model is frozen: change one with
``attrs.evolve``.

Times are timezone-aware ``datetime``s in UTC, boxes are in pixels of the page image
the engine read, ``Page.index`` counts from 0 and ``Citation.page`` from 1.

Forward compatibility: a newer server may add fields (ignored when parsed)
and new enum values (parsed as the ``UNKNOWN`` member), so an old client
keeps working.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Literal, get_args

import attrs

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import pandas as pd
    from PIL.Image import Image

    from ocrchat._jupyter import JobView

__all__ = [
    "DOWNLOAD_FORMATS",
    "TIERS",
    "TOOLS",
    "Account",
    "AccountCaps",
    "AccountCosts",
    "AccountResets",
    "AccountUsage",
    "ApiToken",
    "Block",
    "ChatMessage",
    "ChatReply",
    "Citation",
    "Conversation",
    "DeletedJob",
    "DownloadFormat",
    "Engine",
    "Engines",
    "ErrorBody",
    "History",
    "Job",
    "JobList",
    "JobStatus",
    "JobStatusName",
    "JobSummary",
    "NewApiToken",
    "Page",
    "Progress",
    "Region",
    "RevokedToken",
    "Role",
    "Table",
    "Tier",
    "TierName",
    "TokenList",
    "Tool",
    "ToolName",
    "Tools",
    "WebhookDelivery",
    "WebhookEvent",
    "Word",
]

DownloadFormat = Literal["txt", "md", "json", "pdf", "docx", "xlsx", "csv", "hocr", "alto", "page"]
"""The formats of ``GET /api/v1/ocr/<uuid>/download/?format=`` (``client.download``):
``txt`` (the text, pages separated by a form feed), ``md`` (the Markdown), ``json`` (the
job as ``client.get`` has it), ``pdf`` (searchable: the pages with an invisible text
layer), ``docx`` (Word), ``csv`` and ``xlsx`` (the tables found; without tables, one row
per block), ``hocr`` (hOCR 1.2), ``alto`` (ALTO v4 XML) and ``page`` (a ZIP of PAGE-XML
2019 files, one a page): the archives' formats, with words and their boxes. The server's
exporters are checked against this list, so it is the one source of both."""
DOWNLOAD_FORMATS: tuple[DownloadFormat, ...] = get_args(DownloadFormat)
"""Every ``DownloadFormat``, in the documented order."""

TierName = Literal["cpu", "vlm"]
"""The ``tier`` of a submit, as a string: ``cpu`` (Tesseract and PP-OCRv6) or ``vlm``
(Surya). ``Tier`` has the same values."""
TIERS: tuple[TierName, ...] = get_args(TierName)
"""Every ``TierName``: ``("cpu", "vlm")``."""

JobStatusName = Literal["pending", "processing", "done", "failed"]
"""A job's status as a string, as ``client.jobs(status=...)`` and
``client.list_jobs(status=...)`` take it: the values of ``JobStatus`` but ``unknown``."""

ToolName = Literal["extract-tables", "handwriting-to-text", "translate"]
"""The ``tool`` presets of a submit: ``extract-tables``, ``handwriting-to-text`` and
``translate`` (with ``translate_to``). ``client.tools()`` (``GET /api/v1/tools/``) says
which can run now."""
TOOLS: tuple[ToolName, ...] = get_args(ToolName)
"""Every ``ToolName``: ``("extract-tables", "handwriting-to-text", "translate")``."""

BBox = tuple[int, int, int, int]
"""``[x0, y0, x1, y1]`` in pixels of the page image the engine read, origin top-left."""


class JobStatus(enum.StrEnum):
    """Where a job stands: ``PENDING``, then ``PROCESSING``, then ``DONE`` or ``FAILED``.

    Each member equals its string value (``JobStatus.DONE == "done"``).
    """

    PENDING = "pending"
    """Waiting for a worker: how a file of more than 5 pages comes back from submit."""
    PROCESSING = "processing"
    """Being read: ``Job.progress`` says how many pages are done."""
    DONE = "done"
    """Read: the job has its ``text``, ``markdown`` and ``pages``, and can be downloaded
    and chatted with."""
    FAILED = "failed"
    """Could not be read: ``Job.error`` says why."""
    UNKNOWN = "unknown"
    """A status this version of the SDK does not know (sent by a newer server)."""

    @property
    def finished(self) -> bool:
        """True for ``DONE`` and ``FAILED``: the job will not change any more."""
        return self in (JobStatus.DONE, JobStatus.FAILED)


class Tier(enum.StrEnum):
    """What reads a job: ``CPU`` or ``VLM``. Submit takes a member or its string value
    (``TierName``); each member equals its value (``Tier.CPU == "cpu"``)."""

    CPU = "cpu"
    """Tesseract and PP-OCRv6: fast, for printed documents. The default."""
    VLM = "vlm"
    """Surya, a vision-language model: handwriting, complex layouts, tables and math.
    A page costs more credits (``Account.costs``); a self-hosted server needs an
    inference server for it (``Engine.configured``)."""
    UNKNOWN = "unknown"
    """A tier this version of the SDK does not know (sent by a newer server)."""


class Role(enum.StrEnum):
    """Who wrote a chat message (``ChatMessage.role``)."""

    USER = "user"
    """The question, as asked with ``client.chat``."""
    ASSISTANT = "assistant"
    """The answer, from the job's text."""
    UNKNOWN = "unknown"
    """A role this version of the SDK does not know (sent by a newer server)."""


@attrs.frozen
class Word:
    """One word of a block (beyond the contract), in the job JSON with ``?detail=words``
    (``client.get(job, words=True)``).

    Joined by spaces, a block's words give its text, except that no space goes between
    two CJK characters (Chinese and Japanese are written without spaces: PP-OCRv6 and a
    PDF's text give each CJK character as a word, Tesseract its own runs of them), and
    that a vlm-tier block's line breaks read as spaces."""

    text: str
    """The word as read."""
    bbox: BBox
    """Its box, in the same pixels as its block's ``bbox``."""
    confidence: float
    """How likely the word is right, from 0.0 to 1.0, on the scale of ``Block.confidence``:
    Tesseract's own word confidence; its line's for PP-OCRv6 (whose word scores are not
    the words'); 1.0 for a PDF's own text; its block's on the vlm tier."""
    estimated: bool = False
    """True when the engine gave no box for the word (Surya; PP-OCRv6 where its word boxes
    do not fit the line's text) and it was laid out inside its line's box by its share of
    the line's characters."""


@attrs.frozen
class Region:
    """A paragraph or layout block of a page (beyond the contract): the lines whose
    ``Block.region`` is its index belong to it."""

    bbox: BBox
    """Its box, in the page's pixels, as ``Block.bbox``."""
    label: str | None = None
    """What it is. On the vlm tier, its block's layout label (``text``, ``heading``,
    ``table``, ...); on the cpu tier, ``page_header``, ``page_footer`` or ``page_number``
    for a running header, footer or page number, and None for a paragraph of text."""


@attrs.frozen
class Block:
    """One line (cpu tier) or layout block (vlm tier) of recognized text."""

    text: str
    """The text of the line or block. With the translate tool it stays the text as read:
    blocks are boxes on the scan."""
    bbox: BBox
    """Where the text is: ``(x0, y0, x1, y1)`` in pixels of the page image as read (turned
    upright by ``Page.rotation``), origin top-left. ``Page.to_original`` gives it in the
    upload's own orientation."""
    confidence: float
    """How likely the text is right, from 0.0 to 1.0. On the cpu tier, the share of its
    characters the engine is expected to have right, one scale for Tesseract and
    PP-OCRv6 (1.0 for a PDF's own text); on the vlm tier, Surya's mean token probability,
    the same for every block of a page."""
    label: str | None = None
    """What the block is (beyond the contract). On the vlm tier, Surya's layout label:
    ``text``, ``heading``, ``title``, ``list``, ``table``, ``formula``, ``handwriting``,
    ``caption``, ``page_header``, ``page_footer``, ... On the cpu tier, ``page_header``,
    ``page_footer`` or ``page_number`` for a running header, footer or page number, and
    None for any other line."""
    engine: str | None = None
    """What read the block (beyond the contract): ``tesseract``, ``ppocr``,
    ``text_layer`` (a PDF's own text) or ``surya`` (the vlm tier)."""
    low_confidence: bool | None = None
    """True when ``confidence`` is below the server's threshold (0.85 on ocrchat-server:
    more than 15% of the characters expected wrong): worth a human look. False for a PDF's own
    text; None on the vlm tier, whose scores are not calibrated."""
    words: list[Word] | None = None
    """The block's words with their boxes (beyond the contract): sent with
    ``GET /api/v1/ocr/<uuid>/?detail=words`` only, to keep the default JSON small; None
    otherwise."""
    region: int | None = None
    """The index in ``Page.regions`` of the paragraph (cpu tier) or layout block (vlm tier:
    the block's own region) this block belongs to (beyond the contract); None from a
    server that does not send regions."""


@attrs.frozen
class Table:
    """A table found on a page (beyond the contract): its box and its cells' text, row by row."""

    rows: list[list[str]]
    """The cells' text, row by row, each row left to right. Rows may differ in length
    (``to_pandas`` pads the short ones)."""
    bbox: BBox | None = None
    """The table's box in the page's pixels, as ``Block.bbox``; None when not known."""

    def to_pandas(self, *, header: bool = True) -> pd.DataFrame:
        """The table as a ``pandas.DataFrame`` of its cells' text, as read (convert numbers
        with ``pandas.to_numeric``: OCR keeps "1 841 000" and "1,841" as they are printed).

        With ``header=True`` (the default) the first row gives the column names: stripped,
        an empty one named ``column_<n>`` (its 1-based position) and a repeated one
        suffixed ``.1``, ``.2``, ... as ``pandas.read_csv`` does. With ``header=False`` every
        row is data and the columns are numbered from 0. Short rows are padded with "".
        Needs pandas: ``pip install 'ocrchat[pandas]'``."""
        from ocrchat._jupyter import table_to_pandas

        return table_to_pandas(self, header=header)

    def _repr_html_(self) -> str:
        from ocrchat._jupyter import table_html

        return table_html(self)


@attrs.frozen
class Page:
    """One page of a done job (``Job.pages``): its text, Markdown, blocks and tables."""

    index: int
    """0-based position of the page in the file. With ``pages`` on submit, still its
    place in the whole file (the first page of ``pages="3"`` has index 2)."""
    text: str
    """The page's plain text: lines joined by a newline, paragraphs by a blank line. With
    the translate tool, the translation."""
    blocks: list[Block] = attrs.field(factory=list)
    """The lines (cpu tier) or layout blocks (vlm tier) read, in reading order."""
    width: int | None = None
    """Width in pixels of the page image the boxes are in: the image as read, turned
    upright by ``rotation``. An image is read at its own size; a PDF page is rendered at
    300 dpi, or read at its scan's resolution when it is one scanned picture. None from a
    server that does not send it."""
    height: int | None = None
    """Height in pixels of the page image the boxes are in (see ``width``)."""
    markdown: str | None = None
    """The page as Markdown, with headings, lists and tables where the engine can tell.
    With the translate tool, the translation. None from a server that does not send it."""
    language: str | None = None
    """The Tesseract model(s) the page was read with, e.g. ``deu`` or ``script/Latin``;
    None where none was used (a PDF's own text, the vlm tier)."""
    rotation: int | None = None
    """Degrees the page image was turned (clockwise) before reading, when it was not
    upright: 90, 180 or 270; None when it already was. Boxes are in the turned (upright)
    image's pixels; ``to_original`` gives them in the upload's own orientation."""
    tables: list[Table] = attrs.field(factory=list)
    """The tables found on the page (beyond the contract): always on the vlm tier, with
    ``tool="extract-tables"`` on the cpu tier. Empty when there are none."""
    regions: list[Region] = attrs.field(factory=list)
    """The page's regions (beyond the contract), in reading order, each block's ``region``
    pointing into them: on the cpu tier its paragraphs (Tesseract's own; PP-OCRv6's lines
    and a PDF's text grouped by their spacing), the same paragraphs ``text`` separates by
    a blank line; on the vlm tier its layout blocks, one region each. Empty from a server
    that does not send them."""
    detected_languages: list[str] | None = None
    """With ``language=auto``: the languages found on the page, most text first (ISO 639-1).
    None otherwise."""
    original_text: str | None = None
    """With the translate tool: the page's text as read (``text`` is the translation).
    None otherwise."""
    original_markdown: str | None = None
    """With the translate tool: the page's Markdown as read (``markdown`` is the
    translation). None otherwise."""
    engine: str | None = None
    """What read the page (beyond the contract): ``tesseract``, ``ppocr``,
    ``ppocr+tesseract`` (Greek lines by Tesseract) or ``text_layer``; joined with ``+``
    when a PDF's own text was completed by OCR of its pictures (``ppocr+text_layer``);
    ``surya`` on the vlm tier."""
    source: str | None = None
    """``ocr`` (the page image was read), ``text_layer`` (the PDF's own text was exact) or
    ``text_layer+ocr`` (the PDF's own text, and OCR of the pictures on the page)."""
    timings: dict[str, float] | None = None
    """Seconds each step of the page's reading took (beyond the contract): page
    preparation steps (``upright``, ``grey``, ``lexicon``) and ``read``, the recognition
    itself. None where the steps are not timed (the vlm tier, a PDF's own text)."""

    @property
    def original_size(self) -> tuple[int, int] | None:
        """(width, height) in pixels of the page as uploaded, at the resolution it was read
        at: ``width`` and ``height`` swapped back when ``rotation`` is 90 or 270. None when
        the server gave no size."""
        if self.width is None or self.height is None:
            return None
        if self.rotation in (90, 270):
            return (self.height, self.width)
        return (self.width, self.height)

    def to_original(self, bbox: BBox) -> BBox:
        """A box of this page (a block's, a citation's), which is in the pixels of the image
        as read (turned upright by ``rotation``), in the upload's own orientation instead:
        what to draw on the image you sent. Unchanged when the page was not turned."""
        if not self.rotation or self.width is None or self.height is None:
            return bbox
        return _original_box(bbox, self.width, self.height, self.rotation % 360)

    def _repr_html_(self) -> str:
        """In Jupyter: a small table of the page's facts, then its text folded."""
        from ocrchat._jupyter import page_html

        return page_html(self)


def _original_box(bbox: BBox, width: int, height: int, rotation: int) -> BBox:
    """``bbox`` in an image turned ``rotation`` degrees clockwise (``width`` x ``height``
    pixels), in the image before the turn."""
    x0, y0, x1, y1 = bbox
    if rotation == 90:  # upright (x, y) was (y, width - x) before the turn
        return (y0, width - x1, y1, width - x0)
    if rotation == 180:
        return (width - x1, height - y1, width - x0, height - y0)
    if rotation == 270:  # upright (x, y) was (height - y, x)
        return (height - y1, x0, height - y0, x1)
    return bbox


@attrs.frozen
class DeletedJob:
    """``DELETE /api/v1/ocr/<uuid>/``: the job is gone, and what was given back."""

    uuid: str
    """The deleted job's id."""
    deleted: bool
    """True: the job, its files, its results and its conversations are gone."""
    refunded: int
    """Pages given back to the account: those not read yet when it was deleted."""


@attrs.frozen
class Progress:
    """How far a job has got (``Job.progress``, beyond the contract)."""

    pages_done: int
    """Pages read so far."""
    pages_total: int
    """The pages to read: the file's pages, or those ``pages`` selected."""


@attrs.frozen
class WebhookDelivery:
    """The job's webhook (``webhook_url`` on submit) and how its delivery went."""

    url: str
    """Where the job's summary is POSTed: the submit's ``webhook_url``, else the account's
    default."""
    status: str
    """``pending`` (the job is not finished, or a retry is due), ``delivered`` (the
    receiver answered 2xx) or ``failed`` (every retry was refused or timed out)."""
    attempts: int = 0
    """Deliveries tried so far: 0 until the job ends."""
    last_status_code: int | None = None
    """The receiver's HTTP status on the last attempt (None: no answer, or no attempt
    yet)."""
    last_error: str | None = None
    """Why the last attempt failed, in a sentence; None when it did not fail."""
    last_attempt_at: dt.datetime | None = None
    """When the last attempt was made (UTC); None before the first."""
    delivered_at: dt.datetime | None = None
    """When the receiver took the delivery (UTC); None until it has."""


@attrs.frozen
class Job:
    """A submitted document and, once it is done, everything read from it.

    What ``submit``, ``ocr``, ``get`` and ``poll`` return (``POST /api/v1/ocr/`` and
    ``GET /api/v1/ocr/<uuid>/``). In Jupyter a job shows a summary and its pages'
    Markdown; ``show`` adds the page images with their boxes drawn.
    """

    uuid: str
    """The job's id. The client's methods take it or the job itself."""
    status: JobStatus
    """``PENDING``, ``PROCESSING``, ``DONE`` or ``FAILED`` (``UNKNOWN`` from a newer
    server): see ``JobStatus``."""
    tier: Tier = Tier.CPU
    """What reads the job: ``Tier.CPU`` or ``Tier.VLM``."""
    language: str = "auto"
    """The ``language`` asked for on submit, as given: ``auto`` stays ``auto``
    (``detected_languages`` says what was found)."""
    page_count: int | None = None
    """Pages in the file, all of them even when ``pages`` selected some. None only from a
    server that does not send it."""
    mean_confidence: float | None = None
    """The mean ``confidence`` of all blocks, from 0.0 to 1.0; None until the job is done."""
    text: str | None = None
    """The whole document's plain text, pages joined by a blank line; None until the job is
    done. With the translate tool, the translation."""
    markdown: str | None = None
    """The whole document as Markdown, pages joined by a ``---`` rule; None until the job is
    done. With the translate tool, the translation."""
    pages: list[Page] | None = None
    """The pages read, in order (with ``pages`` on submit, the selected ones); None until
    the job is done."""
    error: str | None = None
    """Why the job failed, in a sentence; None unless it failed."""
    progress: Progress | None = None
    """Pages read so far out of pages to read (beyond the contract: None from a server
    that does not send it)."""
    tool: str | None = None
    """The ``tool`` asked for on submit (``extract-tables``, ``handwriting-to-text``,
    ``translate``); None without one."""
    filename: str | None = None
    """The upload's file name: a path's name, the name in a ``(filename, bytes)`` pair,
    else ``document``."""
    detected_languages: list[str] | None = None
    """With ``language=auto``: the languages found in the document, most text first
    (ISO 639-1). None otherwise, and until the job is done."""
    engine: str | None = None
    """The ``engine`` asked for on the cpu tier: ``auto``, ``tesseract`` or ``ppocr``. None
    on the vlm tier."""
    ocr: str | None = None
    """For PDFs: ``auto`` (read a page's own text when it is exact), ``force`` or ``skip``.
    None for an image."""
    translated_to: str | None = None
    """With the translate tool: ``text``, ``markdown`` and the downloads are in this language.
    None otherwise."""
    original_text: str | None = None
    """With the translate tool: the text as read, before translation. None otherwise."""
    original_markdown: str | None = None
    """With the translate tool: the Markdown as read, before translation. None otherwise."""
    created_at: dt.datetime | None = None
    """When the job was submitted (UTC)."""
    finished_at: dt.datetime | None = None
    """When the job ended, done or failed (UTC); None while it runs."""
    expires_at: dt.datetime | None = None
    """When the server deletes the job and its results (UTC); None until the job ends."""
    page_selection: str | None = None
    """The ``pages`` asked for on submit (``"1-3,7"``, 1-based), as the server read them;
    None when every page was read. ``page_count`` stays the file's page count, and each of
    ``pages`` keeps its ``index`` in the file."""
    webhook: WebhookDelivery | None = None
    """The job's webhook and how its delivery went; None when the job has none."""

    # Jupyter shows the HTML (the richer of the two); the Markdown stays for frontends
    # that render only Markdown.
    def _repr_html_(self) -> str:
        """A summary table, then each page's Markdown, the pages after the first folded.
        ``show`` adds the page images with their boxes."""
        from ocrchat._jupyter import job_html

        return job_html(self)

    def _repr_markdown_(self) -> str:
        from ocrchat._jupyter import job_markdown

        return job_markdown(self)

    def show(
        self,
        images: Image | Sequence[Image] | Mapping[int, Image] | None = None,
        *,
        size: int = 480,
        color: str = "red",
    ) -> JobView:
        """The job for Jupyter with its page images: each page that has one shows a
        thumbnail (``size`` pixels on its longer side) with its boxes drawn beside its text.

        ``images`` are PIL images of the pages as uploaded: one image (the first page),
        a list going with ``pages`` in order, or a dict by ``Page.index``. Needs
        Pillow: ``pip install 'ocrchat[jupyter]'``."""
        from ocrchat._jupyter import JobView, page_images

        return JobView(self, page_images(self, images), size=size, color=color)

    def tables(self) -> list[tuple[int, Table]]:
        """Every table found (with ``tool="extract-tables"``), in reading order, each with
        its page's ``index``."""
        from ocrchat._jupyter import job_tables

        return job_tables(self)

    def tables_frame(self) -> pd.DataFrame:
        """Every table's cells in one ``pandas.DataFrame``, one row per cell (long form):
        ``page`` (``Page.index``, from 0), ``table`` (the table's position in
        ``tables``, from 0), ``row`` and ``column`` (from 0, the header row too) and
        ``text``. Long form holds tables of any shape; one table as a wide frame is
        ``job.tables()[n][1].to_pandas()``, or ``frame[frame.table == n].pivot(
        index="row", columns="column", values="text")``. Needs pandas:
        ``pip install 'ocrchat[pandas]'``."""
        from ocrchat._jupyter import tables_frame

        return tables_frame(self)

    def draw_boxes(
        self,
        image: Image,
        page: int = 0,
        *,
        color: str = "red",
        width: int | None = None,
        upright: bool = False,
    ) -> Image:
        """``image`` (a PIL image of the page whose ``Page.index`` is ``page``, as uploaded;
        with ``upright=True``, as the server read it, turned by the page's ``rotation``)
        with the blocks' boxes drawn on a copy, in ``color``.

        The boxes are scaled to the image's size, so a thumbnail or a higher-resolution
        render works too. ``width`` is the boxes' line width in pixels; by default it
        scales with the image. Needs Pillow: ``pip install 'ocrchat[jupyter]'``."""
        from ocrchat._jupyter import draw_boxes

        return draw_boxes(self, image, page=page, color=color, width=width, upright=upright)


@attrs.frozen
class JobSummary:
    """One job of ``GET /api/v1/ocr/``: a job without its pages, text and Markdown.

    ``client.jobs()`` and ``client.list_jobs()`` list these, and a webhook delivery carries
    one (``WebhookEvent.data``); ``client.get(summary.uuid)`` fetches the whole job.
    """

    uuid: str
    """The job's id."""
    status: JobStatus
    """``PENDING``, ``PROCESSING``, ``DONE`` or ``FAILED`` (see ``JobStatus``)."""
    tier: Tier = Tier.CPU
    """What reads the job: ``Tier.CPU`` or ``Tier.VLM``."""
    language: str = "auto"
    """The ``language`` asked for on submit, as given."""
    page_count: int | None = None
    """Pages in the file, all of them even when ``pages`` selected some."""
    progress: Progress | None = None
    """Pages read so far out of pages to read."""
    tool: str | None = None
    """The ``tool`` asked for on submit; None without one."""
    filename: str | None = None
    """The upload's file name."""
    page_selection: str | None = None
    """The ``pages`` asked for on submit (``"1-3,7"``, 1-based); None when every page is
    read."""
    error: str | None = None
    """Why the job failed, in a sentence; None unless it failed."""
    created_at: dt.datetime | None = None
    """When the job was submitted (UTC)."""
    finished_at: dt.datetime | None = None
    """When the job ended, done or failed (UTC); None while it runs."""
    expires_at: dt.datetime | None = None
    """When the server deletes the job and its results (UTC); None until the job ends."""


@attrs.frozen
class JobList:
    """``GET /api/v1/ocr/?status=&limit=&cursor=``: a page of the account's jobs, newest
    first."""

    jobs: list[JobSummary] = attrs.field(factory=list)
    """This page's jobs, newest first: at most ``limit`` of them."""
    next_cursor: str | None = None
    """Pass as ``cursor`` for the next (older) jobs; None on the last page."""


@attrs.frozen
class WebhookEvent:
    """What a webhook delivery's body holds, as ``ocrchat.webhooks.verify`` returns it:
    ``type`` is ``job.done`` or ``job.failed``."""

    type: str
    """``job.done`` or ``job.failed``."""
    data: JobSummary
    """The job's summary, as the job list shows it: ``client.get(event.data.uuid)`` for
    its text."""
    timestamp: dt.datetime | None = None
    """When the job ended and the event was written (UTC). Every retry of a delivery
    sends the same event."""


@attrs.frozen
class AccountUsage:
    """Pages of the plan's allowance spent in the current day and month (UTC)."""

    day: int = 0
    """Pages spent today (the UTC day)."""
    month: int = 0
    """Pages spent this month (the UTC calendar month)."""


@attrs.frozen
class AccountCaps:
    """The plan's limits; None is no limit."""

    day: int | None = None
    """Pages a day from the allowance."""
    month: int | None = None
    """Pages a month from the allowance."""
    pages_per_file: int | None = None
    """The most pages one file may have."""


@attrs.frozen
class AccountResets:
    """When the allowances start again (UTC)."""

    day: dt.datetime | None = None
    """The next midnight, UTC: when the daily allowance starts again."""
    month: dt.datetime | None = None
    """The first of next month, midnight UTC: when the monthly allowance starts again."""


@attrs.frozen
class AccountCosts:
    """Credits one page costs on each tier."""

    cpu: int = 1
    """Credits a page costs on the cpu tier."""
    vlm: int = 1
    """Credits a page costs on the vlm tier."""


@attrs.frozen
class Account:
    """``GET /api/v1/account/``: who the token belongs to and what it has used."""

    name: str
    """The account's name."""
    created_at: dt.datetime | None = None
    """When the account was made (UTC)."""
    plan: str | None = None
    """The plan's name, which sets the account's caps, costs and priority (``free`` by
    default on ocrchat-server)."""
    usage: AccountUsage = attrs.field(factory=AccountUsage)
    """Allowance spent: ``day`` and ``month``."""
    caps: AccountCaps = attrs.field(factory=AccountCaps)
    """``day``, ``month`` (None: no limit) and ``pages_per_file``."""
    credits: int | None = None
    """Prepaid credits left, spent once the allowance is used up."""
    resets: AccountResets = attrs.field(factory=AccountResets)
    """When the ``day`` and ``month`` allowances start again (UTC)."""
    costs: AccountCosts = attrs.field(factory=AccountCosts)
    """Credits a page costs, by tier (``cpu``, ``vlm``)."""
    priority: int | None = None
    """The plan's place in the queue: higher is read first."""
    webhook_url: str | None = None
    """Where a finished job is POSTed when its submit names no ``webhook_url``."""
    webhook_secret: str | None = None
    """The key that signs this account's webhook deliveries (``whsec_...``, Standard
    Webhooks): give it to ``ocrchat.webhooks.verify`` in your receiver."""


@attrs.frozen
class ApiToken:
    """One of the account's API tokens, as ``GET /api/v1/account/tokens/`` lists it: never
    the token itself, which the server does not keep."""

    key_id: str
    """The token's public id: the part after ``ocr_`` and before the next ``_``. Revoke the
    token by it."""
    created_at: dt.datetime
    """When the token was made (UTC)."""


@attrs.frozen
class NewApiToken:
    """``POST /api/v1/account/tokens/`` (``client.create_token()``): a new API token, the
    only time it is shown."""

    token: str
    """The token (``ocr_...``), for ``Authorization: Bearer``. The server keeps only its
    hash: store it now, it cannot be shown again."""
    key_id: str
    """The token's public id, as ``ApiToken.key_id``: revoke it by this."""
    created_at: dt.datetime
    """When the token was made (UTC)."""


@attrs.frozen
class TokenList:
    """``GET /api/v1/account/tokens/`` (``client.tokens()``): the account's API tokens."""

    tokens: list[ApiToken] = attrs.field(factory=list)
    """Every token of the account, newest first."""


@attrs.frozen
class RevokedToken:
    """``DELETE /api/v1/account/tokens/<key_id>/``: the token no longer authenticates."""

    key_id: str
    """The revoked token's key id."""
    revoked: bool
    """True: the token, and every web session signed in with it, no longer work."""


@attrs.frozen
class Tool:
    """One of ``GET /api/v1/tools/``: a preset that ``tool=<slug>`` asks for."""

    slug: str
    """The tool's name, as ``tool=`` takes it: ``extract-tables``, ``handwriting-to-text``,
    ``translate``, or another the server offers."""
    description: str
    """What the tool does, in a sentence."""
    tiers: list[Tier] = attrs.field(factory=list)
    """The tiers the tool runs on."""
    ready: bool = True
    """Whether it can run now on this server: ``translate`` needs a language model
    configured, and ``detail`` says what is missing."""
    needs: str | None = None
    """A parameter the tool needs besides ``tool`` (``translate_to``)."""
    detail: str | None = None
    """When not ready: what the server's operator has to configure."""


@attrs.frozen
class Tools:
    """``GET /api/v1/tools/`` (``client.tools()``): the tools the server offers."""

    tools: list[Tool] = attrs.field(factory=list)
    """Every tool, ready or not."""


@attrs.frozen
class Engine:
    """One of ``GET /api/v1/engines/``: a tier's recognizer and whether it can read now."""

    tier: Tier
    """The tier it reads: ``Tier.CPU`` or ``Tier.VLM``."""
    engine: str
    """The recognizer's name: ``tesseract`` for the cpu tier (which runs PP-OCRv6
    too) and ``surya`` for the vlm tier."""
    ready: bool
    """Whether the tier can read now: installed and, for the vlm tier, its inference
    server up and serving Surya's model. ``detail`` says why not."""
    configured: bool = True
    """False when the server was started without what the engine needs (the vlm tier's
    inference server)."""
    version: str | None = None
    """The engine's version (Tesseract's, for the cpu tier); None where not known."""
    languages: list[str] | None = None
    """The language models installed (Tesseract's codes), where the engine lists them."""
    model: str | None = None
    """The model the vlm tier's inference server serves; None for the cpu tier."""
    detail: str | None = None
    """When not ready: why, in a sentence."""


@attrs.frozen
class Engines:
    """``GET /api/v1/engines/`` (``client.engines()``): what reads each tier."""

    engines: list[Engine] = attrs.field(factory=list)
    """One ``Engine`` per tier."""


@attrs.frozen
class ErrorBody:
    """Every error response: a short sentence and a stable snake_case code.

    Some errors carry more (402 carries ``used`` and ``cap``); those land in
    ``details`` when parsed.
    """

    error: str
    """What went wrong, in a short sentence."""
    code: str
    """A stable snake_case code to act on, such as ``quota_exceeded``, ``job_not_done`` or
    ``invalid_pages`` (the API reference lists them all)."""
    details: dict[str, object] = attrs.field(factory=dict)
    """The error's other fields, by name (402: ``limit``, ``used``, ``cap``, ...;
    ``invalid_pages``: ``page_count``); empty when there are none."""
    request_id: str | None = None
    """The ``X-Request-ID`` of the request that failed: quote it when reporting a problem,
    the server's log lines for the request carry it."""


@attrs.frozen
class Citation:
    """What an answer rests on (``ChatMessage.citations``): a line of the job's text and
    its page."""

    page: int
    """1-based, as a reader counts pages: ``Page.index + 1``."""
    snippet: str
    """The cited line, word for word from that page's text."""
    bbox: BBox | None = None
    """The line's box in the page's pixels, as ``Block.bbox``; None when the server does not
    give it."""


@attrs.frozen
class ChatMessage:
    """One message of a conversation about a job: a question or its answer."""

    role: Role
    """Who wrote it: ``Role.USER`` (the question) or ``Role.ASSISTANT`` (the answer)."""
    content: str
    """The message's text. When the job's text does not hold the answer, the answer is
    ``The document does not say.``"""
    citations: list[Citation] = attrs.field(factory=list)
    """For an answer: the lines of the document it rests on. Empty for a question, and
    for an answer the document does not hold."""
    created_at: dt.datetime | None = None
    """When the message was written (UTC)."""


@attrs.frozen
class ChatReply:
    """``POST /api/v1/chat/<uuid>/`` (``client.chat``): the answer to a question about a
    job."""

    conversation: str
    """The conversation's id: pass it as ``conversation`` to ask a follow-up in it."""
    message: ChatMessage
    """The answer (``Role.ASSISTANT``), with its citations."""

    def _repr_html_(self) -> str:
        """In Jupyter: the answer, then its citations (page and snippet)."""
        from ocrchat._jupyter import reply_html

        return reply_html(self)


@attrs.frozen
class Conversation:
    """One conversation about a job: its questions and answers in turn."""

    conversation: str
    """The conversation's id, as ``ChatReply.conversation`` gives it."""
    messages: list[ChatMessage] = attrs.field(factory=list)
    """Its messages in order, oldest first."""


@attrs.frozen
class History:
    """``GET /api/v1/chat/<uuid>/history/`` (``client.history``): every conversation about a
    job."""

    conversations: list[Conversation] = attrs.field(factory=list)
    """The job's conversations, oldest first."""

    def _repr_html_(self) -> str:
        """In Jupyter: each conversation's messages, the latest conversation unfolded."""
        from ocrchat._jupyter import history_html

        return history_html(self)
