"""One page of a document as an image, so a worker never holds more than one.

PDF pages are rasterized one at a time by poppler (through pdf2image); TIFF
frames are read one at a time by Pillow.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import warnings
from typing import TYPE_CHECKING

import pdf2image
import pdf2image.exceptions
from PIL import Image, ImageOps

from ocrchat_server.engines.base import EngineError, on_white
from ocrchat_server.ingest.sniff import PDF, Document

if TYPE_CHECKING:
    from pathlib import Path

PDF_DPI = 300
"""Rasterizing resolution: what Tesseract is trained for."""
MAX_PAGE_SIDE = 10_000
"""Longest side in pixels of a rasterized PDF page: a poster is read at less than 300 dpi."""
_POINTS_PER_INCH = 72
_EXIF_ORIENTATION = 0x0112
_PAGE_SIZE = re.compile(r"([\d.]+) x ([\d.]+) pts")
_PLAIN_COLOUR_SPACES = (1, 2)
"""PDFium's DeviceGray and DeviceRGB."""
_LOWEST_SCAN_DPI = 70
"""Below this a picture is a thumbnail blown up to the page: rendered at 300 dpi instead
(72 and 96 dpi scans are read as they are)."""
_HIGHEST_SCAN_DPI = 1200
_SETPRIV = shutil.which("setpriv")
_SMALLEST_RENDERED_SIDE = 8
"""Pixels; a page's box of under 0.03 inch is a broken page, not one to read."""
EXIF_TURNED = "ocrchat-exif-turned"
"""Set in an image page's ``info`` when its EXIF orientation turned it: the page is not
shown as its file stores it."""


def open_page(
    path: Path, document: Document, index: int, *, timeout: float | None = None
) -> Image.Image:
    """Page ``index`` (0-based), decoded, with its resolution in ``info["dpi"]`` when known.

    ``timeout`` (seconds) bounds poppler's work on a PDF page: past it the rasterizer is
    killed and the page fails (a few kilobytes of nested forms can take it hours)."""
    try:
        if document.format == PDF:
            return _embedded_scan(path, index) or _rasterize_pdf_page(path, index, timeout)
        return _read_image_frame(path, index)
    except (pdf2image.exceptions.PDFPopplerTimeoutError, subprocess.TimeoutExpired) as exc:
        raise EngineError(
            f"Page {index + 1} took longer than {timeout:g} seconds to render, and was stopped."
        ) from exc
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
            turned = image.getexif().get(_EXIF_ORIENTATION, 1) != 1
            page = ImageOps.exif_transpose(image) or image
            if dpi:
                page.info["dpi"] = dpi
            if turned:
                page.info[EXIF_TURNED] = True
            return page


def _embedded_scan(path: Path, index: int) -> Image.Image | None:
    """A PDF page that is one picture covering the page and nothing else (what scanners
    write): that picture as it is stored, at its own resolution, instead of a rendering at
    300 dpi (a 200-dpi scan stays 200 dpi: less to read, nothing resampled). None for any
    other page, which poppler renders."""
    import pypdfium2
    import pypdfium2.raw as pdfium_c

    try:
        document = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError:
        return None
    try:
        page = document[index]
        if page.get_rotation():
            return None  # shown turned: poppler's rendering is the page as shown
        objects = list(page.get_objects(max_depth=1))
        if len(objects) != 1 or objects[0].type != pdfium_c.FPDF_PAGEOBJ_IMAGE:
            return None
        picture = objects[0]
        a, b, c, d, _, _ = picture.get_matrix().get()
        shown = page.get_cropbox()
        if b or c or a <= 0 or d <= 0 or not _covers(picture.get_bounds(), shown):
            return None  # turned, flipped, or not the whole page
        metadata = picture.get_metadata()
        width, _ = picture.get_px_size()
        simple = metadata.colorspace in _PLAIN_COLOUR_SPACES and metadata.bits_per_pixel in (
            1,
            8,
            24,
        )
        # plain grey and RGB pixels as stored; other colour spaces (CMYK, indexed, ICC)
        # through PDFium's colour conversion
        image: Image.Image = picture.get_bitmap(render=not simple).to_pil()
        if image.mode == "RGBA":
            image = on_white(image)
        dpi = width / ((shown[2] - shown[0]) / _POINTS_PER_INCH)
        if not _LOWEST_SCAN_DPI <= dpi <= _HIGHEST_SCAN_DPI:
            return None  # a thumbnail blown up, or a poster: rendered at a sane resolution
        image.info["dpi"] = (round(dpi), round(dpi))
        return image
    except pypdfium2.PdfiumError:
        return None
    finally:
        document.close()


def _covers(bounds: tuple[float, float, float, float], box: tuple[float, ...]) -> bool:
    """Whether a picture's bounds are the page's box, give or take a point."""
    return all(abs(edge - side) <= 1 for edge, side in zip(bounds, box, strict=True))


def _rasterize_pdf_page(path: Path, index: int, timeout: float | None) -> Image.Image:
    """The page as shown (its crop box, which ``pdfinfo`` sizes; poppler would draw the
    whole media box by default, and a small crop box over a huge media box made a 25,000
    px square) at 300 dpi, or less for a page over ``MAX_PAGE_SIDE``."""
    number = index + 1
    dpi = PDF_DPI
    seconds = None if timeout is None else max(1, round(timeout))
    info = pdf2image.pdfinfo_from_path(
        str(path),
        first_page=number,
        last_page=number,
        timeout=seconds,  # type: ignore[arg-type]  # pdf2image's hint omits its default, None
    )
    size = next((str(v) for k, v in info.items() if k.startswith("Page") and "size" in k), "")
    if match := _PAGE_SIZE.search(size):
        longest_inches = max(float(match[1]), float(match[2])) / _POINTS_PER_INCH
        if longest_inches * dpi > MAX_PAGE_SIDE:
            dpi = max(1, int(MAX_PAGE_SIDE / longest_inches))
    page = _render_with_poppler(path, number, dpi, timeout)
    if min(page.size) < _SMALLEST_RENDERED_SIDE:
        # poppler answers a page it cannot draw (absurd boxes) with a dot, not an error
        raise EngineError(
            f"Page {number} of the PDF rendered as an empty {page.width} x {page.height} "
            "image: its page boxes are broken."
        )
    if max(page.size) > MAX_PAGE_SIDE * 1.01:
        raise EngineError(f"Page {number} of the PDF rendered larger than its page size says.")
    page.info["dpi"] = (dpi, dpi)
    return page


def _render_with_poppler(path: Path, number: int, dpi: int, timeout: float | None) -> Image.Image:
    """Page ``number`` (1-based) drawn by ``pdftoppm`` as shown (its crop box), read from
    its output.

    pdftoppm is run here rather than through pdf2image, so that it dies with the worker
    that started it: util-linux's ``setpriv --pdeathsig`` (Debian's essential util-linux)
    gives it a parent-death signal. A worker killed by its time limit, a deleted job, the
    OOM killer or its server's death otherwise left a rasterizer drawing a bomb for hours,
    its parent gone. Past ``timeout`` seconds the rasterizer is killed here too.
    """
    command = ["pdftoppm", "-r", str(dpi), "-f", str(number), "-l", str(number), "-cropbox"]
    if _SETPRIV:
        command = [_SETPRIV, "--pdeathsig", "KILL", "--", *command]
    drawn = subprocess.run([*command, str(path)], capture_output=True, timeout=timeout, check=False)
    if drawn.returncode != 0 or not drawn.stdout:
        raise EngineError(f"Page {number} of the PDF could not be rendered.")
    return Image.open(io.BytesIO(drawn.stdout))
