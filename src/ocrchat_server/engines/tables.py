"""Tables on the cpu tier (the extract-tables tool): img2table finds them, Tesseract reads them;
and tables as Markdown, for both tiers.

img2table finds ruled tables from their lines and unruled ones from the
alignment of their text, and gives each cell's box (a merged cell's box
repeats over every place it spans). Its own OCR step runs Tesseract over the
whole page, which skips text inside ruled cells (Tesseract's layout analysis
takes a grid for a picture), so each cell is read on its own instead: cropped
inside its rules, with a white margin, as one block of text.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import numpy
from PIL import ImageOps

from ocrchat.models import Table
from ocrchat_server.engines import tesseract_api

if TYPE_CHECKING:
    from PIL import Image

    from ocrchat.models import BBox

_MAX_RULE = 8
"""The widest rule trimmed off a cell's edge, in pixels."""
_RULE_INK = 0.5
"""Share of dark pixels that makes a cell's edge row or column part of a rule."""
_MARGIN = 10
"""White added around a cell crop: Tesseract reads text that touches the edge poorly."""


def find_tables(image: Image.Image, models: str, dpi: int | None = None) -> list[Table]:
    """Every table on the page, with its cells' text row by row."""
    # OpenCV, under img2table, adds some 50 MB to a process: loaded by the first table job
    from img2table.document import Image as TableDocument

    png = io.BytesIO()
    image.convert("RGB").save(png, format="PNG")
    document = TableDocument(src=png.getvalue(), detect_rotation=False)
    found = document.extract_tables(implicit_rows=True, borderless_tables=True)
    tables: list[Table] = []
    for extracted in found:
        read: dict[BBox, str] = {}
        rows: list[list[str]] = []
        for row in extracted.content.values():
            cells: list[str] = []
            for cell in row:
                box = _int_box(cell.bbox)
                if box in read:
                    cells.append("")  # the rest of a merged cell: its text is in its first place
                    continue
                read[box] = _read_cell(image, box, models, dpi)
                cells.append(read[box])
            rows.append(cells)
        rows = [row for row in rows if any(row)]
        if rows:
            tables.append(Table(rows=rows, bbox=_int_box(extracted.bbox)))
    return tables


def _int_box(box: Any) -> BBox:
    """img2table's box as plain ints: on some pages its coordinates are numpy integers,
    which the JSON encoder refuses (the job then failed with "could not be processed")."""
    return (int(box.x1), int(box.y1), int(box.x2), int(box.y2))


def _read_cell(image: Image.Image, box: BBox, models: str, dpi: int | None) -> str:
    crop = _without_rules(image.crop(box).convert("L"))
    if crop.width < 2 or crop.height < 2:
        return ""
    padded = ImageOps.expand(crop, border=_MARGIN, fill=255)
    text = tesseract_api.read_text(padded, models, dpi=dpi, psm=tesseract_api.SINGLE_BLOCK)
    return " ".join(text.split())


def _without_rules(cell: Image.Image) -> Image.Image:
    """The cell without the rules along its edges, which Tesseract reads as ``|`` or ``_``.

    A ruled cell's box runs along its lines; an unruled cell's box hugs its text,
    so only edges that are mostly ink are cut, never letters.
    """
    ink = numpy.asarray(cell) < 128
    top, bottom, left, right = 0, ink.shape[0], 0, ink.shape[1]
    while top < min(_MAX_RULE, bottom - 1) and ink[top, left:right].mean() > _RULE_INK:
        top += 1
    while (
        bottom > max(ink.shape[0] - _MAX_RULE, top + 1)
        and ink[bottom - 1, left:right].mean() > _RULE_INK
    ):
        bottom -= 1
    while left < min(_MAX_RULE, right - 1) and ink[top:bottom, left].mean() > _RULE_INK:
        left += 1
    while (
        right > max(ink.shape[1] - _MAX_RULE, left + 1)
        and ink[top:bottom, right - 1].mean() > _RULE_INK
    ):
        right -= 1
    # a rule drawn with anti-aliasing leaves a grey fringe: one pixel more where one was cut
    top += top > 0
    left += left > 0
    bottom -= bottom < ink.shape[0]
    right -= right < ink.shape[1]
    return cell.crop((left, top, right, bottom))


def markdown_table(rows: list[list[str]]) -> str:
    """Rows as a Markdown table, the first row as its header."""
    if not rows:
        return ""

    def line(cells: list[str]) -> str:
        escaped = [cell.replace("|", "\\|").replace("\n", " ") for cell in cells]
        return "| " + " | ".join(escaped) + " |"

    header, *body = rows
    return "\n".join([line(header), line(["---"] * len(header)), *(line(row) for row in body)])
