"""What an upload is, from its bytes alone (never its name), and how many pages it has."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import attrs
import pdf2image
import pdf2image.exceptions
from PIL import Image, UnidentifiedImageError

if TYPE_CHECKING:
    from pathlib import Path

PDF = "pdf"
JPEG = "jpeg"
# Pillow's format names of the images the API takes. MPO is how Pillow names
# a JPEG from a camera that stores a second (preview) frame.
IMAGE_FORMATS = {
    "PNG": "png",
    "JPEG": JPEG,
    "MPO": JPEG,
    "WEBP": "webp",
    "GIF": "gif",
    "BMP": "bmp",
    "TIFF": "tiff",
}
_SUPPORTED = "PNG, JPEG, WEBP, GIF, BMP, TIFF or PDF"
# The PDF header may follow some junk; readers look for it in the first kilobyte.
_PDF_HEADER_WINDOW = 1024
# how the image formats above begin (PNG, JPEG, GIF, BMP, TIFF both ways, RIFF for WEBP)
_IMAGE_MAGIC = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
    b"RIFF",
)


class UnreadableDocumentError(ValueError):
    """The upload is not a document we can read. The message is for the user."""

    code = "unreadable_file"


class TooManyPixelsError(UnreadableDocumentError):
    """An image page is over the server's pixel cap."""

    code = "too_many_pixels"


@attrs.frozen
class Document:
    format: str
    """``pdf``, ``png``, ``jpeg``, ``webp``, ``gif``, ``bmp`` or ``tiff``."""
    page_count: int


def sniff_document(path: Path, *, max_pixels: int | None = None) -> Document:
    """Identify the file and count its pages without decoding them.

    Every TIFF frame is a page; the other image formats are one page (the
    first frame of an animated GIF or WEBP). A PDF's pages come from its
    page tree through poppler's ``pdfinfo``. An image page over ``max_pixels``
    is refused.

    An image's magic bytes at offset 0 win over a PDF header further in, as
    libmagic decides: a PNG may carry ``%PDF-`` in a text chunk and is still a
    PNG. A PDF header is looked for in the first kilobyte, where readers find
    it after junk.
    """
    with path.open("rb") as file:
        head = file.read(_PDF_HEADER_WINDOW)
    if not head:
        raise UnreadableDocumentError("The file is empty.")
    if not head.startswith(_IMAGE_MAGIC) and b"%PDF-" in head:
        return _sniff_pdf(path)
    return _sniff_image(path, max_pixels)


def _sniff_pdf(path: Path) -> Document:
    try:
        info = pdf2image.pdfinfo_from_path(str(path))
    except (pdf2image.exceptions.PDFPageCountError, pdf2image.exceptions.PDFSyntaxError) as exc:
        raise UnreadableDocumentError(
            "The PDF could not be read: it is damaged or password-protected."
        ) from exc
    pages = int(info.get("Pages", 0))
    if pages < 1:
        raise UnreadableDocumentError("The PDF has no pages.")
    return Document(format=PDF, page_count=pages)


def _sniff_image(path: Path, max_pixels: int | None) -> Document:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                kind = IMAGE_FORMATS.get(image.format or "")
                if kind is None:
                    raise UnreadableDocumentError(
                        f"{image.format} images are not supported: send {_SUPPORTED}."
                    )
                pages = int(getattr(image, "n_frames", 1)) if kind == "tiff" else 1
                if max_pixels is not None:
                    _check_pixels(image, pages, max_pixels)
                image.verify()
    except UnreadableDocumentError:
        raise
    except UnidentifiedImageError as exc:
        raise UnreadableDocumentError(
            f"The file is not a supported document: send {_SUPPORTED}."
        ) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UnreadableDocumentError("The image has too many pixels to process.") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise UnreadableDocumentError("The image is damaged and could not be read.") from exc
    return Document(format=kind, page_count=pages)


def _check_pixels(image: Image.Image, pages: int, max_pixels: int) -> None:
    """Refuse a page over ``max_pixels`` from the headers alone (each TIFF frame's own)."""
    for index in range(pages):
        if index:
            image.seek(index)
        width, height = image.size
        if width * height > max_pixels:
            where = f"Page {index + 1} of the file" if pages > 1 else "The image"
            raise TooManyPixelsError(
                f"{where} is {width} x {height} pixels; this server reads at most "
                f"{max_pixels / 1e6:g} million pixels per page. Scale it down."
            )
    if pages > 1:
        image.seek(0)
