"""The vlm tier: Surya 2 (surya-ocr), a vision-language model behind an inference server.

Surya sends each page to an OpenAI-compatible server (llama.cpp's
``llama-server`` on CPU, vLLM on NVIDIA) that runs its model. We only ever
attach to a server by URL: the server process starts one from a binary and
GGUF files when asked to (see :mod:`ocrchat_server.vlm`), so the workers
never spawn servers of their own.

A page is read in Surya's full-page mode: one request gives the layout
(labelled boxes in reading order) and each block's HTML together, and Surya
itself falls back to layout plus block-by-block reading when that reply
comes back empty. With the extract-tables tool each table block is read
again on its own by Surya's table recognition, which sees the table at a
larger scale than the whole page does.

Surya, and the torch it imports, load only in a worker that reads a vlm page.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from typing import TYPE_CHECKING, Any

import attrs

from ocrchat.models import Block, Page, Region, Table
from ocrchat_server.engines.base import EngineError, PageReading, declared_dpi
from ocrchat_server.engines.detection import detect_languages
from ocrchat_server.engines.html import html_markdown, html_text, table_rows
from ocrchat_server.engines.vlm_server import SuryaConnection
from ocrchat_server.engines.words import estimated_words, layer_words, split_words

if TYPE_CHECKING:
    from PIL import Image
    from surya.recognition.schema import BlockOCRResult, PageOCRResult
    from surya.table_rec.schema import TableResult

    from ocrchat.models import BBox, Word
    from ocrchat_server.engines.languages import LanguageChoice

log = logging.getLogger(__name__)

# Surya's label names (after its own renaming) to ours: short, lower case.
_LABELS = {
    "Text": "text",
    "SectionHeader": "heading",
    "Title": "title",
    "ListGroup": "list",
    "ListItem": "list",
    "Table": "table",
    "Equation": "formula",
    "Formula": "formula",
    "Handwriting": "handwriting",
    "Caption": "caption",
    "Footnote": "footnote",
    "PageHeader": "page_header",
    "PageFooter": "page_footer",
    "Code": "code",
    "Form": "form",
    "TableOfContents": "table_of_contents",
    "Bibliography": "bibliography",
    "ChemicalBlock": "chemical",
}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

ENGINE = "surya"
"""What a vlm-tier page and its blocks say read them (``Page.engine``, ``Block.engine``)."""


def block_label(label: str) -> str:
    """``SectionHeader`` -> ``heading``; a label we do not know -> ``snake_case``."""
    return _LABELS.get(label) or _CAMEL.sub("_", label).replace("-", "_").lower()


def _pixel_box(bbox: list[float], size: tuple[int, int]) -> BBox:
    width, height = size
    left, top, right, bottom = bbox
    return (
        max(0, min(width, round(left))),
        max(0, min(height, round(top))),
        max(0, min(width, round(right))),
        max(0, min(height, round(bottom))),
    )


def _heading_markdown(label: str, markdown: str) -> str:
    """A title or section header Surya did not wrap in ``<h1>``..``<h5>`` still reads as one."""
    if label in ("title", "heading") and markdown and not markdown.startswith("#"):
        return ("# " if label == "title" else "## ") + " ".join(markdown.split())
    return markdown


@attrs.frozen
class _MappedBlock:
    block: Block
    markdown: str
    table: Table | None


def _map_block(
    result: BlockOCRResult, size: tuple[int, int], table: TableResult | None
) -> _MappedBlock | None:
    if result.skipped:
        return None  # pictures and figures carry no text
    html = result.html
    if table is not None and not table.error and table.html:
        html = table.html  # the table read again on its own: the better reading
    if result.error or not html.strip():
        return None
    label = block_label(result.label)
    bbox = _pixel_box(result.bbox, size)
    text = html_text(html)
    if not text:
        return None
    markdown = _heading_markdown(label, html_markdown(html))
    rows = table_rows(html) if "<table" in html.lower() else []
    confidence = round(result.confidence if result.confidence is not None else 0.0, 4)
    return _MappedBlock(
        block=Block(
            text=text,
            bbox=bbox,
            confidence=confidence,
            label=label,
            engine=ENGINE,
            words=estimated_block_words(text, bbox, confidence),
        ),
        markdown=markdown,
        table=Table(rows=rows, bbox=bbox) if rows else None,
    )


def page_from_surya(
    result: PageOCRResult,
    *,
    index: int,
    size: tuple[int, int],
    tables: dict[int, TableResult] | None = None,
) -> Page:
    """Our page from Surya's: one block per text block in reading order.

    ``tables`` maps a block's ``reading_order`` to Surya's separate table
    recognition of it, when there was one.
    """
    tables = tables or {}
    mapped = [
        block
        for result_block in sorted(result.blocks, key=lambda b: b.reading_order)
        if (block := _map_block(result_block, size, tables.get(result_block.reading_order)))
    ]
    return Page(
        index=index,
        text="\n\n".join(block.block.text for block in mapped),
        # each layout block is a region of its own, of its own lines
        blocks=[attrs.evolve(block.block, region=number) for number, block in enumerate(mapped)],
        regions=[Region(bbox=block.block.bbox, label=block.block.label) for block in mapped],
        width=size[0],
        height=size[1],
        markdown="\n\n".join(block.markdown for block in mapped if block.markdown),
        tables=[block.table for block in mapped if block.table is not None],
        engine=ENGINE,
    )


def estimated_block_words(text: str, box: BBox, confidence: float) -> list[Word]:
    """A block's words: Surya gives a box per block, not per line or word, so each of the
    block's lines gets an even share of its height, and each line's words their share of
    its width by characters (all estimated)."""
    lines = [line for line in text.splitlines() if line.strip()]
    left, top, right, bottom = box
    step = (bottom - top) / max(len(lines), 1)
    words: list[Word] = []
    for number, line in enumerate(lines):
        line_top = round(top + number * step)
        line_box = (left, line_top, right, max(line_top, round(top + (number + 1) * step)))
        words += estimated_words(split_words(line), line_box, confidence)
    return words


@functools.cache
def _predictors(connection: SuryaConnection) -> tuple[Any, Any]:
    """Surya's recognition and table predictors, made once per worker process.

    Surya reads its settings from the environment when first imported: the URL
    must be set before that, or it would try to download a model and start a
    server of its own.
    """
    os.environ["SURYA_INFERENCE_URL"] = connection.url
    os.environ["SURYA_MODEL_CHECKPOINT"] = connection.model
    os.environ["SURYA_INFERENCE_AUTOSTART"] = "false"
    from surya.inference import SuryaInferenceManager
    from surya.recognition import RecognitionPredictor
    from surya.settings import settings
    from surya.table_rec import TableRecPredictor

    # a worker imported surya before, for another connection: the environment is read once
    settings.SURYA_INFERENCE_URL = connection.url
    settings.SURYA_MODEL_CHECKPOINT = connection.model
    manager = SuryaInferenceManager(method="llamacpp")
    return RecognitionPredictor(manager), TableRecPredictor(manager)


@attrs.frozen
class SuryaEngine:
    """Reads pages with Surya 2 through its inference server."""

    connection: SuryaConnection
    read_tables: bool = False
    """Read each table block again with Surya's table recognition (extract-tables)."""

    def read_page(self, image: Image.Image, *, index: int, language: LanguageChoice) -> PageReading:
        dpi = declared_dpi(image)
        image = image.convert("RGB")
        recognition, table_recognition = _predictors(self.connection)
        try:
            result = recognition([image])[0]
            tables: dict[int, TableResult] = {}
            table_blocks = [b for b in result.blocks if b.label == "Table" and not b.skipped]
            if self.read_tables and table_blocks:
                crops = [image.crop(_pixel_box(b.bbox, image.size)) for b in table_blocks]
                read = table_recognition(crops, mode="full")
                tables = {b.reading_order: t for b, t in zip(table_blocks, read, strict=True)}
        except Exception as exc:  # Surya's SpawnError, openai's APIError, timeouts
            log.warning("Surya could not read page %d", index + 1, exc_info=True)
            raise EngineError(
                f"The vlm server could not read page {index + 1}: {_reason(exc)}"
            ) from exc
        page = page_from_surya(result, index=index, size=image.size, tables=tables)
        if language.auto:
            detected = detect_languages(page.text.split("\n\n"))
            page = attrs.evolve(page, detected_languages=[found.code for found in detected])
        return PageReading(page=page, image=image, words=layer_words(page), dpi=dpi)


def _reason(exc: Exception) -> str:
    message = " ".join(str(exc).split())
    return (message[:200] or type(exc).__name__).rstrip(".") + "."
