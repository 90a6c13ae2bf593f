"""Pages from a PDF's own text layer, and that text merged with an OCR reading of the
pictures on the same page."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from ocrchat.models import Word
from ocrchat_server.engines.page_text import TextLine, build_page, in_paragraphs
from ocrchat_server.engines.reading_order import share_inside
from ocrchat_server.engines.words import layer_words

if TYPE_CHECKING:
    from ocrchat.models import BBox, Page
    from ocrchat_server.engines.base import PageReading
    from ocrchat_server.engines.base import Word as LayerWord
    from ocrchat_server.ingest.text_layer import PdfTextPage

TEXT_LAYER = "text_layer"
OCR = "ocr"
_OVERLAP = 0.5
"""An OCR line whose box lies this much inside text-layer lines repeats their text."""


def _lines(layer: PdfTextPage) -> list[TextLine]:
    return [
        TextLine(
            words=[word.text for word in line.words],
            confidences=[1.0],
            bbox=line.bbox,
            engine=TEXT_LAYER,
            # the glyphs' own boxes: exact
            boxed=tuple(
                Word(text=word.text, bbox=word.bbox, confidence=1.0) for word in line.words
            ),
        )
        for line in layer.lines
    ]


def page_from_text_layer(layer: PdfTextPage, index: int) -> tuple[Page, list[LayerWord]]:
    """The page as its text layer has it, in the PDF's own order, exact."""
    lines = _lines(layer)
    page = build_page(
        in_paragraphs(lines, list(range(len(lines)))),
        index=index,
        size=layer.size,
        models=None,
        engine=TEXT_LAYER,
    )
    return attrs.evolve(page, source=TEXT_LAYER), layer_words(page)


def _covered(box: BBox, others: list[BBox]) -> bool:
    return sum(share_inside(box, other) for other in others) >= _OVERLAP


def merge_with_ocr(layer: PdfTextPage, reading: PageReading) -> PageReading:
    """The text layer's lines, and the OCR lines that are not already among them (text in
    pictures), each kept once, in order down the page. The reading's image must be the
    page rendered at the layer's resolution."""
    layer_lines = _lines(layer)
    layer_boxes = [line.bbox for line in layer_lines]
    extra_blocks = [block for block in reading.page.blocks if not _covered(block.bbox, layer_boxes)]
    extra_lines = [
        TextLine(
            words=block.text.split(),
            confidences=[block.confidence],
            bbox=block.bbox,
            engine=block.engine or OCR,
            boxed=tuple(block.words) if block.words else None,
        )
        for block in extra_blocks
    ]
    lines = list(layer_lines)
    for extra in sorted(extra_lines, key=lambda line: (line.bbox[1], line.bbox[0])):
        # before the first line of the layer's own order that starts below it
        place = next(
            (i for i, line in enumerate(lines) if line.bbox[1] > extra.bbox[1]), len(lines)
        )
        lines.insert(place, extra)
    engines = sorted({line.engine for line in lines})
    page = build_page(
        in_paragraphs(lines, list(range(len(lines)))),
        index=reading.page.index,
        size=reading.image.size,
        models=reading.page.language,
        engine="+".join(engines) or TEXT_LAYER,
        rotation=reading.page.rotation or 0,
    )
    page = attrs.evolve(
        page,
        source=f"{TEXT_LAYER}+{OCR}" if extra_lines else TEXT_LAYER,
        detected_languages=reading.page.detected_languages,
    )
    return attrs.evolve(reading, page=page, words=layer_words(page))
