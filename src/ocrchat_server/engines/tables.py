"""Tables on the cpu tier (the extract-tables tool): img2table finds them, Tesseract reads them.

img2table finds ruled tables from their lines and unruled ones from the
alignment of their text, and gives each cell's box (a merged cell's box
repeats over every place it spans). Its own OCR step runs Tesseract over the
whole page, which skips text inside ruled cells (Tesseract's layout analysis
takes a grid for a picture), so each cell is read on its own instead: cropped
inside its rules, with a white margin, as one block of text.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytesseract
from img2table.document import Image as TableDocument
from PIL import ImageOps

from ocrchat.models import Table

if TYPE_CHECKING:
    from PIL import Image

    from ocrchat.models import BBox

_RULE_INSET = 4
"""Pixels cut from each side of a cell so its rules are not read as ``|`` or ``_``."""
_MARGIN = 10
"""White added around a cell crop: Tesseract reads text that touches the edge poorly."""


def find_tables(image: Image.Image, models: str, config: str = "") -> list[Table]:
    """Every table on the page, with its cells' text row by row."""
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
                box = (cell.bbox.x1, cell.bbox.y1, cell.bbox.x2, cell.bbox.y2)
                if box in read:
                    cells.append("")  # the rest of a merged cell: its text is in its first place
                    continue
                read[box] = _read_cell(image, box, models, config)
                cells.append(read[box])
            rows.append(cells)
        rows = [row for row in rows if any(row)]
        if rows:
            box = extracted.bbox
            tables.append(Table(rows=rows, bbox=(box.x1, box.y1, box.x2, box.y2)))
    return tables


def _read_cell(image: Image.Image, box: BBox, models: str, config: str) -> str:
    left, top, right, bottom = box
    if right - left <= 2 * _RULE_INSET or bottom - top <= 2 * _RULE_INSET:
        return ""
    crop = image.crop(
        (left + _RULE_INSET, top + _RULE_INSET, right - _RULE_INSET, bottom - _RULE_INSET)
    )
    if crop.mode not in ("L", "RGB"):
        crop = crop.convert("RGB")
    padded = ImageOps.expand(crop, border=_MARGIN, fill="white")
    text = pytesseract.image_to_string(padded, lang=models, config=f"--psm 6 {config}")
    return " ".join(text.split())
