"""A page of a job's searchable PDF as a PNG, for the web app's job page: the upload
itself is gone once the job is done, and the PDF keeps each page as it was read."""

from __future__ import annotations

import io
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

PAGE_IMAGE_WIDTH = 1200
"""Pixels across: sharp at the width the job page shows a page, and a few hundred KB."""

# PDFium is not thread-safe, and the server renders pages in worker threads
_PDFIUM = threading.Lock()


def render_page_png(pdf: Path, position: int, *, width: int = PAGE_IMAGE_WIDTH) -> bytes:
    """Page ``position`` (0-based, in the PDF's own order) of ``pdf`` as PNG bytes, scaled
    to ``width`` pixels across."""
    import pypdfium2

    with _PDFIUM:
        document = pypdfium2.PdfDocument(pdf)
        try:
            page = document[position]
            try:
                bitmap = page.render(scale=width / page.get_width(), may_draw_forms=False)
                image = bitmap.to_pil()
            finally:
                page.close()
        finally:
            document.close()
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()
