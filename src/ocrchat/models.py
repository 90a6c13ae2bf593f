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
from typing import Any

import attrs

__all__ = [
    "Account",
    "Block",
    "ChatMessage",
    "ChatReply",
    "Citation",
    "Conversation",
    "Engine",
    "Engines",
    "ErrorBody",
    "History",
    "Job",
    "JobStatus",
    "Page",
    "Progress",
    "Role",
    "Table",
    "Tier",
    "Tool",
    "Tools",
]

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

    def _repr_markdown_(self) -> str:
        from ocrchat._jupyter import job_markdown

        return job_markdown(self)

    def draw_boxes(
        self,
        image: Any,
        page: int = 0,
        *,
        color: str = "red",
        width: int = 3,
        upright: bool = False,
    ) -> Any:
        """``image`` (a PIL image of page ``page`` as uploaded; with ``upright=True``, as
        the server read it, turned by the page's ``rotation``) with the blocks' boxes drawn
        on a copy."""
        from ocrchat._jupyter import draw_boxes

        return draw_boxes(self, image, page=page, color=color, width=width, upright=upright)


@attrs.frozen
class Account:
    """``GET /api/v1/account/``: who the token belongs to and what it has used."""

    name: str
    created_at: dt.datetime | None = None
    plan: str | None = None
    usage: dict[str, int] = attrs.field(factory=dict)
    """Allowance spent: ``day`` and ``month``."""
    caps: dict[str, int | None] = attrs.field(factory=dict)
    """``day``, ``month`` (None: no limit) and ``pages_per_file``."""
    credits: int | None = None
    """Prepaid credits left, spent once the allowance is used up."""
    resets: dict[str, dt.datetime] = attrs.field(factory=dict)
    """When the ``day`` and ``month`` allowances start again (UTC)."""
    costs: dict[str, int] = attrs.field(factory=dict)
    """Credits a page costs, by tier (``cpu``, ``vlm``)."""
    priority: int | None = None
    """The plan's place in the queue: higher is read first."""


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


@attrs.frozen
class Conversation:
    conversation: str
    messages: list[ChatMessage] = attrs.field(factory=list)


@attrs.frozen
class History:
    conversations: list[Conversation] = attrs.field(factory=list)
