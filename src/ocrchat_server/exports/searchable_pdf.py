"""The searchable PDF: each page image at its own size under an invisible text layer.

A worker writes one page's PDF while it still holds the page image; when the
job ends the pages are joined by ``qpdf`` into one file that is kept with the
result (the upload itself is gone by then). Where the upload is a single image
that is shown as stored (JPEG, PNG, TIFF), img2pdf embeds its own bytes (a
JPEG's, a PNG's compressed data, a TIFF's G4 fax data), and pikepdf lays the text
layer over it: nothing is decoded and compressed again (a 5 MB PNG page took
fpdf2 0.57 s). Other pages are drawn by fpdf2 from the page image.

Every word is placed on its own box: its line's height, its own left and
right edges (the glyphs are stretched to fit), so selecting, searching and
copying land on the words of the image. Each word is its own text run, in
logical order, which is what keeps right-to-left scripts readable when
copied. The text layer's font is never seen; it is embedded as a subset of the
glyphs used. It is DejaVu Sans where that has every character of the document
(Latin, Greek, Cyrillic and more), cut down to Latin, Greek and Cyrillic where those
are all (fpdf2 reads a whole font for every page a worker writes: 0.008 s for the cut,
0.032 s for all of DejaVu Sans), else GNU Unifont, which covers every script of
Unicode's basic plane (Arabic, Hebrew, CJK, Indic, Thai ...) but takes fpdf2 0.1 s.

A glyph's box as readers take it (the font's ascent to its descent) is the
line's box, one em high, as Unifont's is: a smaller em made ``pdftotext``
take the gaps between typewritten words for columns and break lines apart.
DejaVu Sans is used through a copy whose declared ascent and descent are
Unifont's, made once per machine.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import img2pdf
import pikepdf
from fontTools import subset
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import TextMode

from ocrchat_server.engines.base import Word

if TYPE_CHECKING:
    from PIL import Image

    from ocrchat_server.engines.base import PageReading

TEXT_LAYER_FONT = Path("/usr/share/fonts/opentype/unifont/unifont.otf")
"""Debian's fonts-unifont; scripts/setup-debian installs it."""
COMPACT_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
"""Debian's fonts-dejavu-core: the text layer's font where it has every character."""
ASSUMED_DPI = 300
"""For images that do not say their resolution: what scanners mostly produce."""
_POINTS_PER_INCH = 72
_JPEG_QUALITY = 85
_FONT_NAME = "text-layer"
# what img2pdf raises for a file it will not embed as it is (each its own Exception)
_IMG2PDF_REFUSALS = (
    img2pdf.AlphaChannelError,
    img2pdf.ExifOrientationError,
    img2pdf.ImageOpenError,
    img2pdf.JpegColorspaceError,
    img2pdf.NegativeDimensionError,
    img2pdf.PdfTooLargeError,
    img2pdf.UnsupportedColorspaceError,
)
_ASCENT = 0.875
"""Where the baseline sits in a text layer glyph's one-em box: Unifont's own metrics
(0.875 above, 0.125 below), given to DejaVu Sans too."""


class SearchablePdfError(RuntimeError):
    pass


def _embeddable(image: Image.Image, *, lossless: bool) -> Image.Image | io.BytesIO:
    """The page's picture for fpdf2: an uploaded image's pixels losslessly (greyscale kept
    grey); bilevel pages losslessly; renderings of PDF pages as JPEG."""
    if image.mode == "1" or (lossless and image.mode in ("L", "RGB")):
        return image
    if lossless:
        return image.convert("RGB")
    buffer = io.BytesIO()
    picture = image if image.mode in ("L", "RGB") else image.convert("RGB")
    picture.save(buffer, format="JPEG", quality=_JPEG_QUALITY)
    buffer.seek(0)
    return buffer


@attrs.frozen
class LayerFont:
    """A text layer font and where its glyphs sit, in units of the font size."""

    path: Path
    ascent: float
    """From the baseline up (hhea), as PDF readers take a glyph's box to reach."""
    height: float
    """Ascent plus descent: the size that makes a word's glyph box its line's height."""
    characters: frozenset[int]


@functools.cache
def layer_font(path: Path) -> LayerFont:
    """The font's metrics and the characters it has, read once per process."""
    with TTFont(str(path), lazy=True) as font:
        units = float(font["head"].unitsPerEm)
        ascent, descent = font["hhea"].ascent / units, font["hhea"].descent / units
        return LayerFont(
            path=path,
            ascent=ascent,
            height=ascent - descent,  # hhea's descent is below the baseline: negative
            characters=frozenset(font.getBestCmap()),
        )


def font_for(texts: Iterable[str]) -> LayerFont:
    """The smallest of the text layer fonts that has every character of ``texts``: DejaVu
    Sans' Latin, Greek and Cyrillic, all of DejaVu Sans, or Unifont."""
    characters = {ord(char) for text in texts for char in text}
    for font_file in (_common_font_file(), _compact_font_file()):
        if font_file is not None:
            font = layer_font(font_file)
            if characters <= font.characters:
                return font
    return layer_font(TEXT_LAYER_FONT)


@functools.cache
def _compact_font_file() -> Path | None:
    """DejaVu Sans declaring Unifont's ascent and descent (see above), or None without it."""
    return _derived_font("text-layer", _with_unifont_metrics)


@functools.cache
def _common_font_file() -> Path | None:
    """:func:`_compact_font_file` cut down to Latin, Greek and Cyrillic (1,200 of its 6,000
    glyphs): fpdf2 reads a whole font for every page it writes, which took 0.032 s a page
    for all of DejaVu Sans and takes 0.008 s for this."""
    return _derived_font("text-layer-common-1", _common_subset)  # -N: a change of _COMMON


def _with_unifont_metrics(font: TTFont) -> None:
    units = font["head"].unitsPerEm
    font["hhea"].ascent = round(units * _ASCENT)
    font["hhea"].descent = -round(units * (1 - _ASCENT))


def _common_subset(font: TTFont) -> None:
    _with_unifont_metrics(font)
    options = subset.Options()
    options.layout_features = []  # the layer's words are placed one by one, unshaped
    options.drop_tables += ["FFTM"]  # FontForge's timestamps, which fontTools cannot cut
    options.name_IDs = ["*"]
    options.notdef_outline = True
    cutter = subset.Subsetter(options)
    cutter.populate(unicodes=[code for first, last in _COMMON for code in range(first, last + 1)])
    cutter.subset(font)


_COMMON = (
    (0x20, 0x7E),  # ASCII
    (0xA0, 0x24F),  # Latin-1, Latin Extended-A and -B
    (0x370, 0x3FF),  # Greek
    (0x400, 0x4FF),  # Cyrillic
    (0x2000, 0x206F),  # punctuation: dashes, quotes, ellipsis
    (0x20A0, 0x20BF),  # currency signs
    (0x2100, 0x214F),  # letter-like symbols (No, TM)
    (0xFB00, 0xFB06),  # Latin ligatures (fi, fl)
)
"""The characters of :func:`_common_font_file`."""


def _derived_font(name: str, change: Callable[[TTFont], None]) -> Path | None:
    """DejaVu Sans changed by ``change``, or None without DejaVu Sans.

    Kept in a folder of this user's own under the temporary directory, named after the
    source font's size and time, so processes share it and a font update makes a new one.
    """
    try:
        source = COMPACT_FONT.stat()
    except OSError:
        return None
    folder = Path(tempfile.gettempdir()) / f"ocrchat-server-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    owned = folder.lstat()
    if folder.is_symlink() or owned.st_uid != os.getuid() or owned.st_mode & 0o077:
        return None  # not a folder of ours alone: Unifont then, never a planted font
    target = folder / f"{name}-{source.st_size}-{int(source.st_mtime)}.ttf"
    if not target.exists():
        with TTFont(str(COMPACT_FONT)) as font:
            change(font)
            partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
            font.save(str(partial))
        os.replace(partial, target)  # whole or not at all, whoever writes it too
    return target


def _new_pdf(size: tuple[float, float], title: str | None, font: LayerFont) -> FPDF:
    pdf = FPDF(unit="pt", format=size)
    pdf.set_creation_date(dt.datetime.now(dt.UTC))
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(0, 0, 0)
    if title:
        pdf.set_title(title)
    pdf.set_creator("ocrchat-server")
    pdf.add_font(_FONT_NAME, fname=str(font.path))
    return pdf


def write_page_pdf(
    reading: PageReading,
    path: Path,
    *,
    title: str | None = None,
    original: Path | None = None,
    lossless: bool = False,
) -> None:
    """One page: the image, with the reading's words invisible on top. ``original``: an
    image file (one frame, shown as stored) that is the page image as it is; ``lossless``:
    the image is an upload's, not a rendering."""
    dpi = reading.dpi or ASSUMED_DPI
    if original is not None:
        try:
            _write_over_upload(original, reading.image.size, reading.words, dpi, path, title)
            return
        except (*_IMG2PDF_REFUSALS, ValueError, TypeError, pikepdf.PdfError):
            # img2pdf turns down some files that Pillow reads (alpha, odd colour spaces,
            # a JPEG's own quirks): those are drawn from the page image below
            pass
    picture = _embeddable(reading.image, lossless=lossless)
    _page_of_words(reading.image.size, reading.words, dpi, title, picture=picture).output(str(path))


def _write_over_upload(
    original: Path,
    size: tuple[int, int],
    words: list[Word],
    dpi: int,
    path: Path,
    title: str | None,
) -> None:
    """The upload's own image bytes as the page (img2pdf), the words laid over it (pikepdf)."""
    picture = img2pdf.convert(
        str(original),
        layout_fun=img2pdf.get_fixed_dpi_layout_fun((dpi, dpi)),
        rotation=img2pdf.Rotation.none,  # the worker passes only pages shown as stored
    )
    layer = _page_of_words(size, words, dpi, title)
    with (
        pikepdf.open(io.BytesIO(picture)) as document,
        pikepdf.open(io.BytesIO(bytes(layer.output()))) as text,
    ):
        document.pages[0].add_overlay(text.pages[0], None)  # over the whole page
        document.docinfo["/Creator"] = "ocrchat-server"
        if title:
            document.docinfo["/Title"] = title
        document.save(path)


def words_record(reading: PageReading, *, dpi: int) -> dict[str, Any]:
    """An OCRed page of a PDF upload as the job keeps it until it ends: the size of its
    image, the resolution it was read at, and its words, for :func:`graft_text_layer`."""
    return {
        "size": list(reading.image.size),
        "dpi": dpi,
        "words": [[w.text, list(w.bbox), list(w.line_box)] for w in reading.words],
    }


def write_page_pdf_from_words(
    image: Image.Image, record: dict[str, Any], path: Path, *, title: str | None = None
) -> None:
    """A page PDF of ours (the page's rendering under its words) from its words record, for
    a PDF upload the layer could not be grafted onto."""
    picture = _embeddable(image, lossless=False)
    page = _page_of_words(image.size, _words(record), int(record["dpi"]), title, picture=picture)
    page.output(str(path))


def _page_of_words(
    size: tuple[int, int],
    words: list[Word],
    dpi: int,
    title: str | None,
    *,
    picture: Image.Image | io.BytesIO | None = None,
) -> FPDF:
    """A one-page document of an image's size (pixels at ``dpi``) with the words on it,
    invisible, over ``picture`` when there is one."""
    scale = _POINTS_PER_INCH / dpi
    width, height = size[0] * scale, size[1] * scale
    font = font_for(word.text for word in words)
    pdf = _new_pdf((width, height), title, font)
    pdf.add_page()
    if picture is not None:
        pdf.image(picture, x=0, y=0, w=width, h=height)
    _place_words(pdf, words, scale, font)
    return pdf


def _words(data: dict[str, Any]) -> list[Word]:
    return [Word(text=t, bbox=tuple(b), line_box=tuple(lb)) for t, b, lb in data["words"]]


def graft_text_layer(
    upload: Path,
    pages: Mapping[int, Callable[[], dict[str, Any]]],
    path: Path,
    *,
    title: str | None = None,
) -> None:
    """The upload with an invisible text layer on the pages in ``pages`` (0-based page
    index: a loader of its :func:`words_record`), as ocrmypdf does: every page keeps its own
    images, vectors and text as they are. The text layer is one document, so its font is
    embedded once.

    Each page's words are loaded when they are needed, twice (the characters for the
    font, then the words for the page), and dropped after: a 300-page job's records held
    at once took the server some 20 MB (145 words a page), on top of the layer document.
    """
    order = sorted(pages)
    characters: set[str] = set()
    for index in order:
        characters.update(*(text for text, _, _ in pages[index]()["words"]))
    font = font_for(characters)
    pdf: FPDF | None = None
    for index in order:
        data = pages[index]()
        scale = _POINTS_PER_INCH / int(data["dpi"])
        size = (data["size"][0] * scale, data["size"][1] * scale)
        if pdf is None:
            pdf = _new_pdf(size, title, font)
        # the page as the upload shows it (its /Rotate applied): qpdf fits the layer on it
        pdf.add_page(format=size)
        _place_words(pdf, _words(data), scale, font)
    if pdf is None:
        raise SearchablePdfError("no page to graft a text layer on")
    layer = path.with_name(f"{path.name}.layer.pdf")
    pdf.output(str(layer))
    try:
        targets = ",".join(str(index + 1) for index in order)
        _qpdf([str(upload), "--overlay", str(layer), f"--to={targets}", "--", str(path)])
    finally:
        layer.unlink(missing_ok=True)


def _place_words(pdf: FPDF, words: list[Word], scale: float, font: LayerFont) -> None:
    """The words, invisible, each stretched over its own box on the current page: the
    glyphs' box (ascent to descent) is the line's height."""
    pdf.text_mode = TextMode.INVISIBLE
    for word in words:
        line_left, line_top, line_right, line_bottom = word.line_box
        # Tesseract's word boxes can stick out of their line's box by a pixel or two;
        # the text layer keeps to the line, the box the API reports
        left, right = max(word.bbox[0], line_left), min(word.bbox[2], line_right)
        size = max((line_bottom - line_top) * scale / font.height, 1.0)
        pdf.set_font(_FONT_NAME, size=size)
        pdf.set_stretching(100)
        natural = pdf.get_string_width(word.text)
        box_width = (right - left) * scale
        if natural > 0 and box_width > 0:
            pdf.set_stretching(100 * box_width / natural)
        pdf.text(left * scale, line_top * scale + font.ascent * size, word.text)


@attrs.frozen
class PdfPage:
    """One page of the searchable PDF: a page PDF of ours, or a page of the upload kept as it
    is (read from its own text layer, it needs no text layer of ours)."""

    pdf: Path
    number: int = 1
    """1-based page number in ``pdf``."""
    ours: bool = True


def join_pages(pages: list[PdfPage], path: Path, *, title: str | None = None) -> None:
    """One PDF of the pages, in order.

    qpdf copies page by page outside our process's memory, and keeps its first
    input's document information: our page PDFs carry the title; where pages of
    the upload are kept, the first input is a blank page of ours carrying the
    title, of which no page is kept.
    """
    if all(page.ours for page in pages):
        if len(pages) == 1:
            pages[0].pdf.replace(path)
            return
        _qpdf([str(pages[0].pdf), "--pages", *(str(page.pdf) for page in pages), "--", str(path)])
        return
    info = FPDF(unit="pt", format=(72, 72))
    info.set_creation_date(dt.datetime.now(dt.UTC))
    if title:
        info.set_title(title)
    info.set_creator("ocrchat-server")
    info.add_page()
    donor = path.with_name(f"{path.name}.info.pdf")
    info.output(str(donor))
    selection = [part for page in pages for part in (str(page.pdf), str(page.number))]
    try:
        _qpdf([str(donor), "--pages", *selection, "--", str(path)])
    finally:
        donor.unlink(missing_ok=True)


def _qpdf(arguments: list[str]) -> None:
    done = subprocess.run(["qpdf", *arguments], capture_output=True, text=True, check=False)
    if done.returncode not in (0, 3):  # 3: finished with warnings
        raise SearchablePdfError(f"qpdf failed: {done.stderr.strip()[:200]}")
