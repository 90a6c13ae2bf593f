"""From recognized lines to the page the API shows: text, line blocks and Markdown.

Both cpu-tier recognizers end here, so a page reads the same way whichever
engine read its lines: paragraphs are separated by a blank line in the text,
each line is a block, and Markdown keeps headings, lists, tables and lines
that are records ("Invoice number: 10442") on lines of their own.
"""

from __future__ import annotations

import itertools
import re
import statistics
from typing import TYPE_CHECKING

import attrs

from ocrchat.models import Block, Page, Region
from ocrchat_server.engines.reading_order import paragraphs, rows, upright_boxes
from ocrchat_server.engines.scripts import FRAKTUR_HYPHEN
from ocrchat_server.engines.tables import markdown_table
from ocrchat_server.engines.words import block_words, enclosing, join_words

if TYPE_CHECKING:
    from ocrchat.models import BBox, Table, Word


_COMMON_SCALE: dict[str, tuple[tuple[float, float], ...]] = {
    "ppocr": (
        (0.0, 0.0), (0.65, 0.48), (0.75, 0.54), (0.85, 0.69), (0.925, 0.885), (0.975, 0.95),
        (1.0, 0.97),
    ),
    "tesseract": ((0.0, 0.0), (0.75, 0.72), (0.85, 0.85), (0.925, 0.95), (1.0, 0.99)),
}  # fmt: skip
"""Per engine, its own score (PP-OCRv6's character probability, Tesseract's word confidence
/100) against the share of characters its lines got right on the shared corpus at that
score (1 - mean CER; docs/engines.md, "Confidence"). Between points, linear."""
LOW_CONFIDENCE = 0.85
"""The confidence (on the common scale) below which a block is flagged ``low_confidence``:
a line expected to have more than 15% of its characters wrong."""


def common_confidence(engine: str, score: float) -> float:
    """An engine's own score of a word or line, as the share of characters it is expected to
    get right: one scale for every engine. Engines not measured keep their score."""
    points = _COMMON_SCALE.get(engine)
    if points is None or score < 0:
        return score
    score = min(score, 1.0)
    for (low, low_value), (high, high_value) in itertools.pairwise(points):
        if score <= high:
            return low_value + (score - low) / (high - low) * (high_value - low_value)
    return points[-1][1]


@attrs.frozen
class TextLine:
    """One recognized line: its words, their confidences (0 to 1, on the common scale of
    :func:`common_confidence`), its box and its reader."""

    words: list[str]
    confidences: list[float]
    bbox: BBox
    engine: str
    boxed: tuple[Word, ...] | None = None
    """The line's words with the boxes the engine gave them, where it gave any; without,
    its words are laid out inside its box (:mod:`.words`)."""
    cells: tuple[str, ...] = ()
    """Where the detector found this row as several lines, read as one, their texts (a
    table's cells); else empty."""

    @property
    def text(self) -> str:
        # cells stay apart by a space, Chinese and Japanese ones too
        return " ".join(self.cells) if self.cells else join_words(self.words)

    @property
    def height(self) -> int:
        return self.bbox[3] - self.bbox[1]

    @property
    def width(self) -> int:
        return self.bbox[2] - self.bbox[0]

    @property
    def confidence(self) -> float:
        return round(statistics.fmean(self.confidences), 4) if self.confidences else 0.0


_PAGE_NUMBER = re.compile(
    r"^[\s\-–—.·(\[]*(?:page|seite|p\.|s\.)?\s*(?:\d{1,4}|[ivxlcdm]{1,7})[\s\-–—.·)\]]*$",
    re.IGNORECASE,
)
_MARGIN_SHARE = 0.1
"""Running headers and footers sit in this share of the page's height at its top or bottom."""
_MARGIN_GAP = 1.0
"""... set apart from the body by at least this many line heights."""
_MARGIN_MAX_WORDS = 12


def margin_labels(lines: list[TextLine], page_height: int) -> dict[int, str]:
    """Labels for the lines (by their place in ``lines``, in reading order) that are running
    headers, footers or page numbers: short lines in the top or bottom tenth of the page,
    set apart from the text by a gap."""
    if len(lines) < 3 or page_height <= 0:
        return {}
    height = statistics.median(line.height for line in lines)
    labels: dict[int, str] = {}
    by_top = sorted(range(len(lines)), key=lambda i: lines[i].bbox[1])
    for edge, order in (("header", by_top), ("footer", by_top[::-1])):
        for i in order[:2]:
            line = lines[i]
            if edge == "header":
                inside = line.bbox[3] <= _MARGIN_SHARE * page_height
                rest = [lines[j].bbox[1] for j in by_top if lines[j].bbox[1] > line.bbox[3]]
                gap = (min(rest) - line.bbox[3]) if rest else 0
            else:
                inside = line.bbox[1] >= (1 - _MARGIN_SHARE) * page_height
                rest = [lines[j].bbox[3] for j in by_top if lines[j].bbox[3] < line.bbox[1]]
                gap = (line.bbox[1] - max(rest)) if rest else 0
            if not inside or gap < _MARGIN_GAP * height or len(line.words) > _MARGIN_MAX_WORDS:
                break
            number = _PAGE_NUMBER.match(line.text) is not None
            labels[i] = "page_number" if number else f"page_{edge}"
    return labels


def in_paragraphs(lines: list[TextLine], order: list[int]) -> list[list[TextLine]]:
    """The lines, taken in ``order``, grouped into paragraphs by the page's line spacing."""
    grouped = paragraphs([line.bbox for line in lines], order)
    return [[lines[i] for i in group] for group in grouped]


def build_page(
    paragraphs: list[list[TextLine]],
    *,
    index: int,
    size: tuple[int, int],
    models: str | None,
    engine: str,
    rotation: int = 0,
    tables: list[Table] | None = None,
    skew: float = 0.0,
) -> Page:
    """The page from its paragraphs of lines, in reading order: each paragraph a region,
    each line a block with its words. ``skew``: the angle the page was scanned at
    (:func:`.reading_order.page_skew`), for telling its rows."""
    paragraphs = [paragraph for paragraph in paragraphs if paragraph]
    lines = [line for paragraph in paragraphs for line in paragraph]
    labels = margin_labels(lines, size[1])
    blocks: list[Block] = []
    regions: list[Region] = []
    for paragraph in paragraphs:
        first = len(blocks)
        for line in paragraph:
            text, confidence = line.text, line.confidence
            blocks.append(
                Block(
                    text=text,
                    bbox=line.bbox,
                    confidence=confidence,
                    label=labels.get(len(blocks)),
                    engine=line.engine,
                    # only engines measured on the common scale are judged (both of a line
                    # PP-OCRv6 read with a Greek word of Tesseract's: ppocr+tesseract)
                    low_confidence=all(part in _COMMON_SCALE for part in line.engine.split("+"))
                    and confidence < LOW_CONFIDENCE,
                    words=block_words(text, line.bbox, confidence, line.boxed),
                    region=len(regions),
                )
            )
        regions.append(_region(blocks[first:]))
    # the text reads a row's pieces (a table's cells, a label and its value) as one line;
    # each piece keeps its own block
    rowed = [_on_rows(paragraph, skew) for paragraph in paragraphs]
    text = "\n\n".join("\n".join(line.text for line in paragraph) for paragraph in rowed)
    return Page(
        index=index,
        text=text,
        blocks=blocks,
        width=size[0],
        height=size[1],
        markdown=_markdown(rowed, tables or []),
        language=models,
        rotation=rotation or None,
        tables=tables or [],
        regions=regions,
        engine=engine,
    )


def _on_rows(paragraph: list[TextLine], skew: float = 0.0) -> list[TextLine]:
    """A paragraph's lines, those on one row (:func:`.reading_order.rows`) made one."""
    layout = upright_boxes([line.bbox for line in paragraph], skew)
    runs = rows(layout, list(range(len(paragraph))))
    return [
        paragraph[run[0]]
        if len(run) == 1
        else TextLine(
            words=[word for i in run for word in paragraph[i].words],
            confidences=[value for i in run for value in paragraph[i].confidences],
            bbox=enclosing(paragraph[i].bbox for i in run),
            engine=paragraph[run[0]].engine,
            cells=tuple(paragraph[i].text for i in run),
        )
        for run in runs
    ]


def _region(blocks: list[Block]) -> Region:
    """A paragraph's region: around its lines, with their label when they all share one (a
    running header, footer or page number). A page number on the row of a running header
    or footer is part of it ("30 SOPHOCLES" is one row, so one region)."""
    labels = {block.label for block in blocks}
    label = next(iter(labels)) if len(labels) == 1 else None
    for margin in ("page_header", "page_footer"):
        if labels == {margin, "page_number"}:
            label = margin
    return Region(bbox=enclosing(block.bbox for block in blocks), label=label)


# --- Markdown -----------------------------------------------------------------

# Bullets as printed, and as Tesseract often misreads a round bullet (¢, °, «, ©).
_BULLET = re.compile(r"^[•·▪◦‣●*\-–¢°«©®]\s+(?P<rest>.+)$", re.DOTALL)
_NUMBERED = re.compile(r"^(?P<num>\d{1,3})[.)]\s+(?P<rest>.+)$", re.DOTALL)
_INLINE_SPECIALS = re.compile(r"([\\`*_\[\]<>|])")
_LEADING_SPECIALS = re.compile(r"^([#>+=-])")
_RECORD_SHORTFALL = 0.3
"""A line ending this share of the paragraph's width short of its right edge is a record."""
_FULL_LINE_RANK = 0.8
"""A full line of a page's text: as wide as this share of its lines (the rest are longer)."""
_HEADING_RATIO = 1.5
_TITLE_RATIO = 2.0


def _escape(text: str) -> str:
    return _LEADING_SPECIALS.sub(r"\\\1", _INLINE_SPECIALS.sub(r"\\\1", text))


def _join_lines(lines: list[TextLine]) -> str:
    """A paragraph's lines as one run of text, mending words hyphenated at a line end (with
    a hyphen, or Fraktur's ⸗)."""
    joined = ""
    for line in lines:
        text = line.text
        if (
            joined[-1:] in ("-", FRAKTUR_HYPHEN)
            and len(joined) > 1
            and joined[-2].isalpha()
            and text[:1].islower()
        ):
            joined = joined[:-1] + text
        else:
            joined = join_words([joined, text]) if joined else text
    return joined


def _inside(line: TextLine, box: BBox) -> bool:
    middle_x = (line.bbox[0] + line.bbox[2]) / 2
    middle_y = (line.bbox[1] + line.bbox[3]) / 2
    return box[0] <= middle_x <= box[2] and box[1] <= middle_y <= box[3]


def _markdown(paragraphs: list[list[TextLine]], tables: list[Table]) -> str:
    """Headings, lists and paragraphs, and the tables found, each where it sits on the
    page, in place of the lines read inside it."""
    heights = [line.height for paragraph in paragraphs for line in paragraph]
    median_height = statistics.median(heights) if len(heights) >= 3 else None
    widths = sorted(line.width for paragraph in paragraphs for line in paragraph)
    full_width = widths[int(len(widths) * _FULL_LINE_RANK)] if widths else 0
    parts: list[str] = []
    boxed = [(table, table.bbox) for table in tables if table.bbox is not None]
    unplaced = sorted(boxed, key=lambda pair: pair[1][1])
    for paragraph in paragraphs:
        while unplaced and unplaced[0][1][1] <= paragraph[0].bbox[1]:
            parts.append(markdown_table(unplaced.pop(0)[0].rows))
        # the table stands in for the lines read inside it
        paragraph = [line for line in paragraph if not any(_inside(line, b) for _, b in boxed)]
        if not paragraph:
            continue
        joined = _join_lines(paragraph)
        paragraph_height = statistics.fmean(line.height for line in paragraph)
        is_heading = (
            median_height is not None
            and len(paragraph) <= 2
            and len(joined.split()) <= 12
            and paragraph_height >= _HEADING_RATIO * median_height
        )
        if is_heading:
            assert median_height is not None
            level = "#" if paragraph_height >= _TITLE_RATIO * median_height else "##"
            parts.append(f"{level} {_escape(joined)}")
        elif _is_grid(paragraph):
            parts.append(markdown_table([list(line.cells) for line in paragraph]))
        elif _list_item(paragraph[0].text):
            parts.append(_list(paragraph))
        else:
            parts.extend(_escape(_join_lines(run)) for run in _runs(paragraph, full_width))
    parts += [markdown_table(table.rows) for table, _ in unplaced]
    return "\n\n".join(parts)


def _is_grid(paragraph: list[TextLine]) -> bool:
    """Whether a paragraph is rows of cells: at least two rows, each of the same number of
    pieces set apart (a table no ruling lines showed; a form's labels and values)."""
    counts = {len(line.cells) for line in paragraph}
    return len(paragraph) >= 2 and len(counts) == 1 and counts.pop() >= 2


def _runs(paragraph: list[TextLine], full_width: int) -> list[list[TextLine]]:
    """A paragraph cut after each line that ends well short of where its lines end: the
    paragraph's right edge, or a full line of the page's text (whichever is further).
    Running text fills its lines, records ("Total: 215.00 USD") do not, and two
    records must not be joined into one line. A row of pieces set apart (a table's cells,
    a label and its value far to its right) is a record however wide."""
    left = min(line.bbox[0] for line in paragraph)
    width = max(max(line.bbox[2] for line in paragraph) - left, full_width)
    runs: list[list[TextLine]] = [[]]
    for line in paragraph:
        if line.cells and runs[-1]:
            runs.append([])
        runs[-1].append(line)
        if line.cells or line.bbox[2] < left + width - _RECORD_SHORTFALL * width:
            runs.append([])
    return [run for run in runs if run]


def _list_item(text: str) -> str | None:
    """The item as a Markdown list line, when ``text`` starts with a bullet or a number."""
    if bullet := _BULLET.match(text):
        return f"- {_escape(bullet['rest'])}"
    if numbered := _NUMBERED.match(text):
        return f"{numbered['num']}. {_escape(numbered['rest'])}"
    return None


def _list(paragraph: list[TextLine]) -> str:
    """Tesseract often puts a whole list in one paragraph: each bullet starts an item."""
    items: list[list[TextLine]] = []
    for line in paragraph:
        if not items or _list_item(line.text):
            items.append([])
        items[-1].append(line)
    return "\n".join(_list_item(_join_lines(item)) or _escape(_join_lines(item)) for item in items)
