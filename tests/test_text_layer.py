"""PDFs with a text layer are read, not OCRed: page by page, exact, from the PDF itself.

PDFs from two producers (fpdf2 and reportlab); a text layer whose ToUnicode map
is gone; scans with an invisible OCR layer; and pages that mix both.
"""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from fpdf import FPDF
from fpdf.enums import TextMode
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from tests.conftest import Server
from tests.documents import FONT, render_page, text_pdf
from tests.test_api import submit

LINES = [
    ["Quarterly report of the harbour authority.", "Cargo landed rose by 12 per cent."],
    ["Übersicht: Straße, Größe und Maße stimmen.", "Naïve café owners paid 1,250.00 EUR."],
]


def pdftotext(pdf: bytes, tmp_path: Path) -> list[str]:
    """poppler's text of each page."""
    path = tmp_path / "in.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [page for page in text.split("\f")][: len(LINES)]


def reportlab_pdf(pages: list[list[str]]) -> bytes:
    buffer = io.BytesIO()
    pdfmetrics.registerFont(TTFont("DejaVu", str(FONT)))
    drawing = canvas.Canvas(buffer, pagesize=A4)
    for lines in pages:
        drawing.setFont("DejaVu", 14)
        for row, line in enumerate(lines):
            drawing.drawString(72, 760 - row * 24, line)
        drawing.showPage()
    drawing.save()
    return buffer.getvalue()


def squashed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("producer", ["fpdf2", "reportlab"])
def test_a_born_digital_pdf_gives_its_own_text(
    server: Server, tmp_path: Path, producer: str
) -> None:
    pdf = text_pdf(LINES) if producer == "fpdf2" else reportlab_pdf(LINES)
    job = submit(server, pdf, f"{producer}.pdf").json()

    assert job["status"] == "done"
    assert job["ocr"] == "auto"
    for page, expected in zip(job["pages"], pdftotext(pdf, tmp_path), strict=True):
        assert page["source"] == "text_layer"
        assert page["engine"] == "text_layer"
        assert squashed(page["text"]) == squashed(expected)
        assert {block["engine"] for block in page["blocks"]} == {"text_layer"}
        assert all(block["confidence"] == 1.0 for block in page["blocks"])
        # boxes in pixels of the page at 300 dpi, like an OCRed page of the same file
        assert (page["width"], page["height"]) == (2480, 3508)
        first = page["blocks"][0]
        assert 0 < first["bbox"][0] < first["bbox"][2] < page["width"]
        assert first["bbox"][1] < page["height"] / 4


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_boxes_of_a_turned_page_lie_on_its_text_as_shown(
    server: Server, tmp_path: Path, turn: int
) -> None:
    """A page with /Rotate (landscape pages often have one) is shown turned: its boxes are
    on the page as poppler renders it, not on the page before its turn."""
    upright = tmp_path / "upright.pdf"
    upright.write_bytes(reportlab_pdf(LINES[:1]))
    turned = tmp_path / "turned.pdf"
    subprocess.run(["qpdf", f"--rotate=+{turn}:1", str(upright), str(turned)], check=True)
    job = submit(server, turned.read_bytes(), "turned.pdf").json()

    page = job["pages"][0]
    assert page["source"] == "text_layer"
    subprocess.run(
        ["pdftoppm", "-r", "300", "-gray", "-singlefile", str(turned), str(tmp_path / "shown")],
        check=True,
    )
    with Image.open(tmp_path / "shown.pgm") as shown:
        # poppler rounds a page's pixel size up, we round it: a pixel apart at most
        assert abs(shown.width - page["width"]) <= 1
        assert abs(shown.height - page["height"]) <= 1
        ink = shown.point(lambda value: 255 if value < 128 else 0)
        for block in page["blocks"]:
            inside = ink.crop(tuple(block["bbox"])).getbbox()
            assert inside is not None, block  # the box holds the line's ink
            # ... all of it: the ink's own box is the line box, give or take a few pixels
            x0, y0, x1, y1 = block["bbox"]
            assert inside[2] - inside[0] >= 0.9 * (x1 - x0) or inside[3] - inside[1] >= 0.9 * (
                y1 - y0
            ), (block["bbox"], inside)
    total = ink.getbbox()
    assert total is not None
    boxes = [block["bbox"] for block in page["blocks"]]
    union = (
        min(b[0] for b in boxes), min(b[1] for b in boxes),
        max(b[2] for b in boxes), max(b[3] for b in boxes),
    )  # fmt: skip
    assert all(abs(a - b) <= 25 for a, b in zip(union, total, strict=True)), (union, total)


def test_the_text_layer_pdf_download_is_the_original_page(server: Server, tmp_path: Path) -> None:
    pdf = text_pdf(LINES)
    job = submit(server, pdf, "report.pdf").json()
    download = server.client.get(
        f"/api/v1/ocr/{job['uuid']}/download/?format=pdf", headers=server.headers()
    )
    assert download.status_code == 200
    assert pdftotext(download.content, tmp_path) == pdftotext(pdf, tmp_path)


def without_tounicode(pdf: bytes) -> bytes:
    """The same PDF with every font's ToUnicode map unlinked (bytes kept the same length)."""
    broken, count = re.subn(rb"/ToUnicode \d+ 0 R", lambda m: b" " * len(m[0]), pdf)
    assert count
    return broken


def test_a_broken_tounicode_map_is_caught_and_the_page_ocred(server: Server) -> None:
    # uncompressed, so that the font dictionaries can be edited as bytes
    pdf = without_tounicode(text_pdf(LINES[:1], compress=False))
    page = submit(server, pdf, "broken.pdf").json()["pages"][0]

    assert page["source"] == "ocr"
    assert "harbour authority" in page["text"]
    assert "Cargo landed rose by 12 per cent" in page["text"]


def typed_pdf() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", fname=str(FONT))
    pdf.set_font("DejaVu", size=16)
    return pdf


def add_picture(pdf: FPDF, lines: list[str], size: tuple[int, int], place: tuple[int, ...]) -> None:
    """A picture of ``lines`` (``size`` pixels) at ``place`` (x, y, w, h in mm)."""
    picture = render_page([lines], size=size, font_size=60)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    x, y, w, h = place
    pdf.image(buffer, x=x, y=y, w=w, h=h)


A4_SCAN = (2480, 3508)
WHOLE_PAGE = (0, 0, 210, 297)


def scan_page_pdf(image_lines: list[str], *, invisible_text: str | None = None) -> FPDF:
    """A PDF page that is one picture of text (a scan), optionally under invisible text."""
    pdf = typed_pdf()
    pdf.add_page()
    add_picture(pdf, image_lines, A4_SCAN, WHOLE_PAGE)
    if invisible_text:
        pdf.set_font("DejaVu", size=14)
        pdf.text_mode = TextMode.INVISIBLE
        pdf.text(20, 20, invisible_text)
    return pdf


def test_a_mixed_pdf_is_read_page_by_page(server: Server) -> None:
    pdf = typed_pdf()
    pdf.add_page()
    pdf.multi_cell(0, 12, "The first page is typed into the PDF.")
    pdf.add_page()
    add_picture(pdf, ["The second page is a scanned letter."], A4_SCAN, WHOLE_PAGE)

    job = submit(server, bytes(pdf.output()), "mixed.pdf").json()

    first, second = job["pages"]
    assert first["source"] == "text_layer"
    assert first["text"] == "The first page is typed into the PDF."
    assert second["source"] == "ocr"
    assert "second page is a scanned letter" in second["text"]
    # the searchable PDF: the typed page as it was, the scan under our text layer
    download = server.client.get(
        f"/api/v1/ocr/{job['uuid']}/download/?format=pdf", headers=server.headers()
    )
    searched = subprocess.run(
        ["pdftotext", "-", "-"], input=download.content, capture_output=True, check=True
    ).stdout.decode()
    typed, scanned = searched.split("\f")[:2]
    assert "The first page is typed into the PDF." in typed
    assert "second page is a scanned letter" in scanned
    info = subprocess.run(
        ["pdfinfo", "-"], input=download.content, capture_output=True, check=True
    ).stdout.decode()
    assert "mixed.pdf" in info


def test_an_invisible_ocr_layer_is_not_trusted(server: Server) -> None:
    pdf = scan_page_pdf(
        ["A scanned page with its own words."], invisible_text="W0rds 0f s0me other OCR"
    )
    page = submit(server, bytes(pdf.output()), "ocred.pdf").json()["pages"][0]
    assert page["source"] == "ocr"
    assert "scanned page with its own words" in page["text"]
    assert "0f" not in page["text"]


def test_text_and_a_picture_of_text_on_one_page_are_both_read_once(server: Server) -> None:
    pdf = typed_pdf()
    pdf.add_page()
    pdf.multi_cell(0, 12, "Typed caption above the picture.")
    add_picture(pdf, ["Words inside the pasted picture."], (1600, 600), (20, 80, 160, 60))

    page = submit(server, bytes(pdf.output()), "figure.pdf").json()["pages"][0]

    assert page["source"] == "text_layer+ocr"
    assert page["text"].count("Typed caption above the picture.") == 1
    assert "Words inside the pasted picture" in page["text"]
    engines = {block["engine"] for block in page["blocks"]}
    assert "text_layer" in engines
    assert engines - {"text_layer"}


def test_ocr_force_and_skip(server: Server) -> None:
    forced = submit(server, text_pdf(LINES[:1]), "report.pdf", ocr="force").json()
    assert forced["ocr"] == "force"
    assert forced["pages"][0]["source"] == "ocr"
    assert "harbour authority" in forced["pages"][0]["text"]

    scan = bytes(scan_page_pdf(["Nothing typed here."]).output())
    skipped = submit(server, scan, "scan.pdf", ocr="skip").json()
    assert skipped["pages"][0]["source"] == "text_layer"
    assert skipped["pages"][0]["text"] == ""
