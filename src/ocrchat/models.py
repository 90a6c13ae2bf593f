"""The wire schema of the OCR.chat API, as attrs classes.

Both sides use these: the SDK parses server responses into them and the
server builds its responses from them. They know nothing of JSON; the one
converter in :mod:`ocrchat._serde` does.

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
    "Page",
    "Progress",
    "Role",
    "Table",
    "Tier",
    "TierName",
    "Tool",
    "ToolName",
    "Tools",
    "WebhookDelivery",
    "WebhookEvent",
]

DownloadFormat = Literal["txt", "md", "json", "pdf", "docx", "xlsx", "csv"]
"""The formats of ``GET /api/v1/ocr/<uuid>/download/?format=``. The server's exporters are
checked against this list, so it is the one source of both."""
DOWNLOAD_FORMATS: tuple[DownloadFormat, ...] = get_args(DownloadFormat)

TierName = Literal["cpu", "vlm"]
"""The ``tier`` of a submit: ``cpu`` (Tesseract and PP-OCRv6) or ``vlm`` (Surya)."""
TIERS: tuple[TierName, ...] = get_args(TierName)

JobStatusName = Literal["pending", "processing", "done", "failed"]
"""A job's status, as ``client.jobs(status=...)`` takes it."""

ToolName = Literal["extract-tables", "handwriting-to-text", "translate"]
"""The ``tool`` presets of a submit (``GET /api/v1/tools/`` says which can run now)."""
TOOLS: tuple[ToolName, ...] = get_args(ToolName)

BBox = tuple[int, int, int, int]
"""``[x0, y0, x1, y1]`` in pixels of the page image the engine read, origin top-left."""


class JobStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"
    UNKNOWN = "unknown"
    """A status this version of the SDK does not know (sent by a newer server)."""

    @property
    def finished(self) -> bool:
        return self in (JobStatus.DONE, JobStatus.FAILED)


class Tier(enum.StrEnum):
    CPU = "cpu"
    VLM = "vlm"
    UNKNOWN = "unknown"


class Role(enum.StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    UNKNOWN = "unknown"


@attrs.frozen
class Block:
    """One line (cpu tier) or layout block (vlm tier) of recognized text."""

    text: str
    bbox: BBox
    confidence: float
    label: str | None = None
    engine: str | None = None
    """What read the block (beyond the contract): ``tesseract``, ``ppocr``, ``surya`` or
    ``text_layer`` (a PDF's own text)."""
    low_confidence: bool | None = None
    """True when ``confidence`` is below the documented threshold: worth a human look."""


@attrs.frozen
class Table:
    """A table found on a page (beyond the contract): its box and its cells' text, row by row."""

    rows: list[list[str]]
    bbox: BBox | None = None

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
    index: int
    """0-based position of the page in the file."""
    text: str
    blocks: list[Block] = attrs.field(factory=list)
    width: int | None = None
    height: int | None = None
    markdown: str | None = None
    language: str | None = None
    """The Tesseract model(s) the page was read with, e.g. ``deu`` or ``script/Latin``."""
    rotation: int | None = None
    """Degrees the page image was turned (clockwise) before reading, when it was not upright.
    Boxes are in the turned (upright) image's pixels; :meth:`to_original` gives them in the
    upload's own orientation."""
    tables: list[Table] = attrs.field(factory=list)
    detected_languages: list[str] | None = None
    """With ``language=auto``: the languages found on the page, most text first (ISO 639-1)."""
    original_text: str | None = None
    """With the translate tool: the page's text as read (``text`` is the translation)."""
    original_markdown: str | None = None
    engine: str | None = None
    """What read the page (beyond the contract): ``tesseract``, ``ppocr``,
    ``ppocr+tesseract`` (Greek lines by Tesseract), ``surya``, or ``text_layer``."""
    source: str | None = None
    """``ocr`` (the page image was read) or ``text_layer`` (the PDF's own text was exact)."""
    timings: dict[str, float] | None = None
    """Seconds each step of the page's reading took (beyond the contract): page
    preparation steps (``upright``, ``grey``, ``lexicon``) and ``read``, the recognition
    itself."""

    @property
    def original_size(self) -> tuple[int, int] | None:
        """(width, height) of the page as uploaded, at the resolution it was read at."""
        if self.width is None or self.height is None:
            return None
        if self.rotation in (90, 270):
            return (self.height, self.width)
        return (self.width, self.height)

    def to_original(self, bbox: BBox) -> BBox:
        """A box of this page (a block's, a citation's), which is in the pixels of the image
        as read (turned upright by ``rotation``), in the upload's own orientation instead:
        what to draw on the image you sent."""
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
    deleted: bool
    refunded: int
    """Pages given back to the account: those not read yet when it was deleted."""


@attrs.frozen
class Progress:
    pages_done: int
    pages_total: int
    """The pages to read: the file's pages, or those ``pages`` selected."""


@attrs.frozen
class WebhookDelivery:
    """The job's webhook (``webhook_url`` on submit) and how its delivery went."""

    url: str
    status: str
    """``pending`` (the job is not finished, or a retry is due), ``delivered`` (the
    receiver answered 2xx) or ``failed`` (every retry was refused or timed out)."""
    attempts: int = 0
    last_status_code: int | None = None
    """The receiver's HTTP status on the last attempt (None: no answer)."""
    last_error: str | None = None
    """Why the last attempt failed, in a sentence."""
    last_attempt_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None


@attrs.frozen
class Job:
    uuid: str
    status: JobStatus
    tier: Tier = Tier.CPU
    language: str = "auto"
    page_count: int | None = None
    mean_confidence: float | None = None
    text: str | None = None
    markdown: str | None = None
    pages: list[Page] | None = None
    error: str | None = None
    progress: Progress | None = None
    tool: str | None = None
    filename: str | None = None
    detected_languages: list[str] | None = None
    """With ``language=auto``: the languages found in the document, most text first."""
    engine: str | None = None
    """The ``engine`` asked for on the cpu tier: ``auto``, ``tesseract`` or ``ppocr``."""
    ocr: str | None = None
    """For PDFs: ``auto`` (read a page's own text when it is exact), ``force`` or ``skip``."""
    translated_to: str | None = None
    """With the translate tool: ``text``, ``markdown`` and the downloads are in this language."""
    original_text: str | None = None
    """With the translate tool: the text as read, before translation."""
    original_markdown: str | None = None
    created_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    page_selection: str | None = None
    """The ``pages`` asked for on submit (``"1-3,7"``, 1-based), as the server read them;
    None when every page was read. ``page_count`` stays the file's page count, and each of
    ``pages`` keeps its ``index`` in the file."""
    webhook: WebhookDelivery | None = None

    # Jupyter shows the HTML (the richer of the two); the Markdown stays for frontends
    # that render only Markdown.
    def _repr_html_(self) -> str:
        """A summary table, then each page's Markdown, the pages after the first folded.
        :meth:`show` adds the page images with their boxes."""
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
        a list going with :attr:`pages` in order, or a dict by ``Page.index``. Needs
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
        :meth:`tables`, from 0), ``row`` and ``column`` (from 0, the header row too) and
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
        """``image`` (a PIL image of page ``page`` as uploaded; with ``upright=True``, as
        the server read it, turned by the page's ``rotation``) with the blocks' boxes drawn
        on a copy."""
        from ocrchat._jupyter import draw_boxes

        return draw_boxes(self, image, page=page, color=color, width=width, upright=upright)


@attrs.frozen
class JobSummary:
    """One job of ``GET /api/v1/ocr/``: a job without its pages, text and Markdown."""

    uuid: str
    status: JobStatus
    tier: Tier = Tier.CPU
    language: str = "auto"
    page_count: int | None = None
    progress: Progress | None = None
    tool: str | None = None
    filename: str | None = None
    page_selection: str | None = None
    error: str | None = None
    created_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None


@attrs.frozen
class JobList:
    """``GET /api/v1/ocr/?status=&limit=&cursor=``: a page of the account's jobs, newest
    first."""

    jobs: list[JobSummary] = attrs.field(factory=list)
    next_cursor: str | None = None
    """Pass as ``cursor`` for the next (older) jobs; None on the last page."""


@attrs.frozen
class WebhookEvent:
    """What a webhook delivery's body holds: ``type`` is ``job.done`` or ``job.failed``."""

    type: str
    data: JobSummary
    timestamp: dt.datetime | None = None


@attrs.frozen
class AccountUsage:
    """Pages of the plan's allowance spent in the current day and month (UTC)."""

    day: int = 0
    month: int = 0


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
    month: dt.datetime | None = None


@attrs.frozen
class AccountCosts:
    """Credits one page costs on each tier."""

    cpu: int = 1
    vlm: int = 1


@attrs.frozen
class Account:
    """``GET /api/v1/account/``: who the token belongs to and what it has used."""

    name: str
    created_at: dt.datetime | None = None
    plan: str | None = None
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
    Webhooks): give it to :func:`ocrchat.webhooks.verify` in your receiver."""


@attrs.frozen
class Tool:
    """One of ``GET /api/v1/tools/``: a preset that ``tool=<slug>`` asks for."""

    slug: str
    description: str
    tiers: list[Tier] = attrs.field(factory=list)
    """The tiers the tool runs on."""
    ready: bool = True
    needs: str | None = None
    """A parameter the tool needs besides ``tool`` (``translate_to``)."""
    detail: str | None = None
    """When not ready: what the server's operator has to configure."""


@attrs.frozen
class Tools:
    """``GET /api/v1/tools/``."""

    tools: list[Tool] = attrs.field(factory=list)


@attrs.frozen
class Engine:
    """One of ``GET /api/v1/engines/``: a tier's recognizer and whether it can read now."""

    tier: Tier
    engine: str
    ready: bool
    configured: bool = True
    """False when the server was started without what the engine needs (the vlm tier's
    inference server)."""
    version: str | None = None
    languages: list[str] | None = None
    """The language models installed (Tesseract's codes), where the engine lists them."""
    model: str | None = None
    detail: str | None = None
    """When not ready: why, in a sentence."""


@attrs.frozen
class Engines:
    """``GET /api/v1/engines/``."""

    engines: list[Engine] = attrs.field(factory=list)


@attrs.frozen
class ErrorBody:
    """Every error response: a short sentence and a stable snake_case code.

    Some errors carry more (402 carries ``used`` and ``cap``); those land in
    ``details`` when parsed.
    """

    error: str
    code: str
    details: dict[str, object] = attrs.field(factory=dict)
    request_id: str | None = None
    """The ``X-Request-ID`` of the request that failed: quote it when reporting a problem,
    the server's log lines for the request carry it."""


@attrs.frozen
class Citation:
    page: int
    """1-based, as a reader counts pages."""
    snippet: str
    bbox: BBox | None = None


@attrs.frozen
class ChatMessage:
    role: Role
    content: str
    citations: list[Citation] = attrs.field(factory=list)
    created_at: dt.datetime | None = None


@attrs.frozen
class ChatReply:
    conversation: str
    message: ChatMessage

    def _repr_html_(self) -> str:
        """In Jupyter: the answer, then its citations (page and snippet)."""
        from ocrchat._jupyter import reply_html

        return reply_html(self)


@attrs.frozen
class Conversation:
    conversation: str
    messages: list[ChatMessage] = attrs.field(factory=list)


@attrs.frozen
class History:
    conversations: list[Conversation] = attrs.field(factory=list)

    def _repr_html_(self) -> str:
        """In Jupyter: each conversation's messages, the latest conversation unfolded."""
        from ocrchat._jupyter import history_html

        return history_html(self)
