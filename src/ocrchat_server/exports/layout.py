"""A done job's pages as the archives' formats lay them out (hOCR, ALTO, PAGE-XML).

Each page becomes regions of lines of words, in reading order, every box in the
pixels of the page image *as uploaded*: the image these formats name (below) is
the upload's, so a page the server turned upright to read has its boxes turned
back (:meth:`ocrchat.models.Page.to_original`) and says by how much it was turned.

- Regions: the page's ``regions`` (a paragraph, or a vlm-tier layout block), the
  lines whose ``Block.region`` points at one in a row forming it. A page stored
  without regions (by a server before them) is one region of all its lines. A
  region's box holds its lines' boxes.
- Lines: a block is a line (cpu tier); a block of several lines of text (a vlm-tier
  layout block) is split into them, each on its own words' boxes, or on an equal
  band of the block when its words are not known. Lines without text are left out
  (ALTO's ``TextLine`` needs a word).
- Words: the block's ``words``; a block stored without them is laid out by its
  characters (:func:`ocrchat_server.engines.words.estimated_words`) and marked
  estimated. Every word box is cut to its line's box, and every line's to the page.

Page images are not kept with the job (the upload is deleted when the job ends), so
the formats name the file a page's image would have: an image upload of one page
is itself (``scan.jpg``); any other page is ``<upload's stem>-<page number>.png``,
numbered as ``pdftoppm -r 300 -png upload.pdf <stem>`` names its files (the page
number padded to the digits of the file's page count). A PDF page was read at 300
dpi (or at its scan's own resolution), so those are the pixels the boxes are in.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
import statistics
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import attrs
import pycountry

from ocrchat import __version__
from ocrchat_server.engines.languages import ALIASES
from ocrchat_server.engines.words import clip, enclosing, estimated_words, split_words

if TYPE_CHECKING:
    from ocrchat.models import BBox, Block, Job, Page, Region, Word

SOFTWARE = "ocrchat-server"
"""What the documents name as the program that made them, with :data:`SOFTWARE_VERSION`."""
SOFTWARE_VERSION = __version__
CREATOR = "The ocrchat developers"

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot carry: C0 controls but tab and newlines, lone surrogates,
U+FFFE and U+FFFF (a PDF's text layer can hold them)."""


def xml_text(text: str) -> str:
    """``text`` without the characters an XML document cannot hold."""
    return _NOT_XML.sub("", text)


@attrs.frozen
class WordBox:
    text: str
    bbox: BBox
    confidence: float
    """0 to 1."""
    estimated: bool


@attrs.frozen
class LineBox:
    text: str
    bbox: BBox
    confidence: float
    words: list[WordBox]
    """At least one; joined (:func:`ocrchat_server.engines.words.join_words`) they give
    ``text``."""
    label: str | None = None
    """The block's label (``page_header``, ``heading``, ...), where it has one."""


@attrs.frozen
class RegionBox:
    bbox: BBox
    lines: list[LineBox]
    """At least one."""
    label: str | None = None
    """The region's label, else the label all its lines share, else None (running text)."""

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def confidence(self) -> float:
        return statistics.fmean(line.confidence for line in self.lines)


@attrs.frozen
class PageLayout:
    """One page, its boxes in the image as uploaded."""

    index: int
    """0-based place of the page in the file (:attr:`ocrchat.models.Page.index`)."""
    width: int
    height: int
    """Of the page image as uploaded, at the resolution it was read at."""
    rotation: int
    """0, 90, 180 or 270: degrees the server turned the image clockwise to read it, so
    the text lies turned that much counterclockwise in the image."""
    image: str
    """The file name of the page's image (see the module's docstring)."""
    languages: list[str]
    """ISO 639-1 codes (639-3 where a language has none), most text first."""
    engine: str | None
    regions: list[RegionBox]

    @property
    def number(self) -> int:
        """1-based place of the page in the file."""
        return self.index + 1

    @property
    def confidence(self) -> float | None:
        """The mean of its lines' confidences; None without lines."""
        lines = [line.confidence for region in self.regions for line in region.lines]
        return statistics.fmean(lines) if lines else None


def layouts(job: Job, pages: Iterable[Page]) -> Iterator[PageLayout]:
    """Each page's layout, made when it is asked for: a long job is written a page at a
    time."""
    for page in pages:
        yield page_layout(job, page)


def page_layout(job: Job, page: Page) -> PageLayout:
    width, height = _upright_size(page)
    area = (0, 0, width, height)
    regions: list[RegionBox] = []
    for number, blocks in _runs(page.blocks):
        lines = [line for block in blocks for line in _lines(block, area)]
        if not lines:
            continue
        given = _region_of(page, number)
        boxes = [line.bbox for line in lines]
        if given is not None:
            boxes.append(given.bbox)
        labels = {line.label for line in lines}
        label = given.label if given is not None and given.label else None
        if label is None and len(labels) == 1:
            label = labels.pop()
        regions.append(RegionBox(bbox=clip(enclosing(boxes), area), lines=lines, label=label))
    # a page stored without its size cannot be turned back: its boxes stay as read
    rotation = (page.rotation or 0) % 360 if page.width and page.height else 0
    if rotation:
        regions = [_turned(region, page) for region in regions]
    if rotation in (90, 270):
        width, height = height, width
    return PageLayout(
        index=page.index,
        width=width,
        height=height,
        rotation=rotation,
        image=image_name(job, page),
        languages=page_languages(job, page),
        engine=page.engine,
        regions=regions,
    )


def _upright_size(page: Page) -> tuple[int, int]:
    """The size of the page image as read; from its boxes for a page stored without one."""
    if page.width is not None and page.height is not None:
        return page.width, page.height
    boxes = [block.bbox for block in page.blocks]
    return max((box[2] for box in boxes), default=0), max((box[3] for box in boxes), default=0)


def _runs(blocks: list[Block]) -> Iterator[tuple[int | None, list[Block]]]:
    """The blocks in runs of the same ``region``, in order."""
    run: list[Block] = []
    for block in blocks:
        if run and block.region != run[0].region:
            yield run[0].region, run
            run = []
        run.append(block)
    if run:
        yield run[0].region, run


def _region_of(page: Page, number: int | None) -> Region | None:
    if number is None or not 0 <= number < len(page.regions):
        return None
    return page.regions[number]


def _lines(block: Block, area: BBox) -> list[LineBox]:
    """The block's lines of text with their words, in the upright page's pixels."""
    box = clip(block.bbox, area)
    texts = [text for text in (xml_text(part).strip() for part in block.text.split("\n")) if text]
    words = [word for word in block.words or [] if xml_text(word.text).strip()]
    if len(texts) == 1:
        return [_line(block, texts[0], box, words)]
    counts = [len(split_words(text)) for text in texts]
    if words and len(words) == sum(counts):
        lines, at = [], 0
        for text, count in zip(texts, counts, strict=True):
            own = words[at : at + count]
            at += count
            lines.append(_line(block, text, clip(enclosing(w.bbox for w in own), box), own))
        return lines
    # several lines of text and no words to place them: an equal band of the block each
    band = (box[3] - box[1]) / len(texts) if texts else 0.0
    return [
        _line(
            block, text, (box[0], round(box[1] + i * band), box[2], round(box[1] + (i + 1) * band))
        )
        for i, text in enumerate(texts)
    ]


def _line(block: Block, text: str, box: BBox, words: list[Word] | None = None) -> LineBox:
    if not words:
        words = estimated_words(split_words(text), box, block.confidence)
    return LineBox(
        text=text,
        bbox=box,
        confidence=_unit(block.confidence),
        words=[
            WordBox(
                text=xml_text(word.text).strip(),
                bbox=clip(word.bbox, box),
                confidence=_unit(word.confidence),
                estimated=word.estimated,
            )
            for word in words
        ],
        label=block.label,
    )


def _unit(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def _turned(region: RegionBox, page: Page) -> RegionBox:
    """The region with its boxes in the image before the server turned it upright."""
    return attrs.evolve(
        region,
        bbox=page.to_original(region.bbox),
        lines=[
            attrs.evolve(
                line,
                bbox=page.to_original(line.bbox),
                words=[attrs.evolve(w, bbox=page.to_original(w.bbox)) for w in line.words],
            )
            for line in region.lines
        ],
    )


def image_name(job: Job, page: Page) -> str:
    """The file name of the page's image, which the job does not keep (module docstring)."""
    name = xml_text(job.filename or job.uuid).strip() or job.uuid
    count = job.page_count or 1
    if job.ocr is None and count == 1:  # an image upload (a PDF has `ocr`) of one frame
        return name
    stem = name.rsplit(".", 1)[0] if "." in name[1:] else name
    return f"{stem}-{page.index + 1:0{len(str(count))}d}.png"


def page_languages(job: Job, page: Page) -> list[str]:
    """The languages of the page, most text first: those detected (``language=auto``), else
    those of the models it was read with, else those asked for. ISO 639-1 codes (639-3
    where a language has none); scripts (``script/Latin``) are no language."""
    if page.detected_languages:
        codes = page.detected_languages
    elif page.language:
        codes = page.language.split("+")
    elif job.language.strip().lower() != "auto":
        codes = job.language.split("+")
    else:
        codes = []
    return list(dict.fromkeys(code for code in map(iso_language, codes) if code))


@attrs.frozen
class DocumentFacts:
    """What a document's head says of all its pages (:func:`document_facts`)."""

    page_count: int
    languages: list[str]
    """The languages of the whole document, most text first (ISO codes, as
    :func:`page_languages`)."""
    engines: list[str]
    """Each page's ``engine`` as it is (``ppocr+tesseract``; ``""`` for none), in order of
    first use."""
    labels: list[str]
    """The labels of the pages' regions and blocks, in order of first use."""

    @property
    def engines_used(self) -> list[str]:
        """The engines that read the pages (``ppocr+tesseract`` counts both), in order of use."""
        parts = (part for engine in self.engines if engine for part in engine.split("+"))
        return list(dict.fromkeys(parts))


def document_facts(job: Job, pages: Iterable[Page]) -> DocumentFacts:
    """What a head needs of the pages, gathered in one pass that holds one page at a time:
    the head is written before the pages, and a long job's are read from storage anew on
    each pass."""
    count = 0
    languages: dict[str, None] = {}
    engines: dict[str, None] = {}
    labels: dict[str, None] = {}
    for page in pages:
        count += 1
        if not job.detected_languages:
            languages.update(dict.fromkeys(page_languages(job, page)))
        engines.setdefault(page.engine or "")
        for label in [*(r.label for r in page.regions), *(b.label for b in page.blocks)]:
            if label:
                labels.setdefault(label)
    if job.detected_languages:
        languages = dict.fromkeys(filter(None, map(iso_language, job.detected_languages)))
    return DocumentFacts(
        page_count=count, languages=list(languages), engines=list(engines), labels=list(labels)
    )


@functools.cache
def iso_language(code: str) -> str | None:
    """``de``, ``deu`` (Tesseract's model), ``chi_sim`` or ``german`` as ISO 639-1 (``de``,
    ``zh``), or ISO 639-3 for a language without a 639-1 code; None for a script or an
    unknown code."""
    lowered = code.strip().lower()
    lowered = ALIASES.get(lowered, lowered).lower()
    base = lowered.split("_")[0].split("-")[0]
    if len(base) == 2:
        language = pycountry.languages.get(alpha_2=base)
    elif len(base) == 3:
        language = pycountry.languages.get(alpha_3=base) or pycountry.languages.get(
            bibliographic=base
        )
    else:
        return None  # script models (Latin, script/Cyrillic) and anything else
    if language is None:
        return None
    return str(getattr(language, "alpha_2", None) or language.alpha_3)


_ENGINE_PACKAGES = {
    "ppocr": ("PP-OCRv6", "rapidocr"),
    "surya": ("Surya", "surya-ocr"),
    "text_layer": ("the PDF's own text layer", "pypdfium2"),
}


@functools.cache
def engine_description(engine: str) -> str:
    """An engine and its version where it is known: ``Tesseract 5.5.4``, ``PP-OCRv6
    (rapidocr 3.4.2)``."""
    if engine == "tesseract":
        try:
            from ocrchat_server.engines import tesseract_api

            return f"Tesseract {tesseract_api.version()}"
        except (ImportError, OSError):
            return "Tesseract"
    name, package = _ENGINE_PACKAGES.get(engine, (engine, ""))
    try:
        return f"{name} ({package} {importlib.metadata.version(package)})"
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return name


def job_settings(job: Job) -> str:
    """What the job was asked for, as the documents' processing settings say it."""
    settings = [f"tier={job.tier.value}", f"language={job.language}"]
    for name in ("engine", "ocr", "tool", "page_selection"):
        value = getattr(job, name)
        if value:
            settings.append(f"{name}={value}")
    return "; ".join(settings)


class ChunkSink:
    """A write-only file the writers write to; ``take`` hands what was written since."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def number(value: float) -> str:
    """A confidence as the documents write it: at most four decimals, no trailing zeros."""
    return f"{value:.4f}".rstrip("0").rstrip(".")
