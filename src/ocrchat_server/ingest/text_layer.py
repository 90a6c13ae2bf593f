"""A PDF page's own text, when it can be trusted: read in milliseconds, exact, no OCR.

pypdfium2 (PDFium) reads the text layer; it was chosen over pdfplumber and
poppler by speed (docs/engines.md). A page's text is used only when it is
visible, mapped to Unicode, and not mostly replacement or private-use
characters: a scan with an invisible OCR layer of unknown quality, or a font
whose ToUnicode map is broken, is OCRed instead. A page whose pictures cover
much of it has its picture read too (see :func:`PdfTextPage.needs_ocr`).

Coordinates are given in pixels of the page rendered at
:data:`~ocrchat_server.ingest.pages.PDF_DPI`, the same space an OCRed page of
the same file has.
"""

from __future__ import annotations

import ctypes
import re
import unicodedata
from typing import TYPE_CHECKING, Any

import attrs

from ocrchat_server.engines.words import join_words, unspaced

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from ocrchat.models import BBox

OCR_AUTO = "auto"
OCR_FORCE = "force"
OCR_SKIP = "skip"
OCR_MODES = (OCR_AUTO, OCR_FORCE, OCR_SKIP)

_POINTS_PER_INCH = 72
_INVISIBLE = 3
"""PDF text render mode 3: neither filled nor stroked, as OCR layers are written."""
_MAX_BAD_SHARE = 0.05
"""More than this share of a page's characters unmapped, replacement or private-use: garbled."""
_CID = re.compile(r"\(cid:\d+\)")
_PICTURE_SHARE = 0.15
"""Pictures covering more than this share of a page may hold text of their own."""


class TextLayerError(RuntimeError):
    """The PDF could not be opened by PDFium."""


@attrs.frozen
class LayerWord:
    text: str
    bbox: BBox


@attrs.frozen
class LayerLine:
    text: str
    bbox: BBox
    words: tuple[LayerWord, ...]


@attrs.frozen
class PdfTextPage:
    """What a PDF page holds: its visible text by lines, and how much of it is pictures."""

    size: tuple[int, int]
    """Width and height in pixels at the rasterizing resolution."""
    dpi: int
    lines: list[LayerLine]
    garbled: bool
    """Glyphs without Unicode, ``(cid:NN)`` runs, or mostly replacement characters."""
    invisible: bool
    """Most of the text is invisible: an OCR layer someone else made."""
    picture_share: float
    """Share of the page covered by images."""

    @property
    def trustworthy(self) -> bool:
        return bool(self.lines) and not self.garbled and not self.invisible

    def needs_ocr(self, mode: str) -> bool:
        """Whether the page image must be read: always with ``force``; never with
        ``skip``; with ``auto``, unless the text layer is trustworthy and pictures leave
        no room for text of their own."""
        if mode == OCR_FORCE:
            return True
        if mode == OCR_SKIP:
            return False
        return not self.trustworthy or self.picture_share > _PICTURE_SHARE


def _is_bad(character: str) -> bool:
    if character == "\ufffd":
        return True
    category = unicodedata.category(character)
    return category in ("Co", "Cn") or (category == "Cc" and character not in "\r\n\t")


def read_text_layer(path: Path, index: int, dpi: int) -> PdfTextPage:
    """Page ``index`` (0-based) of the PDF at ``path``: its text layer and its pictures."""
    import pypdfium2
    import pypdfium2.raw as pdfium_c

    try:
        document = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as exc:
        raise TextLayerError(str(exc)) from exc
    try:
        page = document[index]
        # the page as it is shown: turned by its /Rotate, its crop box's origin at 0
        width_pt, height_pt = page.get_size()
        scale = dpi / _POINTS_PER_INCH
        size = (round(width_pt * scale), round(height_pt * scale))

        def to_pixels(x: float, y: float) -> tuple[int, int]:
            column, row = ctypes.c_int(), ctypes.c_int()
            pdfium_c.FPDF_PageToDevice(
                page.raw, 0, 0, size[0], size[1], 0, x, y, ctypes.byref(column), ctypes.byref(row)
            )
            return column.value, row.value

        text_page = page.get_textpage()
        count = text_page.count_chars()
        lines: list[LayerLine] = []
        current: list[tuple[str, tuple[float, float, float, float]]] = []
        visible = invisible = bad = counted = 0

        def close_line() -> None:
            if current:
                lines.append(_line(current, to_pixels))
                current.clear()

        for i in range(count):
            code = pdfium_c.FPDFText_GetUnicode(text_page.raw, i)
            character = chr(code) if 0 < code < 0x110000 else "\ufffd"
            if character in "\r\n":
                close_line()
                continue
            generated = pdfium_c.FPDFText_IsGenerated(text_page.raw, i) == 1
            box = text_page.get_charbox(i, loose=True)
            if current and not character.isspace() and _starts_new_line(current, box):
                close_line()
            if not generated and not character.isspace():
                counted += 1
                if pdfium_c.FPDFText_HasUnicodeMapError(text_page.raw, i) == 1 or _is_bad(
                    character
                ):
                    bad += 1
                text_object = pdfium_c.FPDFText_GetTextObject(text_page.raw, i)
                mode = pdfium_c.FPDFTextObj_GetTextRenderMode(text_object) if text_object else 0
                if mode == _INVISIBLE:
                    invisible += 1
                    continue
                visible += 1
            # loose boxes: the font's height, as PDF viewers and pdftotext select text
            current.append((character, box))
        close_line()
        text = "".join(line.text for line in lines)
        garbled = counted > 0 and (bad > _MAX_BAD_SHARE * counted or bool(_CID.search(text)))
        return PdfTextPage(
            size=size,
            dpi=dpi,
            lines=[line for line in lines if line.text.strip()] if visible else [],
            garbled=garbled,
            invisible=invisible > visible,
            picture_share=_picture_share(page, width_pt * height_pt),
        )
    finally:
        document.close()


def _starts_new_line(
    current: list[tuple[str, tuple[float, float, float, float]]],
    box: tuple[float, float, float, float],
) -> bool:
    """Whether a character lies below or above the line so far: PDFium does not always
    put a line break between two lines that a producer wrote in one text object."""
    inked = [previous for character, previous in current if not character.isspace()]
    if not inked:
        return False
    last = inked[-1]
    middle = (box[1] + box[3]) / 2
    return not last[1] <= middle <= last[3] or box[2] < last[0]


def _picture_share(page: Any, area: float) -> float:
    """Share of the page (``area``, in square points) that its images cover."""
    import pypdfium2.raw as pdfium_c

    covered = 0.0
    for picture in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,)):
        left, bottom, right, top = picture.get_bounds()
        covered += max(0.0, right - left) * max(0.0, top - bottom)
    return min(1.0, covered / area) if area > 0 else 0.0


def _line(
    characters: list[tuple[str, tuple[float, float, float, float]]],
    to_pixels: Callable[[float, float], tuple[int, int]],
) -> LayerLine:
    """A line of characters with their boxes (PDF page space) in the page image's pixels."""
    words: list[LayerWord] = []
    word: list[tuple[str, tuple[float, float, float, float]]] = []

    def close_word() -> None:
        if word:
            words.append(LayerWord(text="".join(c for c, _ in word), bbox=_pixels(word, to_pixels)))
            word.clear()

    for character, box in characters:
        if character.isspace():
            close_word()
            continue
        if word and unspaced(word[-1][0]) and unspaced(character):
            close_word()  # CJK is written without spaces: each character is a word
        word.append((character, box))
    close_word()
    inked = [(c, box) for c, box in characters if not c.isspace()]
    bbox = _pixels(inked, to_pixels) if inked else (0, 0, 0, 0)
    text = join_words(w.text for w in words)
    return LayerLine(text=text, bbox=bbox, words=tuple(words))


def _pixels(
    characters: list[tuple[str, tuple[float, float, float, float]]],
    to_pixels: Callable[[float, float], tuple[int, int]],
) -> BBox:
    # pypdfium2 gives each box as (left, bottom, right, top) in page space; a page turned
    # by a multiple of 90 degrees maps a box's corners to the corners of its pixel box
    left = min(box[0] for _, box in characters)
    bottom = min(box[1] for _, box in characters)
    right = max(box[2] for _, box in characters)
    top = max(box[3] for _, box in characters)
    (x0, y0), (x1, y1) = to_pixels(left, bottom), to_pixels(right, top)
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
