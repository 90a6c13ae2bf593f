"""Test documents made on the spot: text rendered into images and PDFs.

Rendered pages have known text, so a test can check what OCR gives back.
Real scans with third-party ground truth are in ``tests/data`` (attributions in
its README), copied from the development corpus so that a clone alone runs them.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path
from types import ModuleType

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
DEVANAGARI_FONT = Path("/usr/share/fonts/truetype/lohit-devanagari/Lohit-Devanagari.ttf")
TEST_DATA = Path(__file__).resolve().parent / "data"


def render_page(
    paragraphs: list[list[str]],
    *,
    size: tuple[int, int] = (1654, 1169),
    font_size: int = 44,
    heading: str | None = None,
    font_path: Path = FONT,
) -> Image.Image:
    """A white page with black text: an optional big heading, then paragraphs of lines.

    Text is laid out by Pillow's raqm (HarfBuzz, FriBiDi), so Arabic is shaped.
    """
    page = Image.new("L", size, 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(font_path), font_size)
    y = 90
    if heading:
        big = ImageFont.truetype(str(font_path), font_size * 2)
        draw.text((100, y), heading, font=big, fill=0)
        y += font_size * 4
    for paragraph in paragraphs:
        for line in paragraph:
            draw.text((100, y), line, font=font, fill=0)
            y += int(font_size * 1.5)
        y += font_size * 2  # a paragraph gap
    return page


def image_bytes(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    if fmt in ("JPEG", "BMP", "WEBP") and image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    image.save(buffer, format=fmt, dpi=(150, 150), **options)
    return buffer.getvalue()


def multipage_tiff(images: list[Image.Image]) -> bytes:
    buffer = io.BytesIO()
    images[0].save(buffer, format="TIFF", save_all=True, append_images=images[1:], dpi=(150, 150))
    return buffer.getvalue()


def text_pdf(pages: list[list[str]], *, compress: bool = True) -> bytes:
    """A PDF whose pages hold the given lines as real (vector) text: born digital."""
    pdf = FPDF(format="A4")
    pdf.set_compression(compress)
    pdf.add_font("DejaVu", fname=str(FONT))
    pdf.set_font("DejaVu", size=16)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.multi_cell(0, 12, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def numbered_pdf(count: int) -> bytes:
    return text_pdf(
        [
            [f"Page {n} of the quarterly report.", f"The amount due is {100 + n} dollars."]
            for n in range(1, count + 1)
        ]
    )


def scanned_pdf(scans: list[Path], path: Path) -> Path:
    """Scans in a PDF as a scanner writes one: a page each, sized by the scan's resolution
    (300 dpi where it declares none), its image's bytes as they are (fpdf2 embeds a JPEG
    file unchanged)."""
    pdf = FPDF(unit="pt")
    for scan in scans:
        with Image.open(scan) as image:
            dpi = (image.info.get("dpi") or (300, 300))[0] or 300
            size = (image.width * 72 / dpi, image.height * 72 / dpi)
        pdf.add_page(format=size)
        pdf.image(str(scan), x=0, y=0, w=size[0], h=size[1])
    pdf.output(str(path))
    return path


def corpus_scorer() -> ModuleType:
    """The corpus's own CER / WER / BoW-F1 scorer (a copy in ``tests/data``)."""
    spec = importlib.util.spec_from_file_location("corpus_score", TEST_DATA / "score.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render_bomb_pdf(*, pages: int = 2, copies: int = 10, depth: int = 5) -> bytes:
    """A few kilobytes of PDF that take poppler a long time to draw: a form that draws the
    form below it ``copies`` times, ``depth`` levels deep, over a stroked path (10**5 paths
    on every page at the defaults, some twenty minutes at 300 dpi; each level more is ten
    times that). Text-free, so every page goes to the rasterizer."""
    import pikepdf

    pdf = pikepdf.new()
    path = b"".join(b"%d %d l " % (17 * i % 612, 29 * i % 792) for i in range(1, 60))
    form = pikepdf.Stream(pdf, b"8 w 0 0 m " + path + b"S")
    form.Type, form.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
    form.BBox = [0, 0, 612, 792]
    for _ in range(depth):
        drawn = b"".join(b"q 1 0 0 1 %d %d cm /F Do Q " % (i, i) for i in range(copies))
        outer = pikepdf.Stream(pdf, drawn)
        outer.Type, outer.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
        outer.BBox = [0, 0, 612, 792]
        outer.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(F=form))
        form = outer
    for _ in range(pages):
        page = pdf.add_blank_page(page_size=(612, 792))
        page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(F=form))
        page.Contents = pikepdf.Stream(pdf, b"/F Do")
    buffer = io.BytesIO()
    pdf.save(buffer, compress_streams=True)
    return buffer.getvalue()


def cropped_pdf(*, media_inches: float, crop_inches: float = 1) -> bytes:
    """One page whose crop box (what viewers show, and ``pdfinfo`` sizes) is a small corner
    of a huge media box."""
    import pikepdf

    pdf = pikepdf.new()
    side = media_inches * 72
    page = pdf.add_blank_page(page_size=(side, side))
    page.CropBox = [0, 0, crop_inches * 72, crop_inches * 72]
    page.Contents = pikepdf.Stream(pdf, b"0 0 0 rg 10 10 40 40 re f")
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()
