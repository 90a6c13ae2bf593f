"""One page of a document as an image, so a worker never holds more than one.

PDF pages are rasterized one at a time by poppler (through pdf2image); TIFF
frames are read one at a time by Pillow.
"""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING

import pdf2image
import pdf2image.exceptions
from PIL import Image, ImageOps

from ocrchat_server.engines.base import EngineError
from ocrchat_server.ingest.sniff import PDF, Document

if TYPE_CHECKING:
    from pathlib import Path

PDF_DPI = 300
"""Rasterizing resolution: what Tesseract is trained for."""
MAX_PAGE_SIDE = 10_000
"""Longest side in pixels of a rasterized PDF page: a poster is read at less than 300 dpi."""
_POINTS_PER_INCH = 72
_PAGE_SIZE = re.compile(r"([\d.]+) x ([\d.]+) pts")


def open_page(path: Path, document: Document, index: int) -> Image.Image:
    """Page ``index`` (0-based), decoded, with its resolution in ``info["dpi"]`` when known."""
    try:
        if document.format == PDF:
            return _rasterize_pdf_page(path, index)
        return _read_image_frame(path, index)
    except (
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        Image.DecompressionBombError,
        pdf2image.exceptions.PDFInfoNotInstalledError,
        pdf2image.exceptions.PDFPageCountError,
        pdf2image.exceptions.PDFSyntaxError,
    ) as exc:
        raise EngineError(f"Page {index + 1} could not be decoded.") from exc


def _read_image_frame(path: Path, index: int) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(path) as image:
            if index:
                image.seek(index)
            image.load()
            dpi = image.info.get("dpi")
            # A camera's EXIF orientation is how people see the photo; read it that way.
            page = ImageOps.exif_transpose(image) or image
            if dpi:
                page.info["dpi"] = dpi
            return page


def _rasterize_pdf_page(path: Path, index: int) -> Image.Image:
    number = index + 1
    dpi = PDF_DPI
    info = pdf2image.pdfinfo_from_path(str(path), first_page=number, last_page=number)
    size = next((str(v) for k, v in info.items() if k.startswith("Page") and "size" in k), "")
    if match := _PAGE_SIZE.search(size):
        longest_inches = max(float(match[1]), float(match[2])) / _POINTS_PER_INCH
        if longest_inches * dpi > MAX_PAGE_SIDE:
            dpi = max(1, int(MAX_PAGE_SIDE / longest_inches))
    images = pdf2image.convert_from_path(
        str(path), dpi=dpi, first_page=number, last_page=number, thread_count=1
    )
    if not images:
        raise EngineError(f"Page {number} of the PDF could not be rendered.")
    page = images[0]
    page.info["dpi"] = (dpi, dpi)
    return page
